// The control plane's seams with its store and its agents: a pass whose
// batch the store loses (a COMMIT the disk refused, a condition etcd
// found broken) is forgotten, and no agent is handed a task the store
// does not hold; only so many heartbeats are held in long polls.
#include "control/server/control_plane.h"

#include <gtest/gtest.h>

#include <thread>

#include "control/store/memory_store.h"
#include "forwarding_store.h"
#include "join_node.h"
#include "runtime/manual_clock.h"
#include "sched/scheduler.h"

namespace stargate::control {
namespace {

// A memory store whose next batch is lost at EndBatch: it goes back to
// what it held before the batch began.
class LosingStore final : public ForwardingStore {
 public:
  Status BeginBatch() override {
    before_ = inner_;
    return Status();
  }
  Status EndBatch() override {
    if (!lose_next) return Status();
    lose_next = false;
    inner_ = before_;
    return absl::UnavailableError("the disk went away");
  }
  bool lose_next = false;

 private:
  MemoryStore before_;
};

AgentHeartbeat Join(ControlPlane& cp, const std::string& name) { return testing::JoinNode(cp, name); }

TEST(ControlPlaneTest, ALostBatchHandsOutNothingAndIsPlacedAgain) {
  ManualClock clock(Time::FromMillis(1'700'000'000'000));
  LosingStore store;
  ControlPlaneOptions o;
  o.reconciler.check_kept_view = true;
  o.data_dir = "/data";
  std::vector<std::string> log;
  o.log = [&](const std::string& line) { log.push_back(line); };
  ControlPlane cp(&store, &clock, sched::MakeScheduler("fifo").value(), o);
  ASSERT_TRUE(cp.Load().ok());
  const AgentHeartbeat h = Join(cp, "n1");
  const uint64_t id = cp.Submit("name: j\nresources: {accelerators: CPU:1}\nrun: x\n", "j.yaml", "", "test")->job.id;

  store.lose_next = true;
  cp.Pass();
  EXPECT_EQ(cp.Job(id)->state, JobState::kPending);  // read back from the store
  EXPECT_TRUE(cp.Heartbeat(h)->run.empty());
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("the disk went away"), std::string::npos) << log.back();
  AuditFilter placed;
  placed.action = "place";
  EXPECT_TRUE(cp.QueryAudit(placed)->empty());

  cp.Pass();
  EXPECT_EQ(cp.Job(id)->state, JobState::kRunning);
  const HeartbeatResult got = cp.Heartbeat(h).value();
  ASSERT_EQ(got.run.size(), 1u);
  EXPECT_EQ(got.run[0].task.job, id);
  EXPECT_EQ(cp.QueryAudit(placed)->size(), 1u);
}

// With max_long_polls held, the next heartbeat is answered at once and its
// agent told to come back in 1-2 s; once one is released, polls are held
// again.
TEST(ControlPlaneTest, OnlySoManyLongPollsAreHeld) {
  ManualClock clock(Time::FromMillis(1'700'000'000'000));
  MemoryStore store;
  ControlPlaneOptions o;
  o.reconciler.check_kept_view = true;
  o.data_dir = "/data";
  o.max_long_polls = 1;
  ControlPlane cp(&store, &clock, sched::MakeScheduler("fifo").value(), o);
  ASSERT_TRUE(cp.Load().ok());
  AgentHeartbeat a = Join(cp, "a"), b = Join(cp, "b");
  a.wait = b.wait = Duration::Seconds(5);
  std::thread held([&] {
    const HeartbeatResult r = cp.Heartbeat(a).value();
    EXPECT_EQ(r.next_beat, Duration::Zero());
  });
  while (cp.RenderMetrics().find("stargate_agent_long_polls 1\n") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const HeartbeatResult away = cp.Heartbeat(b).value();  // the clock stands still: it was not held
  EXPECT_GE(away.next_beat, Duration::Seconds(1));
  EXPECT_LT(away.next_beat, Duration::Seconds(2));
  EXPECT_NE(cp.RenderMetrics().find("stargate_agent_polls_turned_away_total 1\n"), std::string::npos);
  clock.Advance(Duration::Seconds(5));
  held.join();
  EXPECT_NE(cp.RenderMetrics().find("stargate_agent_long_polls 0\n"), std::string::npos);
  std::thread again([&] { EXPECT_EQ(cp.Heartbeat(b).value().next_beat, Duration::Zero()); });
  while (cp.RenderMetrics().find("stargate_agent_long_polls 1\n") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  clock.Advance(Duration::Seconds(5));
  again.join();
}

}  // namespace
}  // namespace stargate::control
