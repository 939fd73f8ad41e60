// The stargate policy set: filters (residency, power cap, hot spares),
// scoring (carbon, heterogeneity), the audit reason, and EASY backfill.
#include "sched/stargate_policy.h"

#include <gtest/gtest.h>

#include "sched/backfill.h"
#include "sched/fifo_first_fit.h"
#include "sched/site_score.h"

namespace stargate::sched {
namespace {

SiteSpec Site(std::string name, std::string jurisdiction, AcceleratorType type, int nodes) {
  SiteSpec s;
  s.name = std::move(name);
  s.jurisdiction = std::move(jurisdiction);
  s.pue = 1.2;
  s.pools.push_back(PoolSpec{type, nodes, 8, 4, 1});
  return s;
}

void Signal(ClusterState& s, uint16_t site, double carbon, double price = 50) {
  SiteSignals sig = s.site(SiteId(site)).signals;
  sig.carbon = carbon;
  sig.carbon_ahead = carbon;
  sig.price = price;
  s.SetSignals(SiteId(site), sig);
}

JobRequest Req(uint32_t id, int devices, Duration estimate = Duration::Hours(1), int64_t submit_s = 0) {
  JobRequest r;
  r.id = JobId(id);
  r.accelerators = devices;
  r.estimate = estimate;
  r.submit = Time::Epoch() + Duration::Seconds(submit_s);
  return r;
}

Start OnlyStart(const Decisions& d) {
  EXPECT_EQ(d.items.size(), 1u);
  return std::get<Start>(d.items.at(0));
}

TEST(StargatePolicy, PrefersTheCleanerGridAndSaysWhy) {
  ClusterState s({Site("dirty", "US", AcceleratorType::kH100, 4), Site("clean", "NO", AcceleratorType::kH100, 4)});
  Signal(s, 0, 600);
  Signal(s, 1, 30);
  Queue q;
  q.Push(Req(1, 16));
  StargatePolicy policy({});
  const Start st = OnlyStart(policy.Schedule(s, q, Time::Epoch()));
  EXPECT_EQ(st.site, SiteId(1));
  EXPECT_NE(st.reason.find("clean"), std::string::npos) << st.reason;
  EXPECT_NE(st.reason.find("best score "), std::string::npos) << st.reason;
}

TEST(StargatePolicy, AFasterAcceleratorCanOutweighAGreenerGrid) {
  // Same grid: the B200 pool finishes sooner and uses less energy for the
  // same work, so it wins; with only a carbon weight it still wins on energy.
  ClusterState s({Site("a100", "US", AcceleratorType::kA100, 4), Site("b200", "US", AcceleratorType::kB200, 4)});
  Signal(s, 0, 300);
  Signal(s, 1, 300);
  Queue q;
  q.Push(Req(1, 8));
  StargatePolicy policy({});
  EXPECT_EQ(OnlyStart(policy.Schedule(s, q, Time::Epoch())).site, SiteId(1));
}

TEST(StargatePolicy, ResidencyIsAHardFilter) {
  ClusterState s({Site("us", "US", AcceleratorType::kH100, 4), Site("eu", "EU", AcceleratorType::kH100, 4)});
  Signal(s, 0, 10);  // the cleanest, but not allowed
  Signal(s, 1, 500);
  Queue q;
  JobRequest r = Req(1, 8);
  r.allowed = s.AllowedSites({"EU"}, {});
  q.Push(r);
  StargatePolicy policy({});
  EXPECT_EQ(OnlyStart(policy.Schedule(s, q, Time::Epoch())).site, SiteId(1));
}

TEST(StargatePolicy, NeverAdmitsPastASitesPowerCap) {
  std::vector<SiteSpec> specs = {Site("capped", "US", AcceleratorType::kH100, 4),
                                 Site("open", "US", AcceleratorType::kH100, 4)};
  specs[0].power_cap = Watts(51'000);
  ClusterState capped(specs);
  Signal(capped, 0, 10);  // the cleaner grid...
  Signal(capped, 1, 500);
  // ...but it already draws within 1 kW of its cap; one H100 node adds ~4 kW.
  SiteSignals sig = capped.site(SiteId(0)).signals;
  sig.facility_w = 50'000;
  capped.SetSignals(SiteId(0), sig);
  Queue q;
  q.Push(Req(1, 8));
  StargatePolicy policy({});
  EXPECT_EQ(OnlyStart(policy.Schedule(capped, q, Time::Epoch())).site, SiteId(1));
  // With the check off it goes to the clean, capped site.
  SchedulerSpec off;
  off.power_cap = false;
  StargatePolicy uncapped(off);
  EXPECT_EQ(OnlyStart(uncapped.Schedule(capped, q, Time::Epoch())).site, SiteId(0));
}

TEST(StargatePolicy, KeepsHotSparesOutOfNormalPlacement) {
  std::vector<SiteSpec> specs = {Site("s", "US", AcceleratorType::kH100, 4)};
  specs[0].hot_spares = 1;
  ClusterState s(specs);
  EXPECT_EQ(s.pool(PoolId(0)).hot_spares, 1u);
  Queue q;
  q.Push(Req(1, 32));  // all four nodes: would eat the spare
  StargatePolicy policy({});
  Decisions d = policy.Schedule(s, q, Time::Epoch());
  EXPECT_TRUE(d.empty());
  q.Erase(JobId(1));
  q.Push(Req(2, 24));
  EXPECT_EQ(OnlyStart(policy.Schedule(s, q, Time::Epoch())).nodes.size(), 3u);
}

// Four nodes; a gang holds two until t = 10 h. The head wants all four; a
// short job may run on the free two until then, a long one may not.
struct BackfillCase {
  ClusterState state{{Site("s", "US", AcceleratorType::kH100, 4)}};
  Queue queue;
  BackfillCase() {
    for (uint32_t n = 0; n < 2; ++n) state.Allocate(NodeId(n), 8);
    state.AddRunning(RunningGang::Ending(JobId(100), PoolId(0), 16, Time::Epoch() + Duration::Hours(10)));
    queue.Push(Req(1, 32, Duration::Hours(5), 0));
  }
};

TEST(StargatePolicy, BackfillsShortJobsAroundTheHeadsReservation) {
  BackfillCase c;
  c.queue.Push(Req(2, 16, Duration::Hours(20), 1));  // would delay the head
  c.queue.Push(Req(3, 16, Duration::Hours(9), 2));   // ends before the head can start
  StargatePolicy policy({});
  const Start st = OnlyStart(policy.Schedule(c.state, c.queue, Time::Epoch()));
  EXPECT_EQ(st.job, JobId(3));
  EXPECT_NE(st.reason.find("backfilled"), std::string::npos);
}

TEST(StargatePolicy, WithoutBackfillTheHeadBlocks) {
  BackfillCase c;
  c.queue.Push(Req(3, 16, Duration::Hours(9), 2));
  SchedulerSpec spec;
  spec.backfill = false;
  StargatePolicy policy(spec);
  EXPECT_TRUE(policy.Schedule(c.state, c.queue, Time::Epoch()).empty());
}

// A clean pool (1 node, busy for 1 more hour) and a dirty one with room.
struct WaitCase {
  ClusterState state{{Site("dirty", "US", AcceleratorType::kH100, 4), Site("clean", "NO", AcceleratorType::kH100, 1)}};
  Queue queue;
  WaitCase() {
    Signal(state, 0, 700);
    Signal(state, 1, 20);
    state.Allocate(NodeId(4), 8);
    state.AddRunning(RunningGang::Ending(JobId(100), PoolId(1), 8, Time::Epoch() + Duration::Hours(1)));
  }
};

TEST(StargatePolicy, WaitsForACleanPoolThatFreesUpWithinTheBudget) {
  WaitCase c;
  c.queue.Push(Req(1, 8, Duration::Hours(10)));
  StargatePolicy policy({});
  // One hour of waiting on a ten-hour job beats 35x the emissions.
  EXPECT_TRUE(policy.Schedule(c.state, c.queue, Time::Epoch()).empty());
  SchedulerSpec never;
  never.wait_budget = 0;
  StargatePolicy impatient(never);
  EXPECT_EQ(OnlyStart(impatient.Schedule(c.state, c.queue, Time::Epoch())).site, SiteId(0));
}

TEST(StargatePolicy, WaitingCountsTheJobsAlreadyWaitingForThePool) {
  // Two jobs want the one clean node. The first waits for it; for the
  // second the node is not back until the first is done (10 h later), past
  // its budget, so it starts on the dirty pool instead of idling.
  WaitCase c;
  c.queue.Push(Req(1, 8, Duration::Hours(10), 0));
  c.queue.Push(Req(2, 8, Duration::Hours(10), 1));
  StargatePolicy policy({});
  const Start st = OnlyStart(policy.Schedule(c.state, c.queue, Time::Epoch()));
  EXPECT_EQ(st.job, JobId(2));
  EXPECT_EQ(st.site, SiteId(0));
}

TEST(StargatePolicy, ABudgetSpentInTheQueueIsNotSpentAgain) {
  // Submitted 6 h ago with a 10 h run: half the run is 5 h, already spent.
  WaitCase c;
  c.queue.Push(Req(1, 8, Duration::Hours(10), 0));
  StargatePolicy policy({});
  EXPECT_EQ(OnlyStart(policy.Schedule(c.state, c.queue, Time::Epoch() + Duration::Hours(6))).site, SiteId(0));
}

TEST(StargatePolicy, ResumedJobsWaitOnlyWithAResumeBudgetCountedFromTheRequeue) {
  // Submitted 20 h ago (its first budget long spent), requeued just now
  // with 10 h left: by default it restarts at once on the dirty pool; with
  // a resume budget of 0.5 (5 h from the requeue) it waits the hour for
  // the clean one.
  WaitCase c;
  JobRequest r = Req(1, 8, Duration::Hours(10), 0);
  r.resumed = true;
  const Time now = Time::Epoch() + Duration::Hours(20);
  r.queued_at = now;
  c.state.AddRunning(RunningGang::Ending(JobId(100), PoolId(1), 8, now + Duration::Hours(1)));
  c.queue.Push(r);
  StargatePolicy prompt({});
  EXPECT_EQ(OnlyStart(prompt.Schedule(c.state, c.queue, now)).site, SiteId(0));
  SchedulerSpec patient;
  patient.resume_wait_budget = 0.5;
  StargatePolicy waits(patient);
  EXPECT_TRUE(waits.Schedule(c.state, c.queue, now).empty());
  // Requeued 6 h ago: the 5 h are spent.
  JobRequest late = r;
  late.queued_at = now - Duration::Hours(6);
  c.queue.Push(late);
  EXPECT_EQ(OnlyStart(waits.Schedule(c.state, c.queue, now)).site, SiteId(0));
}

TEST(StargatePolicy, PassesBetweenDeepOnesStopAtQueueDepth) {
  // 5 blocked jobs (each needs more than the cluster has free), then one
  // that fits. A deep pass reaches it; a pass within backfill_interval of
  // the deep one looks at queue_depth = 2 blocked jobs and stops.
  ClusterState s({Site("a", "US", AcceleratorType::kH100, 2)});
  s.Allocate(NodeId(0), 8);
  s.AddRunning(RunningGang::Ending(JobId(100), PoolId(0), 8, Time::Epoch() + Duration::Hours(1)));
  Queue q;
  for (uint32_t i = 1; i <= 5; ++i) q.Push(Req(i, 16, Duration::Hours(1), i));
  q.Push(Req(9, 8, Duration::Minutes(30), 9));
  SchedulerSpec spec;
  spec.queue_depth = 2;
  spec.backfill_interval = Duration::Minutes(1);
  StargatePolicy deep_then_shallow(spec);
  EXPECT_EQ(OnlyStart(deep_then_shallow.Schedule(s, q, Time::Epoch())).job, JobId(9));
  EXPECT_TRUE(deep_then_shallow.Schedule(s, q, Time::Epoch() + Duration::Seconds(30)).empty());
  EXPECT_EQ(OnlyStart(deep_then_shallow.Schedule(s, q, Time::Epoch() + Duration::Minutes(2))).job, JobId(9));
}

TEST(Backfill, ReservationIsTheEarliestTimeEnoughComesBack) {
  BackfillCase c;
  c.state.AddRunning(RunningGang::Ending(JobId(101), PoolId(0), 8, Time::Epoch() + Duration::Hours(3)));
  Claims claims;
  claims.Reset(c.state);
  // 16 free now; +8 at 3 h is not enough for 32; +16 at 10 h is.
  Reservation r = Reserve(c.state, Req(1, 32), claims, Time::Epoch());
  ASSERT_TRUE(r.valid);
  EXPECT_EQ(r.shadow, Time::Epoch() + Duration::Hours(10));
  EXPECT_EQ(r.extra, 8);
  // A long job of 8 fits in the extra; then nothing more does.
  EXPECT_TRUE(r.Allows(PoolId(0), Time::Epoch(), 100 * 3600.0, 8));
  r.Take(PoolId(0), Time::Epoch(), 100 * 3600.0, 8);
  EXPECT_FALSE(r.Allows(PoolId(0), Time::Epoch(), 100 * 3600.0, 8));
  EXPECT_TRUE(r.Allows(PoolId(0), Time::Epoch(), 3600.0, 8));
  // A head bigger than the pool gets no reservation.
  EXPECT_FALSE(Reserve(c.state, Req(1, 64), claims, Time::Epoch()).valid);
}

TEST(SiteScore, RelativeTermsAndZeroBests) {
  std::vector<Candidate> c(2);
  c[0].runtime_s = 100;
  c[0].co2_g = 10;
  c[0].cost_usd = 0;
  c[1].runtime_s = 200;
  c[1].co2_g = 5;
  c[1].cost_usd = 0;
  SchedulerSpec spec;
  spec.weight_time = 1;
  spec.weight_carbon = 1;
  spec.weight_cost = 1;
  ScoreCandidates(c, spec);
  EXPECT_DOUBLE_EQ(c[0].score, 1.0 + 2.0 + 1.0);
  EXPECT_DOUBLE_EQ(c[1].score, 2.0 + 1.0 + 1.0);
}

// A geo-distributed job (DiLoCo) asks for one node in each of N sites: the
// cleanest sites get it, rank 0 at the cleanest; FIFO takes sites in order;
// too few sites is a Reject.
TEST(SpreadSites, OneNodePerSiteCleanestFirst) {
  ClusterState s({Site("a", "US", AcceleratorType::kH100, 2), Site("b", "US", AcceleratorType::kH100, 2),
                  Site("c", "EU", AcceleratorType::kH100, 2)});
  Signal(s, 0, 500);
  Signal(s, 1, 100);
  Signal(s, 2, 50);
  JobRequest r = Req(1, 16);
  r.fixed_per_node = 8;
  r.spread_sites = true;
  Queue q;
  q.Push(r);
  StargatePolicy policy({});
  const Start st = OnlyStart(policy.Schedule(s, q, Time::Epoch()));
  ASSERT_EQ(st.nodes.size(), 2u);
  EXPECT_EQ(s.pool(s.PoolOf(st.nodes[0])).site, SiteId(2));  // cleanest first
  EXPECT_EQ(s.pool(s.PoolOf(st.nodes[1])).site, SiteId(1));
  EXPECT_NE(st.reason.find("spread over 2 sites"), std::string::npos) << st.reason;
  FifoFirstFit fifo;
  const Start f = OnlyStart(fifo.Schedule(s, q, Time::Epoch()));
  EXPECT_EQ(s.pool(s.PoolOf(f.nodes[0])).site, SiteId(0));
  EXPECT_EQ(s.pool(s.PoolOf(f.nodes[1])).site, SiteId(1));
  // Residency to the US leaves two sites: three workers can never start.
  JobRequest three = r;
  three.accelerators = 24;
  three.allowed = s.AllowedSites({"US"}, {});
  Queue q3;
  q3.Push(three);
  const Decisions d = policy.Schedule(s, q3, Time::Epoch());
  ASSERT_EQ(d.items.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Reject>(d.items[0]));
  EXPECT_NE(std::get<Reject>(d.items[0]).reason.find("2 allowed site(s)"), std::string::npos);
}

}  // namespace
}  // namespace stargate::sched
