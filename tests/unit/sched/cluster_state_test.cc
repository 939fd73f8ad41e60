#include "sched/cluster_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace stargate::sched {
namespace {

std::vector<SiteSpec> TwoSites() {
  SiteSpec a;
  a.name = "a";
  a.jurisdiction = "US";
  a.pools.push_back(PoolSpec{AcceleratorType::kH100, 4, 8, 2, 1});
  SiteSpec b;
  b.name = "b";
  b.jurisdiction = "EU";
  b.pools.push_back(PoolSpec{AcceleratorType::kGB200, 18, 4, 18, 18});
  b.pools.push_back(PoolSpec{AcceleratorType::kCpu, 2, 1, 2, 1});
  return {a, b};
}

TEST(ClusterState, BuildsDenseNodesAndPools) {
  ClusterState s(TwoSites());
  EXPECT_EQ(s.num_nodes(), 4u + 18u + 2u);
  ASSERT_EQ(s.pools().size(), 3u);
  EXPECT_EQ(s.pool(PoolId(1)).first_node, 4u);
  EXPECT_EQ(s.total_devices(), 32 + 72 + 2);
  EXPECT_EQ(s.jurisdictions(), (std::vector<std::string>{"US", "EU"}));
  EXPECT_EQ(s.AllowedSites({}, {}), nullptr);
  EXPECT_TRUE(s.AllowedSites({"EU"}, {})->Has(SiteId(1)));
  EXPECT_FALSE(s.AllowedSites({"EU"}, {})->Has(SiteId(0)));
  EXPECT_TRUE(s.AllowedSites({"CN"}, {})->empty());
  EXPECT_TRUE(s.AnySiteIn({"CN", "EU"}));
  EXPECT_FALSE(s.AnySiteIn({"CN"}));
  // The same ask gets the same set.
  EXPECT_EQ(s.AllowedSites({"EU"}, {}), s.AllowedSites({"EU"}, {}));
  EXPECT_EQ(s.pool(PoolId(0)).NodesWithFree(8), 4);
}

TEST(ClusterState, AllocateReleaseKeepBucketsExact) {
  ClusterState s(TwoSites());
  s.Allocate(NodeId(0), 3);
  s.Allocate(NodeId(1), 8);
  const PoolState& p = s.pool(PoolId(0));
  EXPECT_EQ(p.free_devices, 32 - 11);
  EXPECT_EQ(p.busy_devices, 11);
  EXPECT_EQ(p.NodesWithFree(8), 2);
  EXPECT_EQ(p.NodesWithFree(5), 3);
  EXPECT_EQ(p.buckets[0].size(), 0u);  // full nodes are not indexed
  s.Release(NodeId(1), 8);
  s.Release(NodeId(0), 3);
  EXPECT_EQ(p.free_devices, 32);
  EXPECT_EQ(p.NodesWithFree(8), 4);
}

TEST(ClusterState, ResetNodesAreAsBuilt) {
  // What the server does from pass to pass: lay work, take it off the
  // nodes it laid, lay again. Each step is compared with a state built
  // afresh with the same work.
  const std::vector<SiteSpec> sites = TwoSites();
  ClusterState kept(sites);
  ASSERT_TRUE(kept.SameAs(ClusterState(sites)));
  struct Work {
    uint32_t node;
    int devices;    // whole devices
    int slot = -1;  // or a share of slot `slot`
    int milli = 0;
    bool down = false;  // (an idle node) taken down
    bool fill = false;  // its shared slots filled
  };
  auto lay = [](ClusterState& s, const std::vector<Work>& work) {
    for (const Work& w : work) {
      const NodeId n(w.node);
      if (w.down) {
        s.SetNodeUp(n, false);
      } else if (w.slot >= 0) {
        s.AddShare(n, w.slot, w.milli);
      } else if (w.devices > 0) {
        s.Allocate(n, w.devices);
      }
      if (w.fill) s.FillShares(n);
    }
  };
  const std::vector<std::vector<Work>> passes = {
      {{.node = 0, .devices = 8},
       {.node = 1, .devices = 3},
       {.node = 5, .devices = 0, .slot = 0, .milli = 250},
       {.node = 5, .devices = 0, .slot = 0, .milli = 500},
       {.node = 23, .devices = 0, .down = true}},
      {{.node = 1, .devices = 2},
       {.node = 5, .devices = 0, .slot = 1, .milli = 300, .fill = true},
       {.node = 6, .devices = 4}},
      {{.node = 2, .devices = 0, .down = true}, {.node = 4, .devices = 0, .slot = 0, .milli = 250}},
      {},
  };
  std::vector<uint32_t> laid;
  for (const std::vector<Work>& work : passes) {
    for (uint32_t n : laid) kept.ResetNode(NodeId(n));
    laid.clear();
    lay(kept, work);
    for (const Work& w : work) laid.push_back(w.node);
    ClusterState fresh(sites);
    lay(fresh, work);
    EXPECT_TRUE(kept.SameAs(fresh));
    // And not the same as the pass before's, where it differs.
    EXPECT_EQ(kept.SameAs(ClusterState(sites)), work.empty());
  }
  // Running gangs count too.
  ClusterState other(sites);
  RunningGang g = RunningGang::Ending(JobId(7), PoolId(0), 8, Time::Epoch() + Duration::Hours(1));
  kept.AddRunning(g);
  EXPECT_FALSE(kept.SameAs(other));
  other.AddRunning(g);
  EXPECT_TRUE(kept.SameAs(other));
  g.expected_end = g.expected_end + Duration::Seconds(1);
  other.AddRunning(g);
  EXPECT_FALSE(kept.SameAs(other));
}

TEST(ClusterState, DownNodesLeaveTheFreeIndex) {
  ClusterState s(TwoSites());
  s.SetNodeUp(NodeId(2), false);
  EXPECT_FALSE(s.IsUp(NodeId(2)));
  EXPECT_EQ(s.pool(PoolId(0)).free_devices, 24);
  EXPECT_EQ(s.pool(PoolId(0)).up_nodes, 3);
  s.SetNodeUp(NodeId(2), true);
  EXPECT_EQ(s.pool(PoolId(0)).free_devices, 32);
  EXPECT_EQ(s.pool(PoolId(0)).NodesWithFree(8), 4);
}

TEST(ClusterState, MaxGangHonoursTypeAndJurisdiction) {
  ClusterState s(TwoSites());
  JobRequest r;
  r.accel_mask = MaskOf(AcceleratorType::kGB200);
  EXPECT_EQ(s.MaxGang(r), 72);
  r.allowed = s.AllowedSites({"US"}, {});
  EXPECT_EQ(s.MaxGang(r), 0);
  r.accel_mask = kAnyGpu;
  EXPECT_EQ(s.MaxGang(r), 32);
  r.accel_mask = MaskOf(AcceleratorType::kCpu);
  r.allowed = nullptr;
  EXPECT_EQ(s.MaxGang(r), 2);
}

// A network of thousands of sites: a job's allowed sites are not limited to
// the first 64 (they were a 64-bit mask once).
TEST(ClusterState, AllowedSitesReachPastTheSixtyFourth) {
  std::vector<SiteSpec> sites;
  for (int i = 0; i < 300; ++i) {
    SiteSpec site;
    site.name = "s" + std::to_string(i);
    site.region = i % 100 == 99 ? "far" : "near";
    site.jurisdiction = "J" + std::to_string(i / 3);  // 100 jurisdictions
    site.pools.push_back(PoolSpec{AcceleratorType::kH100, 1, 8, 1, 1});
    sites.push_back(site);
  }
  ClusterState s(sites);
  const auto far = s.AllowedSites({}, {"far"});
  ASSERT_NE(far, nullptr);
  EXPECT_EQ(far->Count(), 3u);  // sites 99, 199 and 299
  EXPECT_TRUE(far->Has(SiteId(299)));
  // Jurisdiction 99 (sites 297-299) is past the 64th: a 64-bit mask of
  // jurisdictions had no bit for it.
  const auto j99 = s.AllowedSites({"J99"}, {});
  EXPECT_EQ(j99->Count(), 3u);
  const auto far_j99 = s.AllowedSites({"J99"}, {"far"});
  EXPECT_EQ(far_j99->Count(), 1u);
  EXPECT_TRUE(far_j99->Has(SiteId(299)));
  JobRequest r;
  r.allowed = far_j99;
  for (size_t p = 0; p < s.pools().size(); ++p) {
    EXPECT_EQ(s.PoolMatches(PoolId(static_cast<uint16_t>(p)), r), p == 299) << p;
  }
}

// MaxGang walks each type's pools largest first (or, with neither allowed
// sites nor a per-node count, looks its types up); it must agree with a
// look at every pool, types, fixed per-node counts and residency included.
TEST(ClusterState, MaxGangAgreesWithEveryPool) {
  const AcceleratorType types[] = {AcceleratorType::kH100, AcceleratorType::kH200, AcceleratorType::kA100};
  std::vector<SiteSpec> sites;
  for (int i = 0; i < 40; ++i) {
    SiteSpec site;
    site.name = "s" + std::to_string(i);
    site.jurisdiction = i % 4 == 0 ? "EU" : "US";  // EU sites of every type
    site.pools.push_back(PoolSpec{types[i % 3], 1 + (i * 7) % 13, i % 2 == 0 ? 8 : 4, 1, 1});
    sites.push_back(site);
  }
  ClusterState s(sites);
  const AcceleratorMask masks[] = {kAnyGpu, MaskOf(AcceleratorType::kH100),
                                   MaskOf(AcceleratorType::kH200) | MaskOf(AcceleratorType::kA100),
                                   MaskOf(AcceleratorType::kB200)};  // none of that type: 0
  for (const AcceleratorMask mask : masks) {
    for (const int fixed : {0, 4, 8}) {
      for (const bool eu : {false, true}) {
        JobRequest r;
        r.accel_mask = mask;
        r.fixed_per_node = fixed;
        if (eu) r.allowed = s.AllowedSites({"EU"}, {});
        int64_t want = 0;
        for (size_t i = 0; i < s.pools().size(); ++i) {
          const PoolState& p = s.pools()[i];
          if (!s.PoolMatches(PoolId(static_cast<uint16_t>(i)), r)) continue;
          want = std::max(want, fixed > 0 ? int64_t{p.num_nodes} * fixed : p.total_devices());
        }
        EXPECT_EQ(s.MaxGang(r), want) << "mask " << mask << " fixed " << fixed << " eu " << eu;
      }
    }
  }
}

// The change log a scheduler keeps its per-pool indexes by: the pools the
// driver changed since the reader's last look; a state the reader has not
// read (or read by another reader last, or a copy) says so.
TEST(ClusterState, TakeChangedPoolsLogsThePoolsTheDriverChanged) {
  ClusterState s(TwoSites());
  std::vector<PoolId> changed;
  EXPECT_FALSE(s.TakeChangedPools(7, &changed));  // first look: every pool
  s.Allocate(NodeId(5), 2);                       // pool 1
  s.AddRunning(RunningGang::Ending(JobId(1), PoolId(0), 8, Time::Epoch() + Duration::Hours(1)));
  s.Allocate(NodeId(6), 2);  // pool 1 again: logged once
  ASSERT_TRUE(s.TakeChangedPools(7, &changed));
  EXPECT_EQ(changed, (std::vector<PoolId>{PoolId(1), PoolId(0)}));
  ASSERT_TRUE(s.TakeChangedPools(7, &changed));
  EXPECT_TRUE(changed.empty());
  s.SetNodeUp(NodeId(23), false);  // pool 2
  EXPECT_FALSE(s.TakeChangedPools(8, &changed)) << "another reader must look at every pool";
  EXPECT_TRUE(changed.empty());
  ClusterState copy = s;
  EXPECT_FALSE(copy.TakeChangedPools(8, &changed)) << "a copy must be looked at whole";
  s.RemoveRunning(JobId(1));
  ASSERT_TRUE(s.TakeChangedPools(8, &changed));
  EXPECT_EQ(changed, (std::vector<PoolId>{PoolId(0)}));
}

// The grid version moves with the grid figures the pool orders sort by,
// not with a site's load.
TEST(ClusterState, GridVersionMovesWithTheGridNotTheLoad) {
  ClusterState s(TwoSites());
  SiteSignals sig;
  sig.carbon = 100;
  s.SetSignals(SiteId(0), sig);
  const uint64_t v = s.grid_version();
  sig.facility_w = 5e6;
  s.SetSignals(SiteId(0), sig);
  EXPECT_EQ(s.grid_version(), v);
  sig.price = 70;
  s.SetSignals(SiteId(0), sig);
  EXPECT_GT(s.grid_version(), v);
}

}  // namespace
}  // namespace stargate::sched
