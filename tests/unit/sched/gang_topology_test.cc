// Topology-aware gang placement (FindGangNodes): a gang of whole nodes goes
// into one NVLink domain or one leaf when one has room, the tightest such
// block first, and otherwise over the fewest leaves.
#include <gtest/gtest.h>

#include <set>

#include "core/rng.h"
#include "sched/claims.h"
#include "sched/placement.h"
#include "test_cluster.h"

namespace stargate::sched {
namespace {

// 4 leaves of 4 nodes, 8 H100 each, no NVLink domains beyond the node.
ClusterState FourLeaves() { return testing::OneSite({PoolSpec{AcceleratorType::kH100, 16, 8, 4, 1}}, 4); }

std::set<uint32_t> LeavesOf(const ClusterState& s, const std::vector<NodeId>& nodes) {
  std::set<uint32_t> leaves;
  for (NodeId n : nodes) leaves.insert(s.pool(s.PoolOf(n)).leaves.BlockOf(s.LocalIndex(n)));
  return leaves;
}

TEST(GangTopology, PicksTheTightestLeafThatHoldsTheGang) {
  ClusterState s = FourLeaves();
  s.Allocate(NodeId(0), 1);  // leaf 0: 3 whole nodes
  s.Allocate(NodeId(5), 1);  // leaf 1: 3 whole nodes
  s.Allocate(NodeId(9), 8);  // leaf 2: 3 whole nodes
  Claims c;
  c.Reset(s);
  const PoolId p(0);
  std::vector<NodeId> three = FindGangNodes(s, p, GangShape{3, 8}, c);
  ASSERT_EQ(three.size(), 3u);
  ASSERT_EQ(LeavesOf(s, three).size(), 1u);
  EXPECT_NE(*LeavesOf(s, three).begin(), 3u) << "the whole leaf 3 should stay whole";
  for (NodeId n : three) c.Add(s, p, n.value(), 8);
  // A 4-node gang fits only in leaf 3 now.
  std::vector<NodeId> four = FindGangNodes(s, p, GangShape{4, 8}, c);
  ASSERT_EQ(four.size(), 4u);
  EXPECT_EQ(LeavesOf(s, four), std::set<uint32_t>{3});
}

TEST(GangTopology, WideGangsSpanTheFewestLeaves) {
  ClusterState s = FourLeaves();
  s.Allocate(NodeId(0), 8);  // leaf 0: 3 whole
  s.Allocate(NodeId(4), 8);
  s.Allocate(NodeId(5), 8);  // leaf 1: 2 whole
  Claims c;
  c.Reset(s);
  // 6 nodes: no leaf holds them; leaves 2 and 3 (4 whole each) do, where a
  // first-fit over scattered nodes could touch three or four leaves.
  std::vector<NodeId> six = FindGangNodes(s, PoolId(0), GangShape{6, 8}, c);
  ASSERT_EQ(six.size(), 6u);
  EXPECT_EQ(LeavesOf(s, six), (std::set<uint32_t>{2, 3}));
  // Partial-node gangs are not topology-placed: same as FindNodes.
  EXPECT_EQ(FindGangNodes(s, PoolId(0), GangShape{1, 3}, c), FindNodes(s, PoolId(0), GangShape{1, 3}, c));
}

TEST(GangTopology, PrefersOneNvlinkDomain) {
  // Two NVL72 racks per leaf.
  ClusterState s = testing::OneSite({PoolSpec{AcceleratorType::kGB200, 72, 4, 18, 18}}, 36);
  s.Allocate(NodeId(0), 4);  // domain 0: 17 whole nodes
  Claims c;
  c.Reset(s);
  const PoolId p(0);
  std::vector<NodeId> gang = FindGangNodes(s, p, GangShape{17, 4}, c);
  ASSERT_EQ(gang.size(), 17u);
  std::set<uint32_t> domains;
  for (NodeId n : gang) domains.insert(s.pool(p).domains.BlockOf(s.LocalIndex(n)));
  EXPECT_EQ(domains, std::set<uint32_t>{0});
}

TEST(GangTopology, OneBlockWheneverOneHasRoom) {
  // Random used clusters: if some leaf has k whole free nodes after the
  // pass's claims, the gang lands in one leaf.
  Rng rng(23);
  for (int trial = 0; trial < 30; ++trial) {
    ClusterState s = testing::OneSite({PoolSpec{AcceleratorType::kH100, 61, 8, 4, 1}}, 8);
    for (uint32_t n = 0; n < s.num_nodes(); ++n) {
      if (rng.Bernoulli(0.4)) s.Allocate(NodeId(n), 1 + static_cast<int>(rng.Below(8)));
    }
    Claims c;
    c.Reset(s);
    const PoolId p(0);
    const PoolState& pool = s.pool(p);
    for (int step = 0; step < 10; ++step) {
      const int k = 1 + static_cast<int>(rng.Below(10));
      int best_leaf_room = 0;
      for (uint32_t b = 0; b < pool.leaves.num_blocks(); ++b) {
        int whole = 0;
        for (uint32_t i = b * 8; i < std::min(pool.num_nodes, (b + 1) * 8); ++i) {
          if (s.FreeOn(NodeId(i)) == 8 && c.On(i) == 0) ++whole;
        }
        best_leaf_room = std::max(best_leaf_room, whole);
      }
      std::vector<NodeId> gang = FindGangNodes(s, p, GangShape{k, 8}, c);
      if (gang.empty()) {
        ASSERT_LT(c.NodesWithFree(s, p, 8), k);
        continue;
      }
      ASSERT_EQ(gang.size(), static_cast<size_t>(k));
      if (k > 1 && best_leaf_room >= k) ASSERT_EQ(LeavesOf(s, gang).size(), 1u) << "k " << k;
      for (NodeId n : gang) c.Add(s, p, n.value(), 8);
    }
  }
}

// The step-time model prices the span a gang would get: one NVLink domain
// costs nothing extra, one leaf (NICs instead of NVLink) more, several
// leaves over an oversubscribed spine most.
TEST(SpanFactor, GrowsAsTheGangWouldSpreadWider) {
  // GB200-style: 4 devices per node, 4-node NVLink domains, 4 nodes per leaf.
  SiteSpec site;
  site.name = "s";
  site.jurisdiction = "US";
  site.fabric.nodes_per_leaf = 8;
  site.fabric.leaves_per_pod = 2;
  site.fabric.oversubscription = 4;
  site.pools.push_back(PoolSpec{AcceleratorType::kGB200, 32, 4, 4, 4});
  ClusterState s({site});
  TrainingSpec t;
  t.params = 70e9;
  t.tokens = 1e12;
  t.tokens_per_step = 5e3;  // small steps: the gradient sync is exposed
  t.tensor_parallel = 4;
  JobRequest req;
  req.accelerators = 16;
  req.training = &t;
  const PoolId p(0);
  const GangShape shape{4, 4};
  Claims c;
  c.Reset(s);
  EXPECT_DOUBLE_EQ(SpanFactor(s, p, shape, c, req), 1.0);  // a whole domain is free
  // Break one node out of every domain: no domain has 4 whole nodes, but
  // every leaf (8 nodes) still holds 6.
  for (uint32_t n = 0; n < 32; n += 4) s.Allocate(NodeId(n), 1);
  c.Reset(s);
  const double leaf = SpanFactor(s, p, shape, c, req);
  EXPECT_GT(leaf, 1.0);
  // And now no leaf has 4 whole nodes either (2 of 8 left in each).
  for (uint32_t n = 1; n < 32; n += 4) s.Allocate(NodeId(n), 1);
  for (uint32_t n = 2; n < 32; n += 4) s.Allocate(NodeId(n), 1);
  c.Reset(s);
  const double spread = SpanFactor(s, p, shape, c, req);
  EXPECT_GT(spread, leaf);
  // Not training, or one node: no span to price.
  JobRequest batch = req;
  batch.training = nullptr;
  EXPECT_DOUBLE_EQ(SpanFactor(s, p, shape, c, batch), 1.0);
  EXPECT_DOUBLE_EQ(SpanFactor(s, p, GangShape{1, 4}, c, req), 1.0);
}

}  // namespace
}  // namespace stargate::sched
