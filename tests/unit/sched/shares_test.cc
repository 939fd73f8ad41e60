// Shares of one device (JobRequest::share_milli): ClusterState's slots,
// and both policies packing shares onto open slots before opening new ones.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "core/rng.h"
#include "sched/fifo_first_fit.h"
#include "sched/placement.h"
#include "sched/scheduler.h"
#include "sched/site_score.h"
#include "sched/stargate_policy.h"
#include "test_cluster.h"

namespace stargate::sched {
namespace {

using testing::OneSite;

// One site of `nodes` H100 nodes of `per_node` devices.
ClusterState Cluster(int nodes, int per_node) {
  return OneSite({PoolSpec{AcceleratorType::kH100, nodes, per_node, 1, 1}}, 1);
}

JobRequest Share(uint32_t id, int milli, int64_t submit_s = 0) {
  JobRequest r;
  r.id = JobId(id);
  r.accelerators = 1;
  r.share_milli = milli;
  r.submit = Time::Epoch() + Duration::Seconds(submit_s);
  r.estimate = Duration::Hours(1);
  return r;
}

JobRequest Whole(uint32_t id, int devices, int64_t submit_s = 0) {
  JobRequest r = Share(id, 0, submit_s);
  r.accelerators = devices;
  return r;
}

// Applies the starts as a driver does and erases decided jobs.
void Apply(ClusterState& s, Queue& q, const Decisions& d) {
  for (const auto& item : d.items) {
    if (const auto* st = std::get_if<Start>(&item)) {
      if (st->share_milli > 0) {
        ASSERT_EQ(st->nodes.size(), 1u);
        ASSERT_EQ(st->per_node, 1);
        s.AddShare(st->nodes[0], st->share_slot, st->share_milli);
      } else {
        for (NodeId n : st->nodes) s.Allocate(n, st->per_node);
      }
      q.Erase(st->job);
    } else if (const auto* rj = std::get_if<Reject>(&item)) {
      q.Erase(rj->job);
    }
  }
}

std::vector<Start> Starts(const Decisions& d) {
  std::vector<Start> out;
  for (const auto& item : d.items) {
    if (const auto* st = std::get_if<Start>(&item)) out.push_back(*st);
  }
  return out;
}

TEST(Shares, ASlotTakesOneDeviceWhileAnyShareUsesIt) {
  ClusterState s = Cluster(1, 4);
  const NodeId n(0);
  EXPECT_TRUE(s.AddShare(n, 0, 250));
  EXPECT_EQ(s.FreeOn(n), 3);
  EXPECT_FALSE(s.AddShare(n, 0, 500));
  EXPECT_EQ(s.FreeOn(n), 3);
  EXPECT_EQ(s.ShareUsed(n, 0), 750);
  EXPECT_TRUE(s.AddShare(n, 2, 900));
  EXPECT_EQ(s.FreeOn(n), 2);
  EXPECT_EQ(s.pool(PoolId(0)).busy_devices, 2);
  // Open slots with room for 100, least room first.
  std::vector<std::pair<int, int>> seen;  // (slot, free)
  s.ForSlotsWithRoom(PoolId(0), 100, [&](NodeId, int slot, int free) {
    seen.emplace_back(slot, free);
    return false;
  });
  EXPECT_EQ(seen, (std::vector<std::pair<int, int>>{{2, 100}, {0, 250}}));
  EXPECT_FALSE(s.RemoveShare(n, 0, 250));
  EXPECT_TRUE(s.RemoveShare(n, 0, 500));
  EXPECT_EQ(s.ShareUsed(n, 0), 0);
  EXPECT_EQ(s.FreeOn(n), 3);
  EXPECT_FALSE(s.RemoveShare(n, 0, 100));  // closed: nothing to take
  s.FillShares(n);
  EXPECT_EQ(s.ShareUsed(n, 2), 1000);
  bool any = false;
  s.ForSlotsWithRoom(PoolId(0), 1, [&](NodeId, int, int) { return any = true; });
  EXPECT_FALSE(any);
  EXPECT_TRUE(s.RemoveShare(n, 2, 1000));
  EXPECT_EQ(s.FreeOn(n), 4);
}

TEST(Shares, FifoPacksSharesOntoOneDeviceBeforeOpeningAnother) {
  ClusterState s = Cluster(1, 2);
  Queue q;
  for (uint32_t j = 0; j < 5; ++j) q.Push(Share(j, 250, j));
  FifoFirstFit fifo;
  const Decisions d = fifo.Schedule(s, q, Time::Epoch());
  const std::vector<Start> st = Starts(d);
  ASSERT_EQ(st.size(), 5u);
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(st[j].share_slot, 0) << j;
    EXPECT_EQ(st[j].share_milli, 250);
  }
  EXPECT_EQ(st[4].share_slot, 1);  // the first device is full: a second slot
  Apply(s, q, d);
  EXPECT_EQ(s.FreeOn(NodeId(0)), 0);
  EXPECT_EQ(s.ShareUsed(NodeId(0), 0), 1000);
  EXPECT_EQ(s.ShareUsed(NodeId(0), 1), 250);
  // A whole device is no longer free; another share still fits.
  q.Push(Whole(10, 1, 10));
  q.Push(Share(11, 700, 11));
  const Decisions d2 = fifo.Schedule(s, q, Time::Epoch());
  EXPECT_TRUE(d2.empty());  // FIFO: the whole-device head blocks
  q.Erase(JobId(10));
  const std::vector<Start> st2 = Starts(fifo.Schedule(s, q, Time::Epoch()));
  ASSERT_EQ(st2.size(), 1u);
  EXPECT_EQ(st2[0].share_slot, 1);
}

TEST(Shares, TheTightestOpenSlotTakesTheShare) {
  ClusterState s = Cluster(2, 4);
  s.AddShare(NodeId(0), 0, 300);  // 700 free
  s.AddShare(NodeId(1), 3, 600);  // 400 free
  s.AddShare(NodeId(1), 1, 800);  // 200 free: too little
  Claims claims;
  claims.Reset(s);
  std::optional<ShareSpot> spot = FindShare(s, PoolId(0), 300, claims);
  ASSERT_TRUE(spot.has_value());
  EXPECT_EQ(spot->node, NodeId(1));
  EXPECT_EQ(spot->slot, 3);
  EXPECT_FALSE(spot->opens);
  // Claimed in this pass: the slot has 100 left, so the next goes to node 0.
  claims.AddShare(s, PoolId(0), 1, 3, 300, false);
  spot = FindShare(s, PoolId(0), 300, claims);
  ASSERT_TRUE(spot.has_value());
  EXPECT_EQ(spot->node, NodeId(0));
  // A share no open slot holds opens a new slot on the tightest node, at
  // its lowest free slot number.
  spot = FindShare(s, PoolId(0), 900, claims);
  ASSERT_TRUE(spot.has_value());
  EXPECT_TRUE(spot->opens);
  EXPECT_EQ(spot->node, NodeId(1));
  EXPECT_EQ(spot->slot, 0);
  claims.AddShare(s, PoolId(0), 1, 0, 900, true);
  // Slots open before the pass go first, fewest free (as recorded) first.
  spot = FindShare(s, PoolId(0), 100, claims);
  ASSERT_TRUE(spot.has_value());
  EXPECT_EQ(spot->node, NodeId(1));
  EXPECT_EQ(spot->slot, 1);  // 200 free
  claims.AddShare(s, PoolId(0), 1, 1, 200, false);
  claims.AddShare(s, PoolId(0), 1, 3, 100, false);
  claims.AddShare(s, PoolId(0), 0, 0, 700, false);
  // Every slot open before the pass is full now: the one opened in it
  // (100 left) takes the next share.
  spot = FindShare(s, PoolId(0), 100, claims);
  ASSERT_TRUE(spot.has_value());
  EXPECT_EQ(spot->node, NodeId(1));
  EXPECT_EQ(spot->slot, 0);
  EXPECT_FALSE(spot->opens);
}

TEST(Shares, StargatePacksIntoAFullPoolsOpenSlot) {
  // Every device of the pool busy but one slot with room: a share starts
  // there; a whole-device job waits.
  ClusterState s = Cluster(1, 2);
  s.Allocate(NodeId(0), 1);
  s.AddShare(NodeId(0), 0, 500);
  ASSERT_EQ(s.FreeOn(NodeId(0)), 0);
  Queue q;
  q.Push(Share(2, 500, 0));
  q.Push(Whole(1, 1, 1));
  StargatePolicy policy({});
  const std::vector<Start> st = Starts(policy.Schedule(s, q, Time::Epoch()));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].job, JobId(2));
  EXPECT_EQ(st[0].share_slot, 0);
  EXPECT_EQ(st[0].share_milli, 500);
  EXPECT_NE(st[0].reason.find("best score"), std::string::npos);
}

TEST(Shares, AShareIsChargedItsShareOfTheDevicesDraw) {
  ClusterState s = Cluster(1, 8);
  const JobRequest whole = Whole(1, 1);
  const JobRequest quarter = Share(2, 250);
  const Candidate a = Estimate(s, PoolId(0), whole, 1.0);
  const Candidate b = Estimate(s, PoolId(0), quarter, 1.0);
  EXPECT_NEAR(b.extra_w, a.extra_w / 4, 1e-9);
  EXPECT_NEAR(b.co2_g, a.co2_g / 4, 1e-9);
  // The tenant is charged a quarter of a device while it runs.
  RunningGang g = RunningGang::Ending(JobId(2), PoolId(0), 0, Time::Epoch() + Duration::Hours(1));
  g.share = 0.25;
  g.tenant = TenantId(0);
  s.AddRunning(g);
  EXPECT_NEAR(s.tenants().Usage(TenantId(0)).devices, 0.25, 1e-12);
  s.RemoveRunning(JobId(2));
  EXPECT_NEAR(s.tenants().Usage(TenantId(0)).devices, 0, 1e-12);
}

// A slot's device comes back with its last share: one calendar entry of
// one device per slot, at its latest end, so a blocked head still gets a
// reservation and shares behind it backfill into open slots.
TEST(Shares, ASlotsDeviceIsOnTheCalendarAtItsLastSharesEnd) {
  ClusterState s = Cluster(1, 8);
  const PoolId p(0);
  for (int slot = 0; slot < 8; ++slot) {
    s.AddShare(NodeId(0), slot, 600);
    for (int k = 0; k < 1 + slot % 2; ++k) {  // odd slots: a second share, ending later
      const uint32_t job = static_cast<uint32_t>(100 + 10 * slot + k);
      if (k == 1) s.AddShare(NodeId(0), slot, 100);
      RunningGang g = RunningGang::Ending(JobId(job), p, 0, Time::Epoch() + Duration::Hours(10 + k));
      g.share = k == 0 ? 0.6 : 0.1;
      g.share_node = NodeId(0);
      g.share_slot = slot;
      s.AddRunning(g);
    }
  }
  ASSERT_EQ(s.FreeOn(NodeId(0)), 0);
  EXPECT_EQ(s.running(p).total_devices(), 8);  // one per slot, not per share
  // The odd slots come back at 11 h (their later share), the even at 10 h.
  std::map<int64_t, int64_t> back;  // hour -> devices
  for (const ReleaseEntry& e : s.running(p))
    back[(e.end - Time::Epoch()).nanos() / Duration::Hours(1).nanos()] += e.devices;
  EXPECT_EQ(back, (std::map<int64_t, int64_t>{{10, 4}, {11, 4}}));
  Queue q;
  q.Push(Whole(1, 1, 0));    // waits for a device
  q.Push(Share(2, 300, 1));  // fits an even slot's 400 now
  q.Push(Share(3, 300, 2));  // and another
  StargatePolicy policy({});
  const std::vector<Start> st = Starts(policy.Schedule(s, q, Time::Epoch()));
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].job, JobId(2));
  EXPECT_EQ(st[1].job, JobId(3));
  // Ending a share takes it off its slot's entry; the slot's last one
  // takes the entry away.
  s.RemoveRunning(JobId(111));  // slot 1's later share
  s.RemoveRunning(JobId(100));  // slot 0's only share
  EXPECT_EQ(s.running(p).total_devices(), 7);
  back.clear();
  for (const ReleaseEntry& e : s.running(p))
    back[(e.end - Time::Epoch()).nanos() / Duration::Hours(1).nanos()] += e.devices;
  EXPECT_EQ(back, (std::map<int64_t, int64_t>{{10, 4}, {11, 3}}));
}

// Random shares and whole jobs through both policies, started and ended
// as a driver does: no node holds more than its devices, no slot more
// than one device, and every share lands in a slot the driver can open.
TEST(Shares, NoNodeOrSlotIsEverOverfilled) {
  for (const char* name : {"fifo", "stargate"}) {
    Rng rng(7);
    ClusterState s =
        OneSite({PoolSpec{AcceleratorType::kH100, 3, 4, 1, 1}, PoolSpec{AcceleratorType::kA100, 2, 8, 1, 1}}, 1);
    auto policy = MakeScheduler(name);
    ASSERT_TRUE(policy.ok());
    Queue q;
    struct Held {
      NodeId node;
      int per_node = 0, slot = 0, milli = 0;
      std::vector<NodeId> nodes;
    };
    std::map<uint32_t, Held> running;
    uint32_t next = 0;
    int shares_started = 0;
    for (int pass = 0; pass < 300; ++pass) {
      for (int k = static_cast<int>(rng.Below(5)); k > 0; --k) {
        const bool share = rng.Uniform() < 0.7;
        q.Push(share ? Share(next, 1 + static_cast<int>(rng.Below(999)), pass)
                     : Whole(next, 1 + static_cast<int>(rng.Below(4)), pass));
        ++next;
      }
      const Decisions d = (*policy)->Schedule(s, q, Time::Epoch() + Duration::Seconds(pass));
      for (const Start& st : Starts(d)) {
        Held h;
        h.nodes = st.nodes;
        h.per_node = st.per_node;
        h.slot = st.share_slot;
        h.milli = st.share_milli;
        if (h.milli > 0) {
          ASSERT_LE(s.ShareUsed(st.nodes[0], st.share_slot) + h.milli, ClusterState::kWholeShare) << name;
          if (s.ShareUsed(st.nodes[0], st.share_slot) == 0) ASSERT_GE(s.FreeOn(st.nodes[0]), 1) << name;
          ++shares_started;
        }
        running[st.job.value()] = h;
        RunningGang g = RunningGang::Ending(
            st.job, st.pool, h.milli > 0 ? 0 : int64_t{h.per_node} * static_cast<int64_t>(h.nodes.size()),
            Time::Epoch() + Duration::Seconds(pass + 3600));
        g.share = h.milli / 1000.0;
        if (h.milli > 0) {
          g.share_node = h.nodes[0];
          g.share_slot = h.slot;
        }
        s.AddRunning(g);
      }
      Apply(s, q, d);
      for (uint32_t n = 0; n < s.num_nodes(); ++n) {
        const int per_node = s.pool(s.PoolOf(NodeId(n))).per_node;
        ASSERT_GE(s.FreeOn(NodeId(n)), 0);
        for (int slot = 0; slot < per_node; ++slot) ASSERT_LE(s.ShareUsed(NodeId(n), slot), 1000);
      }
      // End some.
      for (auto it = running.begin(); it != running.end();) {
        if (rng.Uniform() < 0.3) {
          const Held& h = it->second;
          if (h.milli > 0) {
            s.RemoveShare(h.nodes[0], h.slot, h.milli);
          } else {
            for (NodeId n : h.nodes) s.Release(n, h.per_node);
          }
          s.RemoveRunning(JobId(it->first));
          it = running.erase(it);
        } else {
          ++it;
        }
      }
    }
    EXPECT_GT(shares_started, 100) << name;
    // The calendar holds each open slot once and each whole gang.
    int64_t held = 0;
    for (uint32_t n = 0; n < s.num_nodes(); ++n) held += s.pool(s.PoolOf(NodeId(n))).per_node - s.FreeOn(NodeId(n));
    int64_t on_calendar = 0;
    for (size_t p = 0; p < s.pools().size(); ++p)
      on_calendar += s.running(PoolId(static_cast<uint16_t>(p))).total_devices();
    EXPECT_EQ(on_calendar, held) << name;
    for (auto& [job, h] : running) {
      s.RemoveRunning(JobId(job));
      if (h.milli > 0) {
        s.RemoveShare(h.nodes[0], h.slot, h.milli);
      } else {
        for (NodeId n : h.nodes) s.Release(n, h.per_node);
      }
    }
    for (uint32_t n = 0; n < s.num_nodes(); ++n) {
      EXPECT_EQ(s.FreeOn(NodeId(n)), s.pool(s.PoolOf(NodeId(n))).per_node) << name;
    }
  }
}

}  // namespace
}  // namespace stargate::sched
