// Checkpoints across sites without sockets: which store speaks for a site,
// what each is told to watch and copy, the job's replica policy inside its
// jurisdictions, and ranks held until their site has the newest
// checkpoint (the agents' side: checkpoint_mover_test).
#include "control/server/checkpoint_replicator.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "control/net/digest.h"
#include "control/server/reconciler.h"
#include "control/store/memory_store.h"
#include "runtime/manual_clock.h"
#include "sched/scheduler.h"

namespace stargate::control {
namespace {

using State = CheckpointCopyReport::State;
constexpr Time kT0 = Time::FromMillis(1'700'000'000'000);
constexpr Duration kTimeout = Duration::Seconds(5);

class CheckpointReplicatorTest : public ::testing::Test {
 protected:
  CheckpointReplicatorTest() {
    replicator_.SetAudit(&audit_);
    rec_.SetLaunchGate(
        [this](const JobRecord& r, const std::string& node) { return replicator_.Staging(r, node, clock_.Now()); });
  }
  // A one-CPU node of `site` whose agent moves checkpoints (store /ckpt/<site>).
  void Join(const std::string& name, const std::string& site, const std::string& jurisdiction, bool moves = true) {
    NodeInfo n;
    n.name = name;
    n.site = site;
    n.jurisdiction = jurisdiction;
    n.address = "10.0.0." + std::to_string(nodes_.nodes().size() + 1);
    n.accelerator = AcceleratorType::kCpu;
    n.accelerators = 1;
    n.log_port = 9000;
    n.log_token = "token-" + name;
    n.checkpoint_root = "/ckpt/" + site;
    n.moves_checkpoints = moves;
    ASSERT_TRUE(nodes_.Register(n, clock_.Now()).ok());
    Alive(name);
  }
  void Alive(const std::string& name) {
    NodeTelemetry t;
    t.last_heartbeat = clock_.Now();
    ASSERT_TRUE(nodes_.Heartbeat(name, t));
  }
  uint64_t Submit(const std::string& placement, int replicas) {
    const std::string spec = fmt::format(
        "name: train\ntenant: ml\nkind: training\nresources: {{accelerators: CPU:1}}\n{}"
        "checkpoint: {{interval: 10m, replicas: {{sites: {}}}}}\nrun: python3 train.py\n",
        placement, replicas);
    return jobs_.Submit(spec, "train.yaml", "").value().id;
  }
  // What `node`'s agent hears, after it reports `held` and `copies`.
  HeartbeatResult Beat(const std::string& node, std::vector<CheckpointHeld> held = {},
                       std::vector<CheckpointCopyReport> copies = {}) {
    HeartbeatResult out;
    EXPECT_TRUE(replicator_.OnHeartbeat(node, held, copies, clock_.Now(), &out).ok());
    return out;
  }
  std::vector<AuditEntry> Audits(const std::string& action) {
    AuditFilter f;
    f.action = action;
    return audit_.Query(f).value();
  }
  // Job `id` runs on `node` (attempt 1), its checkpoints where `held` says.
  void RunningOn(uint64_t id, const std::string& node, std::map<std::string, SiteCheckpoint> held) {
    JobRecord r = jobs_.Get(id).value();
    r.state = JobState::kRunning;
    r.attempt = 1;
    r.nodes = {node};
    r.exits = {JobRecord::kRunningExit};
    r.checkpoints = std::move(held);
    ASSERT_TRUE(jobs_.Update(r).ok());
  }

  ManualClock clock_{kT0};
  MemoryStore store_;
  JobRegistry jobs_{&store_, &clock_};
  NodeRegistry nodes_{&store_, kTimeout};
  AuditLog audit_{&store_};
  CheckpointReplicator replicator_{&jobs_, &nodes_};
  Reconciler rec_{&jobs_, &nodes_, sched::MakeScheduler("fifo").value(), "/data", &clock_};
};

TEST_F(CheckpointReplicatorTest, ACheckpointIsCopiedToASecondSiteInsideTheJurisdictions) {
  Join("a1", "site-a", "EU");
  Join("b1", "site-b", "EU");
  Join("c1", "site-c", "US");
  const uint64_t id = Submit("placement: {jurisdictions: [EU]}\n", 2);
  RunningOn(id, "a1", {});
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  // The site it runs at watches its area; nobody copies yet.
  const std::string area_a = fmt::format("/ckpt/site-a/ml/{}", id);
  HeartbeatResult a = Beat("a1");
  ASSERT_EQ(a.watch.size(), 1u);
  EXPECT_EQ(a.watch[0].dir, area_a);
  EXPECT_TRUE(Beat("b1").pull.empty());
  // a1 reports step 100: it is stored with the job.
  Beat("a1", {{id, 100, 5000}});
  EXPECT_EQ(jobs_.Get(id).value().checkpoints.at("site-a").step, 100);
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  // The other EU site copies it from a1's log server, with a ticket for
  // that one directory; the US site is never asked.
  HeartbeatResult b = Beat("b1");
  ASSERT_EQ(b.pull.size(), 1u);
  const CheckpointPull& p = b.pull[0];
  EXPECT_EQ(p.step, 100);
  EXPECT_EQ(p.dir, fmt::format("/ckpt/site-b/ml/{}", id));
  EXPECT_EQ(p.source_url, "http://10.0.0.1:9000");
  EXPECT_EQ(p.source_dir, area_a + "/step-000000000100");
  EXPECT_EQ(p.ticket, CheckpointTicket("token-a1", area_a + "/step-000000000100"));
  EXPECT_EQ(p.jurisdictions, (std::vector<std::string>{"EU"}));
  EXPECT_TRUE(Beat("c1").pull.empty());
  EXPECT_TRUE(Beat("c1").watch.empty());
  EXPECT_TRUE(Audits("checkpoint-copy-refused").empty());  // the policy is met inside the EU
  // The copy ends: site-b holds step 100, and no copy is asked any more.
  clock_.Advance(Duration::Seconds(4));
  Beat("b1", {}, {{id, 100, State::kDone, 5000, 5000, ""}});
  EXPECT_EQ(jobs_.Get(id).value().checkpoints.at("site-b").step, 100);
  ASSERT_EQ(Audits("checkpoint-copied").size(), 1u);
  EXPECT_NE(Audits("checkpoint-copied")[0].detail.find("step 100 to site site-b from site site-a"), std::string::npos);
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  EXPECT_TRUE(Beat("b1").pull.empty());
  EXPECT_EQ(replicator_.counters().copies_done, 1u);
  EXPECT_EQ(replicator_.counters().bytes_copied, 5000u);
  ASSERT_EQ(replicator_.CopiesOf(id).size(), 1u);
  EXPECT_EQ(replicator_.CopiesOf(id)[0].state, State::kDone);
}

TEST_F(CheckpointReplicatorTest, WithNoOtherSiteInsideTheJurisdictionsNoCopyLeavesAndTheRefusalIsAudited) {
  Join("a1", "site-a", "EU");
  Join("c1", "site-c", "US");
  JobSpec spec;
  spec.jurisdictions = {"EU"};
  spec.checkpoint.replica_sites = 2;
  const std::optional<std::string> why = replicator_.NeverReplicates(spec);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("wants 2 sites inside [EU]"), std::string::npos) << *why;
  EXPECT_NE(why->find("outside them: site-c (US)"), std::string::npos) << *why;
  spec.jurisdictions = {};
  EXPECT_FALSE(replicator_.NeverReplicates(spec).has_value());  // anywhere: site-c will do
  // Accepted anyway (allow_pending): the US site is never asked, and the
  // refusal is audited once.
  const uint64_t id = Submit("placement: {jurisdictions: [EU]}\n", 2);
  RunningOn(id, "a1", {{"site-a", {100, 5000, clock_.Now()}}});
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  EXPECT_TRUE(Beat("c1").pull.empty());
  const std::vector<AuditEntry> refused = Audits("checkpoint-copy-refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].detail.find("site site-c: its jurisdiction US is outside the job's [EU]"), std::string::npos)
      << refused[0].detail;
}

TEST_F(CheckpointReplicatorTest, RanksWaitUntilTheirSiteHasTheNewestCheckpoint) {
  Join("a1", "site-a", "EU");
  Join("b1", "site-b", "EU");
  const uint64_t id = Submit("", 1);
  // It restarted at site-b, which holds step 100; site-a holds 200.
  RunningOn(id, "b1", {{"site-a", {200, 8000, clock_.Now()}}, {"site-b", {100, 8000, clock_.Now()}}});
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  // b1 is told to pull step 200, and its rank is not started meanwhile.
  HeartbeatResult b = Beat("b1");
  ASSERT_EQ(b.pull.size(), 1u);
  EXPECT_EQ(b.pull[0].step, 200);
  EXPECT_TRUE(rec_.OnHeartbeat("b1", NodeTelemetry{}, {}).value().run.empty());
  ASSERT_EQ(Audits("checkpoint-staging").size(), 1u);
  EXPECT_TRUE(replicator_.CopiesOf(id)[0].staging);
  // Staged: the rank starts, with the job's checkpoint dir in site-b's store.
  clock_.Advance(Duration::Seconds(3));
  Beat("b1", {}, {{id, 200, State::kDone, 8000, 8000, ""}});
  const std::vector<TaskLaunch> run = rec_.OnHeartbeat("b1", NodeTelemetry{}, {}).value().run;
  ASSERT_EQ(run.size(), 1u);
  EXPECT_EQ(run[0].env.at("STARGATE_CHECKPOINT_DIR"), fmt::format("/ckpt/site-b/ml/{}", id));
  ASSERT_EQ(Audits("checkpoint-staged").size(), 1u);
  EXPECT_NE(Audits("checkpoint-staged")[0].detail.find("in 3.0 s"), std::string::npos);
}

TEST_F(CheckpointReplicatorTest, AStagingThatNeverEndsGivesUpAfterItsLimit) {
  Join("a1", "site-a", "EU");
  Join("b1", "site-b", "EU");
  const uint64_t id = Submit("", 1);
  RunningOn(id, "b1", {{"site-a", {200, 8000, clock_.Now()}}});
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  Beat("b1", {}, {{id, 200, State::kFailed, 0, 8000, "HTTP 404"}});
  EXPECT_TRUE(rec_.OnHeartbeat("b1", NodeTelemetry{}, {}).value().run.empty());
  clock_.Advance(CheckpointReplicator::kStagingTimeout);
  Alive("a1");
  Alive("b1");
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  EXPECT_EQ(rec_.OnHeartbeat("b1", NodeTelemetry{}, {}).value().run.size(), 1u);
  EXPECT_EQ(Audits("checkpoint-staging-timeout").size(), 1u);
  EXPECT_EQ(Audits("checkpoint-copy-failed").size(), 1u);
}

// After an outage of the site holding its newest checkpoint, a job waits
// for that site rather than restart from an older copy: by default as
// long as the work at stake (here the 2 h between the two checkpoints);
// past that it restarts from the newest a live site holds.
TEST_F(CheckpointReplicatorTest, AJobWaitsForTheDownSiteThatHoldsItsNewestCheckpoint) {
  Join("a1", "site-a", "EU");
  Join("b1", "site-b", "EU");
  const uint64_t id = Submit("", 1);
  JobRecord r = jobs_.Get(id).value();
  const Time older = clock_.Now();
  clock_.Advance(Duration::Hours(2));
  Alive("a1");
  Alive("b1");
  r.checkpoints = {{"site-a", {200, 8000, clock_.Now()}}, {"site-b", {100, 8000, older}}};
  r.queued = clock_.Now();
  r = jobs_.Update(r).value();
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  EXPECT_FALSE(replicator_.HoldForCheckpoint(r, clock_.Now()).has_value());  // site-a is up
  // site-a goes silent: only b1 beats.
  clock_.Advance(kTimeout + Duration::Seconds(1));
  Alive("b1");
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  std::optional<std::string> held = replicator_.HoldForCheckpoint(r, clock_.Now());
  ASSERT_TRUE(held.has_value());
  EXPECT_NE(held->find("waiting for site site-a (down), which holds its newest checkpoint (step 200); the newest a "
                       "live site holds is step 100 at site-b; at most 7194 s more (checkpoint.site_wait: auto"),
            std::string::npos)
      << *held;
  // The reconciler keeps it out of the queue with that reason.
  rec_.SetHoldGate([this](const JobRecord& j, Time now) { return replicator_.HoldForCheckpoint(j, now); });
  ASSERT_TRUE(rec_.Tick().ok());
  EXPECT_EQ(jobs_.Get(id).value().state, JobState::kPending);
  EXPECT_NE(jobs_.Get(id).value().reason.find("waiting for site site-a"), std::string::npos);
  // Past the work at stake it restarts from step 100.
  clock_.Advance(Duration::Hours(2));
  Alive("b1");
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  EXPECT_FALSE(replicator_.HoldForCheckpoint(r, clock_.Now()).has_value());
  ASSERT_EQ(Audits("checkpoint-site-wait-over").size(), 1u);
  EXPECT_NE(Audits("checkpoint-site-wait-over")[0].detail.find("restarting from it"), std::string::npos);
  // A job that says site_wait: 0s never waits.
  const std::string spec = "name: n\ncheckpoint: {interval: 10m, site_wait: 0s}\nrun: x\n";
  JobRecord q = jobs_.Get(jobs_.Submit(spec, "n.yaml", "").value().id).value();
  q.checkpoints = r.checkpoints;
  q.queued = clock_.Now();
  EXPECT_FALSE(replicator_.HoldForCheckpoint(q, clock_.Now()).has_value());
}

// A store is only what its speaker says: another agent of the site, or a
// report of a job it was not asked about, changes nothing.
TEST_F(CheckpointReplicatorTest, OnlyTheSitesSpeakerIsHeardAndOnlyOnWhatItWatches) {
  Join("a1", "site-a", "EU");
  Join("a2", "site-a", "EU");
  const uint64_t id = Submit("", 1);
  const uint64_t other = Submit("", 1);
  RunningOn(id, "a2", {});
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  EXPECT_TRUE(Beat("a2", {{id, 300, 1}}).watch.empty());  // a1 speaks for site-a
  EXPECT_TRUE(jobs_.Get(id).value().checkpoints.empty());
  Beat("a1", {{id, 300, 1}, {other, 900, 1}});
  EXPECT_EQ(jobs_.Get(id).value().checkpoints.at("site-a").step, 300);
  EXPECT_TRUE(jobs_.Get(other).value().checkpoints.empty());
}

// A job back in the queue resumes from the newest checkpoint a live site
// holds: the scheduler charges any other site the time to stage it there
// (as data gravity) and so places it where it is.
TEST_F(CheckpointReplicatorTest, AResumingJobIsPlacedWhereALiveSiteHoldsItsNewestCheckpoint) {
  Join("a1", "site-a", "EU");
  Join("b1", "site-b", "EU");
  Join("c1", "site-c", "EU");
  const uint64_t id = Submit("", 1);
  JobRecord r = jobs_.Get(id).value();
  r.attempt = 1;  // it ran before: step 120 is at b and c, step 100 at a
  r.checkpoints = {{"site-a", {100, 4'000'000'000'000, kT0}},
                   {"site-b", {120, 5'000'000'000'000, kT0}},
                   {"site-c", {120, 5'000'000'000'000, kT0}}};
  ASSERT_TRUE(jobs_.Update(r).ok());
  EXPECT_FALSE(replicator_.RestoreFrom(jobs_.Get(id).value()).has_value());  // before a pass knows the sites
  clock_.Advance(kTimeout + Duration::Seconds(1));                           // site-c goes quiet
  Alive("a1");
  Alive("b1");
  ASSERT_TRUE(replicator_.Plan(clock_.Now()).ok());
  const std::optional<DataInput> need = replicator_.RestoreFrom(jobs_.Get(id).value());
  ASSERT_TRUE(need.has_value());
  EXPECT_EQ(need->name, "checkpoint step 120");
  EXPECT_EQ(need->bytes, 5e12);
  EXPECT_EQ(need->sites, std::vector<std::string>{"site-b"});
  Reconciler rec(&jobs_, &nodes_, sched::MakeScheduler("stargate").value(), "/data", &clock_);
  rec.SetRestoreNeed([this](const JobRecord& j) { return replicator_.RestoreFrom(j); });
  ASSERT_TRUE(rec.Tick().ok());
  EXPECT_EQ(jobs_.Get(id).value().nodes, std::vector<std::string>{"b1"}) << jobs_.Get(id).value().reason;
}

}  // namespace
}  // namespace stargate::control
