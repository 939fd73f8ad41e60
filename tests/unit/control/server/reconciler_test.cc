// The control loop without sockets: placement, torchrun-style env, the
// level-triggered heartbeat protocol, success, failure, cancel, and a gang
// that loses a node restarting elsewhere with its restart count raised.
#include "control/server/reconciler.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <random>

#include "control/store/memory_store.h"
#include "model/checkpoint.h"
#include "model/failure.h"
#include "runtime/manual_clock.h"
#include "sched/power_ramp.h"
#include "sched/request_of.h"

namespace stargate::control {
namespace {

constexpr Time kT0 = Time::FromMillis(1'700'000'000'000);

// As an agent joins: it registers, then says what it runs (nothing);
// only then does new work land on it.
void Join(NodeRegistry& nodes, const NodeInfo& n, Time now) {
  ASSERT_TRUE(nodes.Register(n, now).ok());
  NodeTelemetry t;
  t.last_heartbeat = now;
  ASSERT_TRUE(nodes.Heartbeat(n.name, t));
}
constexpr Duration kTimeout = Duration::Seconds(5);

// A node of `site` with `cpus` CPU slots.
NodeInfo CpuNode(const std::string& name, const std::string& site, const std::string& jurisdiction,
                 const std::string& address, int cpus = 1) {
  NodeInfo n;
  n.name = name;
  n.site = site;
  n.jurisdiction = jurisdiction;
  n.address = address;
  n.accelerator = AcceleratorType::kCpu;
  n.accelerators = cpus;
  return n;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() {
    for (const char* n : {"a", "b"}) AddNode(n);
    ReconcilerOptions o;
    o.check_kept_view = true;  // every pass: the kept view is one built afresh
    rec_.Configure(o);
  }
  void AddNode(const std::string& name) { AddNodeAt(name, "s1", "US", "10.0.0." + name); }
  // A one-CPU node of `site` joins now.
  void AddNodeAt(const std::string& name, const std::string& site, const std::string& jurisdiction,
                 const std::string& address) {
    Join(nodes_, CpuNode(name, site, jurisdiction, address), clock_.Now());
  }
  uint64_t Submit(int nodes, const std::string& run = "train") {
    const std::string spec =
        fmt::format("name: j\nresources: {{accelerators: CPU:1, nodes: {}}}\nrun: {}\n", nodes, run);
    return jobs_.Submit(spec, "j.yaml", "").value().id;
  }
  HeartbeatResult Beat(const std::string& node, std::vector<TaskReport> tasks = {}) {
    return rec_.OnHeartbeat(node, NodeTelemetry{}, tasks).value();
  }
  static TaskReport Running(TaskRef t) { return TaskReport{t, true, 0, 0}; }
  static TaskReport Exited(TaskRef t, int code) { return TaskReport{t, false, code, 0}; }
  // A sites file giving each site a constant grid carbon figure.
  static std::shared_ptr<const SiteBook> Sites(const std::map<std::string, double>& carbon) {
    std::vector<SiteInfo> sites;
    for (const auto& [name, g] : carbon) {
      SiteInfo s;
      s.name = name;
      s.carbon.mean = g;
      sites.push_back(s);
    }
    return SiteBook::FromSites(sites).value();
  }

  // Time moves only when a test advances it: timeouts and grace periods
  // are decided without sleeping.
  ManualClock clock_{kT0};
  MemoryStore store_;
  JobRegistry jobs_{&store_, &clock_};
  NodeRegistry nodes_{&store_, kTimeout};
  Reconciler rec_{&jobs_, &nodes_, sched::MakeScheduler("fifo").value(), "/data", &clock_};
};

// A node that declares its site's checkpoint store (agent
// --checkpoint-root) gets its ranks' checkpoint dirs there; one that does
// not, the server's data dir.
TEST_F(ReconcilerTest, CheckpointsGoToTheStoreTheNodesSiteDeclares) {
  NodeInfo c = CpuNode("c", "s2", "US", "10.0.0.c", 2);
  c.checkpoint_root = "/mnt/site-two/ckpt";
  Join(nodes_, c, clock_.Now());
  const uint64_t id =
      jobs_.Submit("name: j\nresources: {accelerators: CPU:2}\ncheckpoint: {dir: runs/7}\nrun: x\n", "j.yaml", "")
          .value()
          .id;
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_EQ(jobs_.Get(id).value().nodes, (std::vector<std::string>{"c"}));
  const HeartbeatResult hc = Beat("c");
  ASSERT_EQ(hc.run.size(), 1u);
  EXPECT_EQ(hc.run[0].env.at("STARGATE_CHECKPOINT_DIR"), "/mnt/site-two/ckpt/default/runs/7");
  EXPECT_EQ(hc.run[0].env.at("STARGATE_CHECKPOINT_AREA"), "/mnt/site-two/ckpt/default");
}

TEST_F(ReconcilerTest, PlacesAGangAndHandsEachNodeItsRank) {
  const uint64_t id = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  const JobRecord r = jobs_.Get(id).value();
  ASSERT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.nodes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.attempt, 1u);
  EXPECT_EQ(r.master_addr, "10.0.0.a");
  const HeartbeatResult ha = Beat("a");
  ASSERT_EQ(ha.run.size(), 1u);
  EXPECT_EQ(ha.run[0].command, "train");
  EXPECT_EQ(ha.run[0].env.at("RANK"), "0");
  EXPECT_EQ(ha.run[0].env.at("WORLD_SIZE"), "2");
  EXPECT_EQ(ha.run[0].env.at("MASTER_ADDR"), "10.0.0.a");
  EXPECT_EQ(ha.run[0].env.at("MASTER_PORT"), std::to_string(r.master_port));
  EXPECT_EQ(ha.run[0].env.at("STARGATE_RESTART_COUNT"), "0");
  EXPECT_EQ(ha.run[0].env.at("STARGATE_CHECKPOINT_DIR"), fmt::format("/data/checkpoints/default/{}", id));
  EXPECT_EQ(ha.run[0].env.at("STARGATE_CHECKPOINT_INTERVAL_S"), "3600");
  EXPECT_EQ(ha.run[0].env.at("LOCAL_RANK"), "0");
  EXPECT_EQ(Beat("b").run.at(0).env.at("NODE_RANK"), "1");
  // Already running: nothing new to start, nothing to stop.
  const TaskRef t{id, 1};
  const HeartbeatResult again = Beat("a", {Running(t)});
  EXPECT_TRUE(again.run.empty());
  EXPECT_TRUE(again.stop.empty());
  // A second job does not fit while the first holds both nodes.
  const uint64_t second = Submit(1);
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(second).value().state, JobState::kPending);
}

// Carbon from --sites reaches the scheduler: with equal free capacity,
// work lands on the cleaner site, swapping the figures swaps the
// placement, and the reason prints the real figure (issue 18).
TEST_F(ReconcilerTest, PlacesOnTheCleanerSiteTheSitesFileNames) {
  AddNodeAt("c", "s2", "US", "10.0.0.c");
  AddNodeAt("d", "s2", "US", "10.0.0.d");
  for (const auto& [s1, s2, want] : {std::tuple{700.0, 30.0, "s2"}, std::tuple{30.0, 700.0, "s1"}}) {
    Reconciler rec{&jobs_, &nodes_, sched::MakeScheduler("stargate").value(), "/data", &clock_};
    AuditLog audit(&store_);
    rec.SetAudit(&audit);
    ReconcilerOptions o;
    o.check_kept_view = true;  // every pass: the kept view is one built afresh
    o.sites = Sites({{"s1", s1}, {"s2", s2}});
    rec.Configure(o);
    const uint64_t id = Submit(1);
    ASSERT_TRUE(rec.Tick().ok());
    const JobRecord r = jobs_.Get(id).value();
    ASSERT_EQ(r.state, JobState::kRunning);
    EXPECT_EQ(nodes_.Find(r.nodes[0])->site, want) << s1 << " vs " << s2;
    AuditFilter f;
    f.job = id;
    f.action = "place";
    const std::vector<AuditEntry> placed = audit.Query(f).value();
    ASSERT_EQ(placed.size(), 1u);
    EXPECT_NE(placed[0].detail.find(fmt::format("grid {:.0f} g/kWh", std::min(s1, s2))), std::string::npos)
        << placed[0].detail;
    ASSERT_TRUE(jobs_.Cancel(id, "next").ok());
    rec.OnHeartbeat(r.nodes[0], NodeTelemetry{}, {Exited({id, 1}, 143)}).value();
  }
}

// An agent that died while a rank ran is followed by one that ends what
// was left and reports it lost: the attempt stops and restarts as a new
// one (not a failure of the job), and the old attempt is never handed out
// again, to this node or any other.
TEST_F(ReconcilerTest, ARankLostWithItsAgentRestartsAsANewAttempt) {
  const uint64_t id = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  const TaskRef t{id, 1};
  Beat("a", {Running(t)});
  Beat("b", {Running(t)});
  TaskReport lost{t, false, 0, SIGKILL, true};
  HeartbeatResult h = Beat("a", {lost});
  EXPECT_EQ(h.forget, (std::vector<TaskRef>{t}));
  EXPECT_TRUE(h.run.empty());
  JobRecord r = jobs_.Get(id).value();
  EXPECT_TRUE(r.stopping);
  EXPECT_EQ(r.failed_attempts, 0);
  EXPECT_NE(r.reason.find("the agent on a restarted"), std::string::npos) << r.reason;
  EXPECT_EQ(Beat("b", {Running(t)}).stop, (std::vector<TaskRef>{t}));  // its peer stops too
  Beat("b", {Exited(t, 143)});
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.attempt, 2u);
  EXPECT_EQ(r.restarts, 1);
  for (const std::string n : {"a", "b"}) {
    const HeartbeatResult next = Beat(n);
    ASSERT_EQ(next.run.size(), 1u);
    EXPECT_EQ(next.run[0].task.attempt, 2u);
  }
}

TEST_F(ReconcilerTest, SucceedsWhenEveryRankExitsZeroAndFailsOnANonZeroExit) {
  const uint64_t id = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  const TaskRef t{id, 1};
  HeartbeatResult h = Beat("a", {Exited(t, 0)});
  EXPECT_EQ(h.forget, (std::vector<TaskRef>{t}));
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kRunning);  // rank 1 still runs
  Beat("b", {Exited(t, 0)});
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kSucceeded);

  const uint64_t bad = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  const TaskRef tb{bad, 1};
  Beat("a", {Exited(tb, 3)});
  const JobRecord failed = jobs_.Get(bad).value();
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.reason, "rank 0 on a exited with code 3");
  EXPECT_EQ(Beat("b", {Running(tb)}).stop, (std::vector<TaskRef>{tb}));  // the rest is stopped
}

// A rank's non-zero exit with retries left: the attempt stops, and the job
// waits 10 s, then 20 s, ... before each retry (CrashLoopBackOff-style),
// saying so; the last failure fails it.
TEST_F(ReconcilerTest, RetriesAfterAFailureBackOffExponentially) {
  const uint64_t id =
      jobs_.Submit("name: j\nresources: {accelerators: CPU:1}\nmax_restarts: 2\nrun: x\n", "j.yaml", "").value().id;
  for (int retry = 1; retry <= 2; ++retry) {
    ASSERT_TRUE(rec_.Tick().ok());
    const JobRecord running = jobs_.Get(id).value();
    ASSERT_EQ(running.state, JobState::kRunning) << retry;
    const TaskRef t{id, running.attempt};
    Beat(running.nodes[0], {Exited(t, 1)});
    const JobRecord waiting = jobs_.Get(id).value();
    ASSERT_EQ(waiting.state, JobState::kPending) << waiting.reason;
    const Duration backoff = Duration::Seconds(10) * (int64_t{1} << (retry - 1));
    EXPECT_EQ(waiting.deferred_until, clock_.Now() + backoff);
    EXPECT_NE(
        waiting.reason.find(fmt::format("in {} s at the earliest (retry {} of 2", backoff.millis() / 1000, retry)),
        std::string::npos)
        << waiting.reason;
    clock_.Advance(backoff - Duration::Seconds(1));
    for (const char* n : {"a", "b"}) Beat(n);
    ASSERT_TRUE(rec_.Tick().ok());
    EXPECT_EQ(jobs_.Get(id).value().state, JobState::kPending) << "placed before its back-off ended";
    clock_.Advance(Duration::Seconds(1));
    for (const char* n : {"a", "b"}) Beat(n);
  }
  ASSERT_TRUE(rec_.Tick().ok());
  const JobRecord last = jobs_.Get(id).value();
  ASSERT_EQ(last.state, JobState::kRunning);
  Beat(last.nodes[0], {Exited(TaskRef{id, last.attempt}, 1)});
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kFailed);
  EXPECT_EQ(Reconciler::RestartBackoff(10), Duration::Minutes(5));
}

// A job the pass leaves waiting says why in plain words once it has been
// among the first left waiting for a second (one placed sooner is not
// written twice), and says it again when that changes; a reason that says
// more is kept.
TEST_F(ReconcilerTest, PendingJobsSayWhatTheyWaitFor) {
  const uint64_t one = Submit(1);
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_EQ(jobs_.Get(one).value().state, JobState::kRunning);
  const uint64_t two = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(two).value().reason, "submitted");
  const int64_t revision = jobs_.Get(two).value().revision;
  auto later = [&](Duration d) {
    clock_.Advance(d);
    for (const char* n : {"a", "b"}) Beat(n);
    ASSERT_TRUE(rec_.Tick().ok());
  };
  later(Duration::Millis(900));
  EXPECT_EQ(jobs_.Get(two).value().revision, revision) << "written before it waited a second";
  later(Duration::Millis(100));
  EXPECT_EQ(jobs_.Get(two).value().reason,
            "waiting for 2 node(s) with 1 free CPU in one site: the best site (s1) has 1 now");
  const uint64_t small = Submit(1);  // room for it, but FIFO holds it behind the gang
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(small).value().reason, "submitted");
  later(Duration::Seconds(1));
  EXPECT_EQ(jobs_.Get(small).value().reason,
            "waiting its turn: s1 has room, held for jobs ahead of it (priority, fair share or a reservation)");
  const JobRecord r = jobs_.Get(one).value();
  Beat(r.nodes[0], {Exited(TaskRef{one, r.attempt}, 0)});
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(two).value().state, JobState::kRunning);
}

TEST_F(ReconcilerTest, CancelStopsTheTasksWhichKeepTheirNodesUntilTheyExit) {
  const uint64_t id = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_TRUE(jobs_.Cancel(id, "by user").ok());
  EXPECT_EQ(Beat("a", {Running({id, 1})}).stop, (std::vector<TaskRef>{{id, 1}}));
  // Still stopping (SIGTERM, grace): a new job must not land on a or b.
  const uint64_t next = Submit(1);
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(next).value().state, JobState::kPending);
  Beat("a", {Exited({id, 1}, 143)});
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(next).value().nodes, (std::vector<std::string>{"a"}));
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kCancelled);
  // b's rank never reports; once b is gone its device is written off.
  clock_.Advance(kTimeout + Duration::Millis(1));
  Beat("a", {Running({next, 1})});
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_TRUE(jobs_.ListEndedButRunning().value().empty());
}

// A node that was silent long enough to lose its rank comes back still
// running it (a partitioned node; a Slurm batch job outliving its driver):
// nothing new lands on it before it has said what it runs, nor on the
// devices the stale rank holds until it has ended.
TEST_F(ReconcilerTest, ARejoiningNodesStaleRankHoldsItsDevicesUntilItEnds) {
  rec_.Configure({.hot_spares = 0, .gang_repair = false, .check_kept_view = true});
  const uint64_t id = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  const TaskRef first{id, 1};
  clock_.Advance(kTimeout + Duration::Millis(1));  // a goes silent
  Beat("b", {Running(first)});
  ASSERT_TRUE(rec_.Tick().ok());
  Beat("b", {Exited(first, 143)});
  ASSERT_EQ(jobs_.Get(id).value().state, JobState::kPending);
  NodeInfo a = *nodes_.Find("a");
  ASSERT_TRUE(nodes_.Register(a, clock_.Now()).ok());  // back, but has not reported yet
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kPending) << "placed on a node that has not said what it runs";
  EXPECT_EQ(Beat("a", {Running(first)}).stop, (std::vector<TaskRef>{first}));
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kPending) << "placed on the devices of a stale rank";
  Beat("a", {Exited(first, 143)});
  ASSERT_TRUE(rec_.Tick().ok());
  const JobRecord r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.attempt, 2u);
  EXPECT_EQ(Beat("a").run.at(0).env.at("STARGATE_NODES"), "a,b");
}

// Every node of a site goes silent at once: a cut WAN link, most likely.
// Its gang keeps its attempt (the agents keep their tasks running) for
// the grace, new work goes elsewhere, and when the site is back the
// attempt simply goes on; a site silent past the grace loses its gangs.
TEST_F(ReconcilerTest, ASilentSitesGangWaitsForItWithinTheGrace) {
  rec_.Configure(
      {.hot_spares = 0, .gang_repair = true, .site_partition_grace = Duration::Seconds(20), .check_kept_view = true});
  for (const char* name : {"e1", "e2"}) AddNodeAt(name, "paris", "EU", name);
  const uint64_t id =
      jobs_.Submit("name: eu\nresources: {nodes: 2}\nplacement: {jurisdictions: [EU]}\nrun: x\n", "e.yaml", "")
          .value()
          .id;
  ASSERT_TRUE(rec_.Tick().ok());
  const TaskRef t{id, 1};
  ASSERT_EQ(jobs_.Get(id).value().nodes, (std::vector<std::string>{"e1", "e2"}));
  clock_.Advance(kTimeout + Duration::Millis(1));  // paris is cut off; a and b go on
  Beat("a");
  Beat("b");
  ASSERT_TRUE(rec_.Tick().ok());
  JobRecord r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kRunning);
  EXPECT_FALSE(r.stopping);
  EXPECT_NE(r.reason.find("site paris is unreachable"), std::string::npos) << r.reason;
  const uint64_t other = Submit(1);  // goes to the site that answers
  ASSERT_TRUE(rec_.Tick().ok());
  const std::vector<std::string> at = jobs_.Get(other).value().nodes;
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(nodes_.Find(at[0])->site, "s1");
  clock_.Advance(Duration::Millis(10'000));  // paris is back within the grace, still running attempt 1
  Beat("b");
  EXPECT_TRUE(Beat("e1", {Running(t)}).stop.empty());
  ASSERT_TRUE(rec_.Tick().ok());  // nodes come back one by one: e2 is not lost meanwhile
  EXPECT_FALSE(jobs_.Get(id).value().stopping) << jobs_.Get(id).value().reason;
  EXPECT_TRUE(Beat("e2", {Running(t)}).stop.empty());
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  EXPECT_EQ(r.attempt, 1u);
  EXPECT_EQ(r.restarts, 0);
  EXPECT_EQ(r.reason, "its site is reachable again; the attempt goes on");
  // Silent again, now past the grace: the attempt is given up.
  clock_.Advance(Duration::Millis(20'000) + kTimeout + Duration::Millis(1));
  Beat("a", {Running({other, 1})});
  Beat("b", {Running({other, 1})});
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  EXPECT_TRUE(r.state == JobState::kPending || r.stopping) << Name(r.state);
  EXPECT_NE(r.reason.find("missed its heartbeats"), std::string::npos) << r.reason;
}

// The whole protocol on the manual clock, to the millisecond and without
// a single sleep: a node is alive exactly up to the heartbeat timeout; a
// silent site's gang waits exactly up to the partition grace; and
// `interval: auto` plans with the up time and failures the clock's
// advance produced.
TEST_F(ReconcilerTest, TimeoutsGraceAndCheckpointIntervalsFollowTheManualClock) {
  rec_.Configure(
      {.hot_spares = 0, .gang_repair = false, .site_partition_grace = Duration::Seconds(30), .check_kept_view = true});
  auto paris = [&](const char* name) { AddNodeAt(name, "paris", "EU", name); };
  paris("e1");
  paris("e2");
  const uint64_t id = jobs_
                          .Submit(
                              "name: eu\nresources: {nodes: 2}\nplacement: {jurisdictions: [EU]}\n"
                              "checkpoint: {interval: auto, cost: 30s}\nrun: x\n",
                              "eu.yaml", "")
                          .value()
                          .id;
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_EQ(jobs_.Get(id).value().nodes, (std::vector<std::string>{"e1", "e2"}));
  const Time quiet = clock_.Now();  // paris is never heard from again
  auto s1_beats = [&] {
    Beat("a");
    Beat("b");
  };
  // Exactly at the timeout e1 and e2 are still alive.
  clock_.Advance(kTimeout);
  s1_beats();
  ASSERT_TRUE(rec_.Tick().ok());
  JobRecord r = jobs_.Get(id).value();
  EXPECT_EQ(r.reason.find("unreachable"), std::string::npos) << r.reason;
  // A millisecond later the whole site is silent: cut off, its gang waits.
  clock_.Advance(Duration::Millis(1));
  s1_beats();
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kRunning);
  EXPECT_FALSE(r.stopping);
  EXPECT_NE(r.reason.find("site paris is unreachable"), std::string::npos) << r.reason;
  // Exactly at the grace (counted from when paris was last heard) it still waits.
  clock_.Set(quiet + Duration::Seconds(30));
  s1_beats();
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.attempt, 1u);
  // A millisecond past it, the attempt is given up (nothing left to drain).
  clock_.Advance(Duration::Millis(1));
  s1_beats();
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_EQ(r.restarts, 1);
  EXPECT_NE(r.reason.find("missed its heartbeats"), std::string::npos) << r.reason;
  EXPECT_EQ(nodes_.health().at("paris").failures, 2);  // both nodes, counted once
  // Paris comes back and beats every 4 s for 10 h of manual time: 20
  // node-hours, two failures. The gang's next attempt plans with that.
  paris("e1");
  paris("e2");
  for (int i = 0; i < 10 * 900; ++i) {
    clock_.Advance(Duration::Seconds(4));
    s1_beats();
    Beat("e1");
    Beat("e2");
  }
  EXPECT_NEAR(nodes_.health().at("paris").node_hours, 20, 1e-9);
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  ASSERT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.attempt, 2u);
  const double prior = model::FailuresPerHour(model::LlamaThreeComponents(), 1, 1, 0);
  const double per_node = model::PosteriorRate(2, 20, prior);
  const Duration daly = model::DalyInterval(Duration::Seconds(30), Duration::FromSeconds(3600 / (2 * per_node)));
  EXPECT_EQ(r.checkpoint_interval, Duration::Millis(daly.millis()));
  EXPECT_EQ(Beat("e1").run.at(0).env.at("STARGATE_CHECKPOINT_INTERVAL_S"), std::to_string(daly.millis() / 1000));
}

TEST_F(ReconcilerTest, ALostNodeRequeuesTheGangWhichRestartsElsewhere) {
  rec_.Configure({.hot_spares = 0, .gang_repair = false, .check_kept_view = true});
  const uint64_t id = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  const TaskRef first{id, 1};
  // Only a keeps heartbeating; b goes silent past the timeout.
  clock_.Advance(kTimeout + Duration::Millis(1));
  Beat("a", {Running(first)});
  ASSERT_TRUE(rec_.Tick().ok());
  JobRecord r = jobs_.Get(id).value();
  // The survivor is told to stop and keeps its node until it has.
  EXPECT_TRUE(r.stopping);
  EXPECT_NE(r.reason.find("node b (rank 1) missed its heartbeats"), std::string::npos) << r.reason;
  EXPECT_EQ(Beat("a", {Running(first)}).stop, (std::vector<TaskRef>{first}));
  const uint64_t other = Submit(1);  // a is the only live node, and it is still draining
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(other).value().state, JobState::kPending) << "placed on a node still running the old rank";
  ASSERT_TRUE(jobs_.Cancel(other, "make room").ok());
  AddNode("c");
  // It exits (SIGTERM): now the job is requeued.
  Beat("a", {Exited(first, 143)});
  r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_FALSE(r.stopping);
  EXPECT_EQ(r.restarts, 1);
  // With c joined, the job restarts on a and c, attempt 2, restart count 1.
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  ASSERT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.nodes, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(r.attempt, 2u);
  const HeartbeatResult hc = Beat("c");
  ASSERT_EQ(hc.run.size(), 1u);
  EXPECT_EQ(hc.run[0].task.attempt, 2u);
  EXPECT_EQ(hc.run[0].env.at("STARGATE_RESTART_COUNT"), "1");
  // A late report from the old attempt changes nothing and is forgotten.
  const HeartbeatResult late = Beat("a", {Exited(first, 0), Running({id, 2})});
  EXPECT_EQ(late.forget, (std::vector<TaskRef>{first}));
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kRunning);
}

TEST_F(ReconcilerTest, JurisdictionsAndRegionsConstrainPlacement) {
  NodeInfo eu = CpuNode("eu1", "paris", "EU", "10.1.0.1");
  eu.region = "eu-west";
  Join(nodes_, eu, clock_.Now());
  auto submit = [&](const std::string& placement) {
    return jobs_.Submit("name: p\nplacement: " + placement + "\nrun: x\n", "p.yaml", "").value().id;
  };
  const uint64_t by_jurisdiction = submit("{jurisdictions: [EU]}");
  const uint64_t by_region = submit("{regions: [eu-west]}");
  const uint64_t nowhere = submit("{regions: [mars]}");
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(by_jurisdiction).value().nodes, (std::vector<std::string>{"eu1"}));
  EXPECT_EQ(jobs_.Get(nowhere).value().state, JobState::kPending);
  // The region job waits for the EU node, never taking a US one.
  const JobRecord r = jobs_.Get(by_region).value();
  EXPECT_EQ(r.state, JobState::kPending);
  Beat("eu1", {Exited({by_jurisdiction, 1}, 0)});
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(by_region).value().nodes, (std::vector<std::string>{"eu1"}));
}

// Many small sites: a region or jurisdiction naming only sites past the
// 64th is honoured (a job's allowed sites were a 64-bit mask once, so such
// a job could never start).
TEST_F(ReconcilerTest, RegionsReachSitesPastTheSixtyFourth) {
  for (int i = 0; i < 100; ++i) {
    // A jurisdiction per site: 100, past what a 64-bit mask could name.
    NodeInfo n = CpuNode(fmt::format("n{}", i), fmt::format("site-{:03d}", i), fmt::format("J{:03d}", i),
                         fmt::format("10.2.0.{}", i));
    n.region = i == 97 ? "edge-97" : "core";
    Join(nodes_, n, clock_.Now());
  }
  const uint64_t by_region =
      jobs_.Submit("name: r\nplacement: {regions: [edge-97]}\nrun: x\n", "r.yaml", "").value().id;
  const uint64_t by_jurisdiction =
      jobs_.Submit("name: j\nplacement: {jurisdictions: [J090]}\nrun: x\n", "j.yaml", "").value().id;
  ASSERT_TRUE(rec_.Tick().ok());
  const JobRecord r = jobs_.Get(by_region).value();
  ASSERT_EQ(r.state, JobState::kRunning) << r.reason;
  EXPECT_EQ(nodes_.Find(r.nodes.at(0))->site, "site-097");
  const JobRecord j = jobs_.Get(by_jurisdiction).value();
  ASSERT_EQ(j.state, JobState::kRunning) << j.reason;
  EXPECT_EQ(nodes_.Find(j.nodes.at(0))->jurisdiction, "J090");
}

TEST(ReconcilerShape, JobsGetExactlyTheirPerNodeCountAndNodesAreNeverOvercommitted) {
  ManualClock clock(kT0);
  MemoryStore store;
  JobRegistry jobs(&store, &clock);
  NodeRegistry nodes(&store, kTimeout);
  Reconciler rec(&jobs, &nodes, sched::MakeScheduler("stargate").value(), "/data", &clock);
  for (const char* name : {"x", "y"}) {
    Join(nodes, CpuNode(name, "s", "", name, 4), clock.Now());
  }
  auto submit = [&](int per_node, int count) {
    return jobs
        .Submit(fmt::format("name: j\nresources: {{accelerators: CPU:{}, nodes: {}}}\nrun: x\n", per_node, count),
                "j.yaml", "")
        .value()
        .id;
  };
  const uint64_t spread = submit(1, 2);  // one process on each of two nodes, not 2 devices on one
  ASSERT_TRUE(rec.Tick().ok());
  EXPECT_EQ(jobs.Get(spread).value().nodes, (std::vector<std::string>{"x", "y"}));
  const uint64_t wide = submit(3, 2);  // 3 of the 3 left on each node
  ASSERT_TRUE(rec.Tick().ok());
  EXPECT_EQ(jobs.Get(wide).value().state, JobState::kRunning);
  const uint64_t more = submit(1, 1);  // nothing left anywhere
  const uint64_t huge = submit(8, 1);  // bigger than any node: never
  ASSERT_TRUE(rec.Tick().ok());
  EXPECT_EQ(jobs.Get(more).value().state, JobState::kPending);
  // A Reject waits the reject grace for nodes still joining, saying why...
  EXPECT_EQ(jobs.Get(huge).value().state, JobState::kPending);
  EXPECT_EQ(jobs.Get(huge).value().reason.rfind("waiting: no allowed site has nodes with 8 accelerators", 0), 0u)
      << jobs.Get(huge).value().reason;
  // ... then is final, as in the twin: the job fails with the reason.
  clock.Advance(ReconcilerOptions{}.reject_grace);
  ASSERT_TRUE(rec.Tick().ok());
  EXPECT_EQ(jobs.Get(huge).value().state, JobState::kFailed);
  EXPECT_NE(jobs.Get(huge).value().reason.find("rejected: no allowed site has nodes with 8 accelerators"),
            std::string::npos)
      << jobs.Get(huge).value().reason;
}

TEST_F(ReconcilerTest, UnknownNodesAreToldToRegister) { EXPECT_TRUE(Beat("ghost").register_again); }

TEST_F(ReconcilerTest, AutoCheckpointIntervalIsDalyForTheSitesMeasuredFailureRate) {
  auto interval_s = [&](uint64_t id) {
    return std::stod(Beat(jobs_.Get(id).value().nodes[0]).run.at(0).env.at("STARGATE_CHECKPOINT_INTERVAL_S"));
  };
  const std::string spec =
      "name: j\nresources: {accelerators: CPU:1, nodes: 2}\ncheckpoint: {interval: auto, cost: 30s}\nrun: t\n";
  // No record yet: the Llama 3 rate of a one-device node, for two nodes.
  const double prior = model::FailuresPerHour(model::LlamaThreeComponents(), 1, 1, 0);
  const uint64_t first = jobs_.Submit(spec, "j.yaml", "").value().id;
  ASSERT_TRUE(rec_.Tick().ok());
  const double expected =
      model::DalyInterval(Duration::Seconds(30), Duration::FromSeconds(3600 / (2 * prior))).seconds();
  EXPECT_NEAR(interval_s(first), std::floor(expected), 1.0);
  EXPECT_NEAR(jobs_.Get(first).value().checkpoint_interval.millis() / 1e3, expected, 1e-3);
  ASSERT_TRUE(jobs_.Cancel(first, "done").ok());
  Beat("a", {Exited({first, 1}, 143)});
  Beat("b", {Exited({first, 1}, 143)});
  // Site s1 loses a node five times in 1,000 node-hours of up time, ~5x
  // the Llama 3 rate: checkpoints come more than twice as often.
  for (int i = 0; i < 5; ++i) {
    for (int s = 0; s < 100 * 900; ++s) {  // 100 h of beats every 4 s
      clock_.Advance(Duration::Millis(4000));
      Beat("a");
      Beat("b");
    }
    clock_.Advance(kTimeout + Duration::Millis(1));
    Beat("a");
    ASSERT_TRUE(rec_.Tick().ok());  // b is lost
    Beat("b");                      // and back
  }
  EXPECT_EQ(nodes_.health().at("s1").failures, 5);
  const uint64_t second = jobs_.Submit(spec, "j.yaml", "").value().id;
  ASSERT_TRUE(rec_.Tick().ok());
  const double rate = model::PosteriorRate(5, nodes_.health().at("s1").node_hours, prior);
  const double measured =
      model::DalyInterval(Duration::Seconds(30), Duration::FromSeconds(3600 / (2 * rate))).seconds();
  EXPECT_NEAR(jobs_.Get(second).value().checkpoint_interval.millis() / 1e3, measured, 1e-3);
  EXPECT_NEAR(nodes_.health().at("s1").node_hours, 1000, 1e-6);
  EXPECT_LT(measured, expected / 2);
}

TEST_F(ReconcilerTest, GangRepairKeepsTheSurvivorsAndTakesAHotSpare) {
  AddNode("c");
  rec_ = Reconciler(&jobs_, &nodes_, sched::MakeScheduler("stargate").value(), "/data", &clock_);
  rec_.Configure({.hot_spares = 1, .gang_repair = true, .check_kept_view = true});
  // Three nodes, one kept as a hot spare: a 2-node job runs, a 1-node one waits.
  const uint64_t id = Submit(2);
  const uint64_t waits = Submit(1);
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(waits).value().state, JobState::kPending) << "placed on the hot spare";
  ASSERT_TRUE(jobs_.Cancel(waits, "make the test simpler").ok());
  JobRecord r = jobs_.Get(id).value();
  ASSERT_EQ(r.state, JobState::kRunning);
  const std::vector<std::string> placed = r.nodes;
  const std::string lost = placed[1], kept = placed[0];
  const TaskRef first{id, 1};
  // The rank-1 node goes silent; the survivor is stopped but keeps its node.
  clock_.Advance(kTimeout + Duration::Millis(1));
  for (const std::string& n : {std::string("a"), std::string("b"), std::string("c")}) {
    if (n != lost) Beat(n, n == kept ? std::vector<TaskReport>{Running(first)} : std::vector<TaskReport>{});
  }
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  EXPECT_TRUE(r.stopping);
  EXPECT_TRUE(r.repairing);
  EXPECT_NE(r.reason.find("with a spare in its place"), std::string::npos) << r.reason;
  const uint64_t other = Submit(1);  // must not take the survivor's node or the spare
  EXPECT_EQ(Beat(kept, {Running(first)}).stop, (std::vector<TaskRef>{first}));
  Beat(kept, {Exited(first, 143)});
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kRunning);  // drained, not requeued
  ASSERT_TRUE(rec_.Tick().ok());
  r = jobs_.Get(id).value();
  ASSERT_EQ(r.state, JobState::kRunning);
  EXPECT_FALSE(r.stopping);
  EXPECT_FALSE(r.repairing);
  EXPECT_EQ(r.attempt, 2u);
  EXPECT_EQ(r.restarts, 1);
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_EQ(r.nodes[0], kept);  // ranks keep their nodes; the spare takes rank 1
  EXPECT_NE(r.nodes[1], lost);
  EXPECT_NE(r.reason.find(lost + " -> " + r.nodes[1]), std::string::npos) << r.reason;
  EXPECT_EQ(jobs_.Get(other).value().state, JobState::kPending);  // no free node: the spare was used
  const HeartbeatResult spare = Beat(r.nodes[1]);
  ASSERT_EQ(spare.run.size(), 1u);
  EXPECT_EQ(spare.run[0].env.at("RANK"), "1");
  EXPECT_EQ(spare.run[0].env.at("STARGATE_RESTART_COUNT"), "1");
  EXPECT_EQ(Beat(kept).run.at(0).task.attempt, 2u);
}

TEST_F(ReconcilerTest, GangRepairWithoutASpareRequeuesTheGang) {
  const uint64_t id = Submit(2);  // a and b: no node left over
  ASSERT_TRUE(rec_.Tick().ok());
  clock_.Advance(kTimeout + Duration::Millis(1));
  Beat("a", {Running({id, 1})});
  ASSERT_TRUE(rec_.Tick().ok());
  Beat("a", {Exited({id, 1}, 143)});
  ASSERT_TRUE(rec_.Tick().ok());
  const JobRecord r = jobs_.Get(id).value();
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_FALSE(r.repairing);
  EXPECT_EQ(r.restarts, 1);
  EXPECT_NE(r.reason.find("no spare in its pool, requeued"), std::string::npos) << r.reason;
}

TEST_F(ReconcilerTest, ARankWhoseStartNeverReachedItsAgentDoesNotHoldTheNode) {
  const uint64_t id = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_TRUE(jobs_.Cancel(id, "changed my mind").ok());  // before either agent heard of it
  Beat("a");
  Beat("b");
  EXPECT_TRUE(jobs_.ListEndedButRunning().value().empty());
  const uint64_t next = Submit(2);
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(next).value().state, JobState::kRunning);
}

TEST_F(ReconcilerTest, PlacementsAndResidencyRefusalsGoToTheAuditLog) {
  AuditLog audit(&store_);
  rec_.SetAudit(&audit);
  const uint64_t id = Submit(2);
  const uint64_t eu = jobs_.Submit("name: eu\nplacement: {jurisdictions: [EU]}\nrun: x\n", "eu.yaml", "").value().id;
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(eu).value().reason.rfind("waiting: data residency", 0), 0u);  // the reject grace first
  clock_.Advance(ReconcilerOptions{}.reject_grace);
  Beat("a", {Running({id, 1})});
  Beat("b", {Running({id, 1})});
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_TRUE(rec_.Tick().ok());  // said once, not every pass
  EXPECT_EQ(jobs_.Get(eu).value().state, JobState::kFailed);
  const std::vector<AuditEntry> all = audit.Query({}).value();
  ASSERT_EQ(all.size(), 2u);
  const AuditEntry& place = all[0].action == "place" ? all[0] : all[1];
  const AuditEntry& reject = all[0].action == "place" ? all[1] : all[0];
  EXPECT_EQ(place.job, id);
  EXPECT_EQ(place.actor, "scheduler");
  EXPECT_NE(place.detail.find("-> a b"), std::string::npos) << place.detail;
  EXPECT_EQ(reject.action, "reject");
  EXPECT_EQ(reject.job, eu);
  EXPECT_NE(reject.detail.find("data residency"), std::string::npos) << reject.detail;
}

// The sites' draw is kept up to date incrementally (issue 20: a pass costs
// what changed, not every node): after a random run of submissions,
// heartbeats with and without GPU readings, task ends, nodes going silent,
// leaving and joining again, it equals what a reconciler that reckons
// every node afresh finds.
TEST_F(ReconcilerTest, TheIncrementalSiteDrawEqualsOneReckonedAfresh) {
  std::mt19937 rng(20);
  std::vector<std::string> gpu_nodes;
  for (int i = 0; i < 9; ++i) {
    NodeInfo n;
    n.name = fmt::format("g{}", i);
    n.site = fmt::format("site{}", i % 3);
    n.address = "10.1.0." + std::to_string(i);
    n.accelerator = i % 2 ? AcceleratorType::kH100 : AcceleratorType::kA100;
    n.accelerators = 8;
    Join(nodes_, n, clock_.Now());
    gpu_nodes.push_back(n.name);
  }
  std::map<std::string, std::vector<TaskRef>> runs;  // what each node was told to run
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  for (int step = 0; step < 400; ++step) {
    const int what = static_cast<int>(rng() % 10);
    const std::string node = pick(gpu_nodes);
    if (what < 2) {  // a job of one or two nodes, of some kind
      const char* kinds[] = {"training", "batch", "inference", "finetune"};
      const std::string spec =
          fmt::format("name: j\nkind: {}\nresources: {{accelerators: {}:{}, nodes: {}}}\nrun: x\n", kinds[rng() % 4],
                      rng() % 2 ? "H100" : "A100", rng() % 2 ? 4 : 8, 1 + rng() % 2);
      ASSERT_TRUE(jobs_.Submit(spec, "j.yaml", "").ok());
    } else if (what < 7) {  // a heartbeat: what it runs, a reading or none
      NodeTelemetry t;
      t.gpu_power_w = rng() % 3 == 0 ? 0.0 : 100.0 * static_cast<double>(rng() % 60);
      std::vector<TaskReport> reports;
      for (const TaskRef& task : runs[node]) reports.push_back(Running(task));
      const StatusOr<HeartbeatResult> r = rec_.OnHeartbeat(node, t, reports);
      ASSERT_TRUE(r.ok());
      for (const TaskLaunch& l : r->run) runs[node].push_back(l.task);
      for (const TaskRef& f : r->forget) std::erase(runs[node], f);
    } else if (what == 7 && !runs[node].empty()) {  // a task ends
      const TaskRef task = runs[node].back();
      ASSERT_TRUE(rec_.OnHeartbeat(node, NodeTelemetry{}, {Exited(task, 0)}).ok());
      runs[node].pop_back();
    } else if (what == 8) {  // time passes: sometimes past the heartbeat timeout
      clock_.Advance(rng() % 4 == 0 ? kTimeout + Duration::Seconds(1) : Duration::Millis(rng() % 2000));
    } else if (rng() % 2) {
      nodes_.Leave(node, "");
    } else {
      Join(nodes_, *nodes_.Find(node), clock_.Now());
      runs[node].clear();
    }
    ASSERT_TRUE(rec_.Tick().ok());
    if (step % 10 != 9) continue;
    rec_.UpdateDraw(clock_.Now());  // the placements this pass made
    Reconciler fresh(&jobs_, &nodes_, sched::MakeScheduler("fifo").value(), "/data", &clock_);
    fresh.UpdateDraw(clock_.Now());
    ASSERT_EQ(rec_.site_draw().size(), fresh.site_draw().size()) << "step " << step;
    for (const auto& [site, d] : fresh.site_draw()) {
      const SiteDraw& got = rec_.site_draw().at(site);
      EXPECT_NEAR(got.it_w, d.it_w, 1e-3) << site << " step " << step;
      EXPECT_NEAR(got.facility_w, d.facility_w, 1e-3) << site << " step " << step;
      EXPECT_EQ(got.measured_nodes, d.measured_nodes) << site << " step " << step;
      EXPECT_EQ(got.estimated_nodes, d.estimated_nodes) << site << " step " << step;
    }
  }
  // The run did exercise the draw: some site drew with ranks running.
  int64_t running = 0;
  const std::vector<JobRecord> all = jobs_.List().value();  // a named copy: value() of a temporary dangles
  for (const JobRecord& r : all) running += r.state == JobState::kRunning;
  EXPECT_GT(running, 0);
}

}  // namespace
}  // namespace stargate::control

namespace stargate::control {
namespace {

// Shares of one device (`H100:0.5`): packed into one slot of a node's
// device, each rank told its slot; a job's own env cannot name a slot.
TEST_F(ReconcilerTest, SharesOfADevicePackIntoOneSlot) {
  NodeInfo g = CpuNode("g", "s1", "US", "10.0.0.g", 1);
  g.accelerator = AcceleratorType::kH100;
  Join(nodes_, g, clock_.Now());
  auto submit = [&](const std::string& accel, const std::string& env = "{}") {
    return jobs_
        .Submit(fmt::format("name: j\nresources: {{accelerators: '{}'}}\nenv: {}\nrun: x\n", accel, env), "j.yaml", "")
        .value()
        .id;
  };
  const uint64_t s1 = submit("H100:0.5");
  const uint64_t s2 = submit("H100:0.5");
  const uint64_t s3 = submit("H100:0.75");
  const uint64_t whole = submit("H100:1", "{STARGATE_GPU_SHARE_SLOT: '0'}");
  ASSERT_TRUE(rec_.Tick().ok());
  for (uint64_t id : {s1, s2}) {
    const JobRecord r = jobs_.Get(id).value();
    ASSERT_EQ(r.state, JobState::kRunning) << id;
    EXPECT_EQ(r.nodes, (std::vector<std::string>{"g"}));
    EXPECT_EQ(r.share_slot, 0);
  }
  EXPECT_EQ(jobs_.Get(s3).value().state, JobState::kPending);  // the device is full
  HeartbeatResult hb = Beat("g");
  ASSERT_EQ(hb.run.size(), 2u);
  for (const TaskLaunch& t : hb.run) {
    EXPECT_EQ(t.env.at("STARGATE_GPU_SHARE_SLOT"), "0");
    EXPECT_EQ(t.env.at("STARGATE_GPU_SHARE"), "0.500");
    EXPECT_EQ(t.env.at("STARGATE_ACCELERATORS_PER_NODE"), "1");
  }
  // One half ends: the other still holds half the device, too little for
  // three quarters (the next pass rebuilds the slot from the records).
  Beat("g", {Exited({s1, 1}, 0), Running({s2, 1})});
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(s3).value().state, JobState::kPending);
  // The other ends: the three quarters take the slot; the whole-device job
  // still waits behind it (the device is shared).
  Beat("g", {Exited({s2, 1}, 0)});
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_EQ(jobs_.Get(s3).value().state, JobState::kRunning);
  EXPECT_EQ(jobs_.Get(s3).value().share_slot, 0);
  EXPECT_EQ(jobs_.Get(whole).value().state, JobState::kPending);
  Beat("g", {Exited({s3, 1}, 0)});
  ASSERT_TRUE(rec_.Tick().ok());
  ASSERT_EQ(jobs_.Get(whole).value().state, JobState::kRunning);
  hb = Beat("g");
  ASSERT_EQ(hb.run.size(), 1u);
  EXPECT_EQ(hb.run[0].env.at("STARGATE_GPU_SHARE_SLOT"), "");  // ours win over the job's env
  EXPECT_EQ(hb.run[0].env.at("STARGATE_GPU_SHARE"), "");
}

// Ramped gangs that end together at a ramp-limited site fall in turn
// (sched/power_ramp.h): the agents holding their devices ask, the next
// pass gives each fall its turn on the site's fall channel, and the
// second waits for the first's fall and a rest. A rank the server never
// noted a fall for (or of a job not on this node) falls at once.
TEST_F(ReconcilerTest, FallsOfGangsEndingTogetherTakeTurns) {
  SiteInfo site;
  site.name = "r";
  site.power_ramp.mw_per_min = 0.06;  // 1 kW a second
  ReconcilerOptions o;
  o.check_kept_view = true;
  o.sites = SiteBook::FromSites({site}).value();
  rec_.Configure(o);
  for (const char* name : {"g1", "g2"}) {
    NodeInfo g = CpuNode(name, "r", "US", std::string("10.0.1.") + name, 1);
    g.accelerator = AcceleratorType::kH100;
    Join(nodes_, g, clock_.Now());
  }
  std::vector<uint64_t> ids;
  for (int i = 0; i < 2; ++i) {
    ids.push_back(jobs_.Submit("name: j\nresources: {accelerators: H100:1}\nrun: x\n", "j.yaml", "").value().id);
  }
  ASSERT_TRUE(rec_.Tick().ok());
  std::map<uint64_t, std::string> node_of;
  for (uint64_t id : ids) {
    const JobRecord r = jobs_.Get(id).value();
    ASSERT_EQ(r.state, JobState::kRunning);
    ASSERT_GT(r.ramp_hold + r.ramp_up, Duration::Zero());  // choreographed
    node_of[id] = r.nodes[0];
    Beat(r.nodes[0], {Running({id, 1})});
  }
  clock_.Advance(Duration::Hours(1));  // both at full draw
  for (uint64_t id : ids) {
    const HeartbeatResult h = rec_.OnHeartbeat(node_of[id], NodeTelemetry{}, {Exited({id, 1}, 0)}, {{id, 1}}).value();
    EXPECT_TRUE(h.fall.empty());  // noted: its turn comes with the next pass
  }
  ASSERT_TRUE(rec_.Tick().ok());
  std::vector<Duration> waits;
  for (uint64_t id : ids) {
    const HeartbeatResult h = rec_.OnHeartbeat(node_of[id], NodeTelemetry{}, {}, {{id, 1}}).value();
    ASSERT_EQ(h.fall.size(), 1u);
    waits.push_back(h.fall.at({id, 1}));
  }
  const JobRecord first = jobs_.Get(ids[0]).value();
  const sched::Rise drawn =
      sched::GangRise(AcceleratorType::kH100, 1, sched::UtilisationOf(first.spec.spec.kind), 0, SiteInfo{}.pue);
  const sched::RampSlot fall = sched::FallSeconds(drawn, 1000);
  EXPECT_EQ(waits[0], Duration::Zero());
  EXPECT_EQ(waits[1], fall.up + fall.hold + fall.hold);
  // Later, the wait is what is left of it.
  clock_.Advance(Duration::Seconds(1));
  EXPECT_EQ(rec_.OnHeartbeat(node_of[ids[1]], NodeTelemetry{}, {}, {{ids[1], 1}}).value().fall.at({ids[1], 1}),
            waits[1] - Duration::Seconds(1));
  // Never noted, or asked by a node that was not the gang's: at once (a
  // node learns nothing of another job's fall).
  const HeartbeatResult other = rec_.OnHeartbeat(node_of[ids[0]], NodeTelemetry{}, {}, {{999, 1}, {ids[1], 1}}).value();
  EXPECT_EQ(other.fall.at({999, 1}), Duration::Zero());
  EXPECT_EQ(other.fall.at({ids[1], 1}), Duration::Zero());
}

}  // namespace
}  // namespace stargate::control
