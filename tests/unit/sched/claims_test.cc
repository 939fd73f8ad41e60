// Claims keeps an exact "state minus this pass's claims" view at O(1) per
// claim; checked against a brute-force count over random claim sequences.
#include "sched/claims.h"

#include <gtest/gtest.h>

#include <set>

#include "core/rng.h"
#include "sched/placement.h"
#include "test_cluster.h"

namespace stargate::sched {
namespace {

int64_t BruteForce(const ClusterState& s, const Claims& c, PoolId p, int g) {
  const PoolState& pool = s.pool(p);
  int64_t n = 0;
  for (uint32_t i = 0; i < pool.num_nodes; ++i) {
    const uint32_t node = pool.first_node + i;
    if (s.IsUp(NodeId(node)) && s.FreeOn(NodeId(node)) - c.On(node) >= std::max(g, 1)) ++n;
  }
  return n;
}

// Blocks of `level` with at least `c` whole free, up, unclaimed nodes.
int64_t BlocksWithWhole(const ClusterState& s, const Claims& cl, PoolId p, const BlockIndex& level, int c) {
  const PoolState& pool = s.pool(p);
  int64_t blocks = 0;
  for (uint32_t b = 0; b < level.num_blocks(); ++b) {
    int whole = 0;
    for (uint32_t i = b * level.block_nodes; i < std::min(pool.num_nodes, (b + 1) * level.block_nodes); ++i) {
      const NodeId n(pool.first_node + i);
      if (s.IsUp(n) && s.FreeOn(n) == pool.per_node && cl.On(n.value()) == 0) ++whole;
    }
    if (whole >= c) ++blocks;
  }
  return blocks;
}

TEST(Claims, NodesWithFreeStaysExactUnderRandomClaims) {
  Rng rng(5);
  for (int trial = 0; trial < 40; ++trial) {
    // Leaves of 6 nodes: a partial last leaf in both pools.
    ClusterState s = testing::OneSite(
        {PoolSpec{AcceleratorType::kH100, 30, 8, 4, 1}, PoolSpec{AcceleratorType::kGB200, 20, 4, 18, 18}}, 6);
    // A used, partly broken cluster.
    for (uint32_t n = 0; n < s.num_nodes(); ++n) {
      const int free = s.FreeOn(NodeId(n));
      if (rng.Bernoulli(0.5)) s.Allocate(NodeId(n), static_cast<int>(rng.Below(free + 1)));
      if (rng.Bernoulli(0.1) && s.FreeOn(NodeId(n)) == free) s.SetNodeUp(NodeId(n), false);
    }
    Claims c;
    for (int pass = 0; pass < 3; ++pass) {
      // The driver changes the state between passes: releases, new
      // allocations, nodes going down and coming back.
      for (int m = 0; m < 20; ++m) {
        const NodeId n(static_cast<uint32_t>(rng.Below(s.num_nodes())));
        const int per_node = s.pool(s.PoolOf(n)).per_node;
        if (!s.IsUp(n)) {
          s.SetNodeUp(n, true);
        } else if (s.FreeOn(n) < per_node && rng.Bernoulli(0.5)) {
          s.Release(n, 1 + static_cast<int>(rng.Below(per_node - s.FreeOn(n))));
        } else if (s.FreeOn(n) == per_node && rng.Bernoulli(0.2)) {
          s.SetNodeUp(n, false);
        } else if (s.FreeOn(n) > 0) {
          s.Allocate(n, 1 + static_cast<int>(rng.Below(s.FreeOn(n))));
        }
      }
      c.Reset(s);
      for (int step = 0; step < 40; ++step) {
        const PoolId p(static_cast<uint16_t>(rng.Below(2)));
        const int per_node = s.pool(p).per_node;
        const GangShape shape{1 + static_cast<int>(rng.Below(4)), 1 + static_cast<int>(rng.Below(per_node))};
        if (rng.Bernoulli(0.2)) {
          // An out-of-order claim, as a repair spare from a domain scan.
          const uint32_t node = s.pool(p).first_node + static_cast<uint32_t>(rng.Below(s.pool(p).num_nodes));
          if (s.IsUp(NodeId(node)) && s.FreeOn(NodeId(node)) - c.On(node) >= shape.per_node) {
            c.Add(s, p, node, shape.per_node);
          }
        } else if (rng.Bernoulli(0.3)) {
          // A whole-node gang placed topology-first.
          const GangShape whole{shape.nodes, per_node};
          std::vector<NodeId> nodes = FindGangNodes(s, p, whole, c);
          ASSERT_EQ(nodes.empty(), c.NodesWithFree(s, p, per_node) < whole.nodes);
          std::set<uint32_t> distinct;
          for (NodeId n : nodes) {
            ASSERT_TRUE(s.IsUp(n));
            ASSERT_EQ(s.FreeOn(n) - c.On(n.value()), per_node);
            distinct.insert(n.value());
          }
          ASSERT_EQ(distinct.size(), nodes.size());
          for (NodeId n : nodes) c.Add(s, p, n.value(), per_node);
        } else {
          std::vector<NodeId> nodes = FindNodes(s, p, shape, c);
          ASSERT_EQ(nodes.empty(),
                    c.NodesWithFree(s, p, shape.per_node) < shape.nodes ||
                        s.pool(p).free_devices - c.OnPool(p) < static_cast<int64_t>(shape.nodes) * shape.per_node);
          std::set<uint32_t> distinct;
          for (NodeId n : nodes) {
            ASSERT_TRUE(s.IsUp(n));
            ASSERT_GE(s.FreeOn(n) - c.On(n.value()), shape.per_node);
            distinct.insert(n.value());
          }
          ASSERT_EQ(distinct.size(), nodes.size());
          for (NodeId n : nodes) c.Add(s, p, n.value(), shape.per_node);
        }
        for (uint16_t q = 0; q < 2; ++q) {
          int most = 0;  // the most free on one node, by the brute force
          for (int g = 1; g <= s.pool(PoolId(q)).per_node; ++g) {
            if (BruteForce(s, c, PoolId(q), g) > 0) most = g;
          }
          ASSERT_EQ(c.MostFree(s, PoolId(q)), most) << "trial " << trial << " step " << step << " pool " << q;
          for (int g = 1; g <= s.pool(PoolId(q)).per_node; ++g) {
            ASSERT_EQ(c.NodesWithFree(s, PoolId(q), g), BruteForce(s, c, PoolId(q), g))
                << "trial " << trial << " step " << step << " pool " << q << " g " << g;
            const int64_t exact = BruteForce(s, c, PoolId(q), g);
            for (int64_t want = 0; want <= exact + 1; ++want) {
              ASSERT_EQ(c.HasNodesWithFree(s, PoolId(q), g, want), exact >= want) << "g " << g << " want " << want;
            }
          }
          const PoolState& pool = s.pool(PoolId(q));
          for (int k = 1; k <= pool.leaves.block_nodes; ++k) {
            ASSERT_EQ(c.Leaves(PoolId(q)).AtLeast(pool.leaves.buckets, k),
                      BlocksWithWhole(s, c, PoolId(q), pool.leaves, k))
                << "leaves, k " << k;
            ASSERT_EQ(c.Leaves(PoolId(q)).HasAtLeast(pool.leaves.buckets, k, 1),
                      BlocksWithWhole(s, c, PoolId(q), pool.leaves, k) >= 1)
                << "leaves, k " << k;
          }
          for (int k = 1; k <= pool.domains.block_nodes; ++k) {
            ASSERT_EQ(c.Domains(PoolId(q)).AtLeast(pool.domains.buckets, k),
                      BlocksWithWhole(s, c, PoolId(q), pool.domains, k))
                << "domains, k " << k;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace stargate::sched
