// Checkpoint-aware preemption: the cheapest victims by lost work, never a
// gang of equal or higher priority, draining gangs counted, and the policy
// warning victims and holding the room for the job it preempts for.
#include "sched/preemption.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sched/stargate_policy.h"
#include "test_cluster.h"

namespace stargate::sched {
namespace {

const Time kNow = Time::Epoch() + Duration::Hours(10);

ClusterState Full(int nodes) { return testing::OneSite({PoolSpec{AcceleratorType::kH100, nodes, 8, 1, 1}}, 4); }

// A whole-node gang on node `node` that checkpointed `since` ago.
void RunGang(ClusterState& s, uint32_t job, uint32_t node, int priority, Duration since, bool draining = false) {
  s.Allocate(NodeId(node), 8);
  RunningGang g = RunningGang::Ending(JobId(job), PoolId(0), 8, kNow + Duration::Hours(20));
  g.priority = priority;
  g.checkpoint_origin = kNow - since;
  g.checkpoint_period = Duration::Hours(100);  // no checkpoint since the origin
  g.draining = draining;
  s.AddRunning(g);
}

JobRequest Urgent(int devices, int priority = 10) {
  JobRequest r;
  r.id = JobId(1000);
  r.accelerators = devices;
  r.priority = priority;
  r.estimate = Duration::Hours(1);
  r.submit = kNow;
  return r;
}

TEST(PlanPreemption, StopsTheGangsThatLoseLeast) {
  ClusterState s = Full(4);
  RunGang(s, 1, 0, 0, Duration::Minutes(50));
  RunGang(s, 2, 1, 0, Duration::Minutes(5));
  RunGang(s, 3, 2, 0, Duration::Minutes(30));
  RunGang(s, 4, 3, 0, Duration::Minutes(1));
  Claims claims;
  claims.Reset(s);
  const auto plan = PlanPreemption(s, Urgent(16), claims, kNow, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->victims, (std::vector<JobId>{JobId(4), JobId(2)}));
  EXPECT_DOUBLE_EQ(plan->lost_device_s, 8.0 * 60 + 8.0 * 300);
  // Victims already chosen this pass are not chosen again.
  const auto next = PlanPreemption(s, Urgent(16), claims, kNow, {4, 2});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->victims, (std::vector<JobId>{JobId(3), JobId(1)}));
}

TEST(PlanPreemption, NeverStopsEqualOrHigherPriority) {
  ClusterState s = Full(2);
  RunGang(s, 1, 0, 10, Duration::Minutes(1));  // same priority as the job
  RunGang(s, 2, 1, 0, Duration::Hours(5));
  Claims claims;
  claims.Reset(s);
  EXPECT_FALSE(PlanPreemption(s, Urgent(16), claims, kNow, {}).has_value());
  const auto plan = PlanPreemption(s, Urgent(8), claims, kNow, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->victims, (std::vector<JobId>{JobId(2)}));
}

TEST(PlanPreemption, DrainingGangsAreEnoughToWaitFor) {
  ClusterState s = Full(2);
  RunGang(s, 1, 0, 0, Duration::Minutes(1), /*draining=*/true);
  RunGang(s, 2, 1, 0, Duration::Minutes(1));
  Claims claims;
  claims.Reset(s);
  const auto plan = PlanPreemption(s, Urgent(8), claims, kNow, {});
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->victims.empty());
}

TEST(StargatePolicyPreemption, WarnsVictimsAndHoldsTheRoom) {
  ClusterState s = Full(4);
  for (uint32_t n = 0; n < 4; ++n) RunGang(s, n + 1, n, 0, Duration::Minutes(10 * (n + 1)));
  Queue q;
  q.Push(Urgent(16));
  JobRequest small = Urgent(8, 0);  // a later low-priority job must not backfill into the room
  small.id = JobId(1001);
  small.submit = kNow + Duration::Seconds(1);
  q.Push(small);
  SchedulerSpec spec;
  spec.preempt_warning = Duration::Seconds(90);
  StargatePolicy policy(spec);
  const Decisions d = policy.Schedule(s, q, kNow);
  std::vector<JobId> victims;
  for (const Decision& item : d.items) {
    const auto* p = std::get_if<Preempt>(&item);
    ASSERT_NE(p, nullptr) << "only preemptions expected";
    EXPECT_EQ(p->warning, Duration::Seconds(90));
    EXPECT_NE(p->reason.find("preempted for job 1000"), std::string::npos) << p->reason;
    victims.push_back(p->job);
  }
  EXPECT_EQ(victims, (std::vector<JobId>{JobId(1), JobId(2)}));

  // Off, or for a job of no higher priority: nobody is stopped.
  spec.preemption = false;
  StargatePolicy off(spec);
  EXPECT_TRUE(off.Schedule(s, q, kNow).empty());
  Queue same;
  same.Push(Urgent(16, 0));
  StargatePolicy on({});
  EXPECT_TRUE(on.Schedule(s, same, kNow).empty());
}

// Urgent jobs submitted together each make their own room in the same
// pass (issue 20: 10,000 gang members preempted in seconds, not one gang
// per pass), each from victims no other took; a low-priority job still
// does not preempt.
TEST(StargatePolicyPreemption, UrgentJobsTogetherEachPreemptInOnePass) {
  ClusterState s = Full(4);
  for (uint32_t n = 0; n < 4; ++n) RunGang(s, n + 1, n, 0, Duration::Minutes(10 * (n + 1)));
  Queue q;
  for (uint32_t i = 0; i < 3; ++i) {
    JobRequest r = Urgent(8);
    r.id = JobId(1000 + i);
    r.submit = kNow + Duration::Seconds(i);
    q.Push(r);
  }
  JobRequest low = Urgent(8, 0);
  low.id = JobId(2000);
  low.submit = kNow + Duration::Seconds(9);
  q.Push(low);
  StargatePolicy policy({});
  const Decisions d = policy.Schedule(s, q, kNow);
  std::map<uint32_t, uint32_t> victim_for;  // victim -> the job it was stopped for
  for (const Decision& item : d.items) {
    const auto* p = std::get_if<Preempt>(&item);
    ASSERT_NE(p, nullptr) << "only preemptions expected";
    const size_t at = p->reason.find("preempted for job ");
    ASSERT_NE(at, std::string::npos) << p->reason;
    EXPECT_TRUE(victim_for.emplace(p->job.value(), std::stoul(p->reason.substr(at + 18))).second) << p->reason;
  }
  // Three victims, the three that lose least, one for each urgent job.
  EXPECT_EQ(victim_for, (std::map<uint32_t, uint32_t>{{1, 1000}, {2, 1001}, {3, 1002}}));
}

// An urgent job that is not the head holds its own reservation too: a
// low-priority job does not backfill into the room its draining victims
// (or a free node beside them) will make up, which would leave it short
// when they end and make it stop another gang. A job that ends before the
// victims do still backfills.
TEST(StargatePolicyPreemption, UrgentJobsBehindTheHeadHoldTheirRoomToo) {
  ClusterState s =
      testing::OneSite({PoolSpec{AcceleratorType::kH100, 2, 8, 1, 1}, PoolSpec{AcceleratorType::kA100, 2, 8, 1, 1}}, 4);
  auto gang = [&](uint32_t job, uint32_t node, uint16_t pool, Time end, bool draining) {
    s.Allocate(NodeId(node), 8);
    RunningGang g = RunningGang::Ending(JobId(job), PoolId(pool), 8, end);
    g.draining = draining;
    s.AddRunning(g);
  };
  const Time warning_ends = kNow + Duration::Seconds(90);
  gang(1, 0, 0, warning_ends, true);  // the head's victims, draining
  gang(2, 1, 0, warning_ends, true);
  gang(3, 2, 1, warning_ends, true);  // the second urgent job's: it needs node 3 as well
  auto job = [](uint32_t id, int devices, AcceleratorType type, int priority, Duration estimate, int at) {
    JobRequest r = Urgent(devices, priority);
    r.id = JobId(id);
    r.accel_mask = MaskOf(type);
    r.estimate = estimate;
    r.submit = kNow + Duration::Seconds(at);
    return r;
  };
  for (bool short_job : {false, true}) {
    Queue q;
    q.Push(job(1000, 16, AcceleratorType::kH100, 10, Duration::Hours(1), 0));
    q.Push(job(1001, 16, AcceleratorType::kA100, 10, Duration::Hours(1), 1));
    q.Push(job(2000, 8, AcceleratorType::kA100, 0, short_job ? Duration::Seconds(10) : Duration::Hours(1), 2));
    StargatePolicy policy({});
    const Decisions d = policy.Schedule(s, q, kNow);
    std::vector<uint32_t> started;
    for (const Decision& item : d.items) {
      EXPECT_EQ(std::get_if<Preempt>(&item), nullptr) << "the victims already draining are enough";
      if (const auto* st = std::get_if<Start>(&item)) started.push_back(st->job.value());
    }
    EXPECT_EQ(started, short_job ? std::vector<uint32_t>{2000} : std::vector<uint32_t>{}) << short_job;
  }
}

TEST(StargatePolicyPreemption, NoPreemptionWhenRoomComesSoon) {
  ClusterState s = Full(1);
  s.Allocate(NodeId(0), 8);
  s.AddRunning(RunningGang::Ending(JobId(1), PoolId(0), 8, kNow + Duration::Minutes(5)));
  Queue q;
  q.Push(Urgent(8));
  StargatePolicy policy({});  // preempt_after 10 min > 5 min
  EXPECT_TRUE(policy.Schedule(s, q, kNow).empty());
}

TEST(StargatePolicyPreemption, NeverPreemptsWhenRoomComesBeforeTheWarningEnds) {
  // preempt_after 0 asks for preemption at once, but room comes in 30 s
  // and a warning lasts 2 min: stopping anyone would only delay the job.
  ClusterState s = Full(1);
  s.Allocate(NodeId(0), 8);
  s.AddRunning(RunningGang::Ending(JobId(1), PoolId(0), 8, kNow + Duration::Seconds(30)));
  Queue q;
  q.Push(Urgent(8));
  SchedulerSpec spec;
  spec.preempt_after = Duration::Zero();
  StargatePolicy policy(spec);
  EXPECT_TRUE(policy.Schedule(s, q, kNow).empty());
}

}  // namespace
}  // namespace stargate::sched
