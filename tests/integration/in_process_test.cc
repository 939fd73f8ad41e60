// A server and an agent built in one process through Server::Open and
// Agent::Open, as `stargate server` and `stargate agent` build them: on
// the real clock a job runs end to end (REST over loopback, the agent API
// over gRPC, a real process, its log read back through the server); on
// the manual clock the control loop and a heartbeat's long poll move only
// when the test advances time, and a silent node is lost exactly at the
// heartbeat timeout.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "control/agent/agent.h"
#include "control/net/http_client.h"
#include "control/server/server.h"
#include "runtime/manual_clock.h"
#include "runtime/real_clock.h"

namespace stargate::control {
namespace {

using nlohmann::json;

// Polls `done` every 20 ms of real time for up to `seconds`.
template <typename Pred>
bool Eventually(Pred done, int seconds) {
  for (int i = 0; i < seconds * 50; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

ServerOptions InMemory(Clock* clock) {
  ServerOptions o;
  o.clock = clock;
  o.scheduler = sched::MakeScheduler("fifo").value();
  o.in_memory = true;
  o.rest_port = 0;
  o.agent_port = 0;
  o.name = "in-process";
  o.log = [](const std::string&) {};
  o.warn = [](const std::string&) {};
  return o;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/stargate-inproc-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(InProcess, AServerAndAnAgentRunAJobEndToEnd) {
  RealClock clock;
  std::unique_ptr<Server> server = Server::Open(InMemory(&clock)).value();
  const std::string url = fmt::format("http://127.0.0.1:{}", server->rest_port());
  TempDir work;
  AgentConfig a;
  a.server = fmt::format("127.0.0.1:{}", server->agent_port());
  a.node.name = "n1";
  a.node.site = "here";
  a.node.region = "local";
  a.node.jurisdiction = "US";
  a.node.address = "127.0.0.1";
  a.work_dir = work.path();
  a.stop_grace = Duration::Seconds(2);
  std::unique_ptr<Agent> agent = Agent::Open(a, &clock).value();

  const StatusOr<HttpResponse> submitted =
      CallServer(url, "POST", "/v1/jobs", "name: hello\nrun: echo \"hello from rank $RANK of $WORLD_SIZE\"\n");
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  std::string state;
  ASSERT_TRUE(Eventually(
      [&] {
        StatusOr<HttpResponse> r = CallServer(url, "GET", "/v1/jobs/1");
        state = r.ok() && r->status == 200 ? json::parse(r->body)["job"]["state"].get<std::string>() : "?";
        return state == "succeeded" || state == "failed";
      },
      20))
      << state;
  EXPECT_EQ(state, "succeeded");
  // Its output, fetched by the server from the agent's log server.
  const StatusOr<HttpResponse> log = CallServer(url, "GET", "/v1/jobs/1/logs/0");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->status, 200) << log->body;
  EXPECT_EQ(log->body, "hello from rank 0 of 1\n");

  // A clean stop: the node leaves (down at once, not a failure).
  agent->Stop();
  ASSERT_TRUE(agent->Wait().ok());
  const ControlPlane::NodesView nodes = server->control_plane().Nodes();
  ASSERT_EQ(nodes.nodes.size(), 1u);
  EXPECT_FALSE(nodes.nodes[0].alive);
  EXPECT_EQ(nodes.health.count("here") ? nodes.health.at("here").failures : 0, 0);
  server->Stop();
  EXPECT_TRUE(server->Wait().ok());
}

// Advances the manual clock by `step` and waits (in real time) for the
// control loop, which the advance wakes, to finish its pass.
void StepAndSettle(ManualClock& clock, ControlPlane& cp, Duration step) {
  const uint64_t before = cp.passes();
  clock.Advance(step);
  ASSERT_TRUE(Eventually([&] { return cp.passes() > before; }, 10)) << "the loop did not pass";
}

TEST(InProcess, TheServerMovesOnlyWithTheManualClock) {
  ManualClock clock;
  ServerOptions o = InMemory(&clock);
  o.heartbeat_timeout = Duration::Seconds(5);
  o.reconciler.site_partition_grace = Duration::Zero();  // its one node's silence is its own
  std::unique_ptr<Server> server = Server::Open(std::move(o)).value();
  ControlPlane& cp = server->control_plane();
  ASSERT_TRUE(Eventually([&] { return cp.passes() >= 1; }, 10));  // its first pass, at once

  // A node joins through the agent API's plain values.
  Registration r;
  r.node.name = "n1";
  r.node.site = "here";
  r.node.address = "127.0.0.1";
  r.agent_id = "a1";
  ASSERT_TRUE(cp.Register(r).ok());
  AgentHeartbeat beat;
  beat.node = "n1";
  beat.telemetry.agent_id = "a1";
  ASSERT_FALSE(cp.Heartbeat(beat).value().register_again);
  // A submit over loopback wakes the loop, which places it with no time passing.
  const std::string url = fmt::format("http://127.0.0.1:{}", server->rest_port());
  ASSERT_EQ(CallServer(url, "POST", "/v1/jobs", "name: j\nrun: sleep 100\n")->status, 201);
  ASSERT_TRUE(Eventually([&] { return cp.Job(1)->state == JobState::kRunning; }, 10));
  const Time placed = clock.Now();

  // The agent runs it and long-polls for 1 s of clock time: the reply
  // waits for the clock, however long that takes in real time.
  beat.tasks = {TaskReport{TaskRef{1, 1}, true, 0, 0}};
  beat.wait = Duration::Seconds(1);
  std::atomic<bool> answered{false};
  std::thread poll([&] {
    EXPECT_TRUE(cp.Heartbeat(beat).value().run.empty());
    answered = true;
  });
  ASSERT_TRUE(Eventually([&] { return clock.waiting() >= 2; }, 10));  // the loop and the poll
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(answered.load());
  for (int i = 0; i < 4; ++i) StepAndSettle(clock, cp, Duration::Millis(250));
  ASSERT_TRUE(Eventually([&] { return answered.load(); }, 10));
  poll.join();
  const Time last_beat = clock.Now();  // the poll counts as heard until it answers

  // Then n1 falls silent. The loop passes every 250 ms of clock time; the
  // job is given up once n1 has been silent longer than the timeout.
  Time lost_at;
  for (int i = 0; i < 40 && cp.Job(1)->attempt == 1 && cp.Job(1)->state == JobState::kRunning; ++i) {
    StepAndSettle(clock, cp, Duration::Millis(250));
    lost_at = clock.Now();
  }
  const JobRecord job = cp.Job(1).value();
  EXPECT_EQ(job.state, JobState::kPending) << job.reason;
  EXPECT_EQ(job.restarts, 1);
  EXPECT_NE(job.reason.find("missed its heartbeats"), std::string::npos) << job.reason;
  // The first pass past last heartbeat + 5 s (passes are 250 ms apart).
  EXPECT_GT(lost_at - last_beat, Duration::Seconds(5));
  EXPECT_LE(lost_at - last_beat, Duration::Seconds(5) + Duration::Millis(250));
  EXPECT_GT(lost_at, placed);
  server->Stop();
}

}  // namespace
}  // namespace stargate::control
