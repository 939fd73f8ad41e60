// The agent API on gRPC: heartbeats that wait in long polls are parked in
// the control plane, not held on a server thread each (gRPC's callback
// API), and are answered when their wait ends, when there is news, or at
// once when their caller gives up.
#include "control/server/agent_service.h"

#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "control/protocol/agent_proto.h"
#include "control/store/memory_store.h"
#include "join_node.h"
#include "proto/agent.grpc.pb.h"
#include "runtime/manual_clock.h"
#include "sched/scheduler.h"

namespace stargate::control {
namespace {

int ThreadsOfThisProcess() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

// Polls `cond` for up to 10 s.
template <typename F>
bool Eventually(F cond) {
  for (int i = 0; i < 10'000 && !cond(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return cond();
}

struct Rig {
  ManualClock clock;
  MemoryStore store;
  std::unique_ptr<ControlPlane> cp;
  std::unique_ptr<AgentServer> server;
  std::unique_ptr<pb::AgentService::Stub> stub;

  explicit Rig(int max_long_polls) {
    ControlPlaneOptions o;
    o.reconciler.check_kept_view = true;
    o.data_dir = "/data";
    o.max_long_polls = max_long_polls;
    cp = std::make_unique<ControlPlane>(&store, &clock, sched::MakeScheduler("fifo").value(), o);
    EXPECT_TRUE(cp->Load().ok());
    server = std::make_unique<AgentServer>(cp.get());
    const StatusOr<int> port = server->Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok());
    stub = pb::AgentService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials()));
  }
  ~Rig() {
    cp->StopLoop();
    server->Stop();
  }
  // Node `name` registered; a heartbeat of it that waits up to 5 s.
  AgentHeartbeat Join(const std::string& name) {
    AgentHeartbeat h = testing::JoinNode(*cp, name);
    h.wait = Duration::Seconds(5);
    return h;
  }
  bool Metric(const std::string& line) { return cp->RenderMetrics().find(line + "\n") != std::string::npos; }
};

// One heartbeat call on the client's callback API.
struct Call {
  grpc::ClientContext ctx;
  pb::HeartbeatReply reply;
  std::atomic<bool> done{false};
  grpc::Status status;
};

TEST(AgentServer, LongPollsHoldNoServerThreads) {
  constexpr int kPolls = 150;
  std::vector<std::unique_ptr<Call>> calls;  // outlive the server, which ends them
  Rig rig(1024);
  std::vector<AgentHeartbeat> beats;
  for (int i = 0; i < kPolls; ++i) beats.push_back(rig.Join("n" + std::to_string(i)));
  // The channel and the server's pollers up before counting.
  ASSERT_TRUE(Eventually([&] { return ThreadsOfThisProcess() > 0; }));
  const int before = ThreadsOfThisProcess();
  for (const AgentHeartbeat& h : beats) {
    auto c = std::make_unique<Call>();
    const pb::HeartbeatRequest req = ToProto(h);
    Call* raw = c.get();
    rig.stub->async()->Heartbeat(&raw->ctx, &req, &raw->reply, [raw](grpc::Status s) {
      raw->status = std::move(s);
      raw->done = true;
    });
    calls.push_back(std::move(c));
  }
  ASSERT_TRUE(Eventually([&] { return rig.Metric("stargate_agent_long_polls " + std::to_string(kPolls)); }))
      << rig.cp->RenderMetrics();
  // A sync server held a thread per waiting poll; parked, they need the
  // keeper and the answering thread and whatever gRPC keeps anyway.
  const int during = ThreadsOfThisProcess();
  EXPECT_LT(during - before, 20) << before << " threads before, " << during << " with " << kPolls << " polls held";
  for (const auto& c : calls) EXPECT_FALSE(c->done);
  rig.clock.Advance(Duration::Seconds(5));  // their waits end
  ASSERT_TRUE(Eventually(
      [&] { return std::all_of(calls.begin(), calls.end(), [](const auto& c) { return c->done.load(); }); }));
  for (const auto& c : calls) {
    EXPECT_TRUE(c->status.ok()) << c->status.error_message();
    EXPECT_EQ(c->reply.run_size(), 0);
  }
  EXPECT_TRUE(rig.Metric("stargate_agent_long_polls 0"));
}

Call* Start(Rig& rig, const AgentHeartbeat& h, std::vector<std::unique_ptr<Call>>* calls) {
  calls->push_back(std::make_unique<Call>());
  Call* raw = calls->back().get();
  const pb::HeartbeatRequest req = ToProto(h);
  rig.stub->async()->Heartbeat(&raw->ctx, &req, &raw->reply, [raw](grpc::Status s) {
    raw->status = std::move(s);
    raw->done = true;
  });
  return raw;
}

// A poll its agent cancels is answered at once, not at the end of its
// wait; past max_long_polls one is turned away with a later beat.
TEST(AgentServer, ACancelledPollEndsAtOnceAndOnlySoManyAreParked) {
  std::vector<std::unique_ptr<Call>> calls;  // outlive the server, which ends them
  Rig rig(2);
  Call* a = Start(rig, rig.Join("a"), &calls);
  Call* b = Start(rig, rig.Join("b"), &calls);
  ASSERT_TRUE(Eventually([&] { return rig.Metric("stargate_agent_long_polls 2"); }));
  Call* c = Start(rig, rig.Join("c"), &calls);
  ASSERT_TRUE(Eventually([&] { return c->done.load(); }));
  ASSERT_TRUE(c->status.ok()) << c->status.error_message();
  EXPECT_GE(c->reply.next_beat_ms(), 1000);
  EXPECT_LT(c->reply.next_beat_ms(), 2000);
  EXPECT_TRUE(rig.Metric("stargate_agent_polls_turned_away_total 1"));

  a->ctx.TryCancel();  // the clock stands still: only the cancel can end it
  ASSERT_TRUE(Eventually([&] { return a->done.load(); }));
  EXPECT_EQ(a->status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(Eventually([&] { return rig.Metric("stargate_agent_long_polls 1"); }));
  EXPECT_FALSE(b->done);
  rig.clock.Advance(Duration::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return b->done.load(); }));
  EXPECT_TRUE(b->status.ok());
}

// News for the node (a job placed on it) ends its parked poll with the
// task to run, without waiting for the end of its wait.
TEST(AgentServer, AParkedPollEndsWithNews) {
  std::vector<std::unique_ptr<Call>> calls;  // outlive the server, which ends them
  Rig rig(8);
  Call* n = Start(rig, rig.Join("n"), &calls);
  ASSERT_TRUE(Eventually([&] { return rig.Metric("stargate_agent_long_polls 1"); }));
  ASSERT_TRUE(rig.cp->Submit("name: j\nresources: {accelerators: CPU:1}\nrun: x\n", "j.yaml", "", "test").ok());
  rig.cp->Pass();
  ASSERT_TRUE(Eventually([&] { return n->done.load(); }));
  ASSERT_TRUE(n->status.ok()) << n->status.error_message();
  EXPECT_EQ(n->reply.run_size(), 1);
}

// An agent that stops cleanly says so on the heartbeat method: answered
// (once on disk: LeaveAsync, not a queue thread waiting for the sync), its
// node down at once; a leave from another agent than the node's holder is
// refused and changes nothing.
TEST(AgentServer, ALeaveIsAnsweredAndTakesItsNodeDown) {
  Rig rig(8);
  AgentHeartbeat a = rig.Join("a");
  AgentHeartbeat b = rig.Join("b");
  auto leave = [&](AgentHeartbeat h) {
    h.leaving = true;
    h.wait = Duration::Zero();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    pb::HeartbeatReply reply;
    return rig.stub->Heartbeat(&ctx, ToProto(h), &reply);
  };
  auto alive = [&](const std::string& name) {
    for (const ControlPlane::NodeView& v : rig.cp->Nodes().nodes) {
      if (v.info.name == name) return v.alive;
    }
    return false;
  };
  ASSERT_TRUE(alive("a") && alive("b"));
  AgentHeartbeat impostor = b;
  impostor.telemetry.agent_id = "someone-else";
  EXPECT_EQ(leave(impostor).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(alive("b"));
  const grpc::Status left = leave(a);
  ASSERT_TRUE(left.ok()) << left.error_message();
  EXPECT_FALSE(alive("a"));
  EXPECT_TRUE(alive("b"));
}

}  // namespace
}  // namespace stargate::control
