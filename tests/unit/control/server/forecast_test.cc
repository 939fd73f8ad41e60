// The live forecast (forecast.h): a snapshot of the server's state run
// through the twin with the server's scheduler: running jobs go on where
// they are with the work their estimate leaves, the queue starts as the
// scheduler would start it, silent nodes stay down, measured failure
// rates interrupt work, and the result is the same for the same state.
#include "control/server/forecast.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/job_file_parser.h"
#include "sched/scheduler.h"
#include "twin/engine.h"
#include "twin/loader.h"

namespace stargate::control {
namespace {

constexpr Time kNow = Time::FromMillis(1'796'256'000'000);  // 2026-12-03 00:00 UTC

class ForecastTest : public ::testing::Test {
 protected:
  ForecastTest() {
    s_.now = kNow;
    s_.policy = "fifo";
    for (const char* site : {"a", "b"}) {
      for (int i = 0; i < 2; ++i) {
        NodeInfo n;
        n.name = fmt::format("{}{}", site, i);
        n.site = site;
        n.region = "r";
        n.jurisdiction = "EU";
        n.address = "10.0.0.1";
        n.accelerator = AcceleratorType::kH100;
        n.accelerators = 8;
        s_.nodes[n.name] = n;
        s_.alive.insert(n.name);
      }
    }
  }
  // A one-node job of `hours` on 8 H100s, submitted `ago` before now.
  JobRecord& Add(const std::string& name, double hours, Duration ago = Duration::Minutes(5)) {
    JobRecord r;
    r.id = s_.jobs.size() + 1;
    r.spec_text = fmt::format("name: {}\nresources: {{accelerators: H100:8}}\nestimate: {}m\nrun: x\n", name,
                              static_cast<int>(hours * 60));
    r.spec = ParseJobFile(r.spec_text, "job.yaml").value();
    SetSubmitted(r.spec, kNow - ago);
    r.submitted = kNow - ago;
    s_.jobs.push_back(r);
    return s_.jobs.back();
  }
  JobRecord& AddRunning(const std::string& name, double hours, const std::string& node, Duration for_how_long) {
    JobRecord& r = Add(name, hours, for_how_long + Duration::Minutes(1));
    r.state = JobState::kRunning;
    r.attempt = 1;
    r.nodes = {node};
    r.exits = {JobRecord::kRunningExit};
    r.started = kNow - for_how_long;
    return r;
  }
  static const JobForecast& Of(const Forecast& f, uint64_t id) {
    for (const JobForecast& j : f.jobs) {
      if (j.id == id) return j;
    }
    ADD_FAILURE() << "no job " << id;
    return f.jobs.front();
  }

  ForecastSnapshot s_;
};

TEST_F(ForecastTest, RunningJobsGoOnAndTheQueueStartsInOrder) {
  AddRunning("running", 1.0, "a1", Duration::Minutes(30));  // 30 min left
  for (int i = 0; i < 4; ++i) Add(fmt::format("wait{}", i), 2.0);
  ForecastOptions o;
  o.horizon = Duration::Hours(12);
  o.seeds = 2;
  const Forecast f = RunForecast(s_, o).value();
  ASSERT_EQ(f.jobs.size(), 5u);
  const JobForecast& running = Of(f, 1);
  EXPECT_EQ(running.state, JobState::kRunning);
  EXPECT_EQ(running.start[1], kNow - Duration::Minutes(30));  // when it really started
  EXPECT_EQ(running.finish[1], kNow + Duration::Minutes(30));
  EXPECT_EQ(running.site, "a");
  // Three free nodes: the first three in the queue start now; the fourth
  // when the running job ends; each runs its 2 h.
  for (uint64_t id : {2, 3, 4}) {
    EXPECT_EQ(Of(f, id).start[1], kNow) << id;
    EXPECT_EQ(Of(f, id).finish[1], kNow + Duration::Hours(2)) << id;
    EXPECT_EQ(Of(f, id).started, 2);
  }
  EXPECT_EQ(Of(f, 5).start[0], kNow + Duration::Minutes(30));
  EXPECT_EQ(Of(f, 5).site, "a");
  EXPECT_DOUBLE_EQ(Of(f, 5).site_share, 1.0);
  ASSERT_EQ(f.sites.size(), 2u);
  EXPECT_EQ(f.sites[0].name, "a");
  EXPECT_EQ(f.sites[0].accelerators, 16);
  EXPECT_GT(f.sites[0].mean_mw, 0);
  EXPECT_GT(f.sites[0].utilisation, 0);
  EXPECT_GT(f.goodput, 0.9);
}

TEST_F(ForecastTest, ASilentNodeStaysDownAndItsJobWaitsInTheQueue) {
  AddRunning("on-a-dead-node", 1.0, "a1", Duration::Minutes(30));
  s_.alive.erase("a1");
  for (int i = 0; i < 3; ++i) Add(fmt::format("wait{}", i), 2.0);
  ForecastOptions o;
  o.horizon = Duration::Hours(3);
  o.seeds = 1;
  const Forecast f = RunForecast(s_, o).value();
  // Three live nodes, four jobs: the first three in the queue now (the
  // job from the dead node was queued first), the last one after 2 h.
  EXPECT_EQ(Of(f, 1).start[1], kNow);
  EXPECT_EQ(Of(f, 1).finish[1], kNow + Duration::Hours(1));  // from the start: no checkpoint
  EXPECT_EQ(Of(f, 2).start[1], kNow);
  EXPECT_EQ(Of(f, 3).start[1], kNow);
  EXPECT_EQ(Of(f, 4).start[1], kNow + Duration::Hours(1));
  for (uint64_t id : {1, 2, 3, 4}) EXPECT_NE(Of(f, id).site, "") << id;
}

// A stale record (two jobs claiming one node) never breaks the run: the
// second claim is queued work.
TEST_F(ForecastTest, AConflictingClaimIsQueuedWork) {
  AddRunning("first", 2.0, "a0", Duration::Minutes(30));
  AddRunning("second", 2.0, "a0", Duration::Minutes(10));
  ForecastOptions o;
  o.horizon = Duration::Hours(4);
  o.seeds = 1;
  const Forecast f = RunForecast(s_, o).value();
  EXPECT_EQ(Of(f, 1).finish[1], kNow + Duration::Minutes(90));
  EXPECT_EQ(Of(f, 2).start[1], kNow);  // started afresh on a free node
  EXPECT_EQ(Of(f, 2).finish[1], kNow + Duration::Hours(2));
}

TEST_F(ForecastTest, WorkThatDoesNotStartWithinTheHorizonSaysSo) {
  for (int i = 0; i < 5; ++i) Add(fmt::format("long{}", i), 10.0);
  ForecastOptions o;
  o.horizon = Duration::Hours(4);
  o.seeds = 1;
  const Forecast f = RunForecast(s_, o).value();
  EXPECT_EQ(Of(f, 5).started, 0);
  EXPECT_EQ(Of(f, 5).start[1], Time::Never());
  EXPECT_EQ(Of(f, 1).finish[1], Time::Never());  // 10 h of work, 4 h ahead
  EXPECT_EQ(Of(f, 1).finished, 0);
}

TEST_F(ForecastTest, MeasuredFailuresInterruptWork) {
  for (int i = 0; i < 4; ++i) Add(fmt::format("j{}", i), 20.0);
  s_.health["a"] = SiteHealth{2000, 400};  // 400 nodes lost in 2,000 node-hours: a very bad site
  ForecastOptions o;
  o.horizon = Duration::Hours(24);
  o.seeds = 3;
  const Forecast f = RunForecast(s_, o).value();
  EXPECT_NEAR(f.sites[0].node_failures_per_year, 400.0 / 2000 * 8766, 1e-6);
  EXPECT_EQ(f.sites[1].node_failures_per_year, 0);
  double on_a = 0;
  for (const JobForecast& j : f.jobs) on_a += j.interruptions;
  EXPECT_GT(on_a, 1);
  // The same state forecasts the same.
  const Forecast again = RunForecast(s_, o).value();
  for (size_t i = 0; i < f.jobs.size(); ++i) {
    EXPECT_EQ(f.jobs[i].start, again.jobs[i].start);
    EXPECT_EQ(f.jobs[i].finish, again.jobs[i].finish);
    EXPECT_EQ(f.jobs[i].interruptions, again.jobs[i].interruptions);
  }
}

// The export (`stargate forecast --export`) reruns with `stargate twin
// run` to the forecast's own first seed: running jobs, a silent node, a
// measured failure rate, learned run times and an early failure drawn, a
// drain and a job submitted in a what-if, all in the file.
TEST_F(ForecastTest, TheExportedScenarioRerunsToTheForecastsFirstSeed) {
  AddRunning("running", 3.0, "a0", Duration::Minutes(30));
  AddRunning("silent", 1.0, "b1", Duration::Minutes(10));
  s_.alive.erase("b1");
  for (int i = 0; i < 6; ++i) Add("wait", 2.0);  // one name: exported as wait#ID
  s_.health["a"] = SiteHealth{2000, 40};
  for (const JobRecord& r : s_.jobs) s_.run_times[r.id] = RunPrediction{Duration::Minutes(100), 0, {}, "test"};
  s_.run_times[4].fail_early = 0.999;  // fails 10 minutes in
  std::vector<SiteInfo> sites(2);      // a's network is known
  sites[0].name = "a";
  sites[1].name = "b";
  sites[0].fabric = FabricSpec{FabricKind::kRailOptimized, 16};
  s_.sites = SiteBook::FromSites(sites).value();
  WhatIf w;
  w.drains.push_back({"a1", Duration::Hours(1)});
  w.submit = "name: extra\nkind: training\nresources: {accelerators: H100:8}\nestimate: 30m\nrun: x\n";
  ForecastOptions o;
  o.horizon = Duration::Hours(12);
  o.seeds = 1;
  const Forecast f = RunForecast(s_, o, w).value();
  const std::string text = ExportForecast(s_, o, w).value();
  const StatusOr<twin::TwinInputs> in = twin::LoadScenarioText(text, "forecast.yaml", ".");
  ASSERT_TRUE(in.ok()) << in.status() << "\n" << text;
  EXPECT_EQ(in->running.size(), 1u);  // the silent node's job is queued work
  EXPECT_EQ(in->spec.sites[0].fabric.kind, FabricKind::kRailOptimized);
  EXPECT_EQ(in->spec.sites[0].fabric.nodes_per_leaf, 16);
  EXPECT_EQ(in->spec.sites[1].fabric.kind, FabricKind::kFatTree);
  EXPECT_EQ(in->drains.size(), 1u);
  twin::Engine engine(*in, sched::MakeScheduler(in->spec.policy, in->spec.scheduler).value());
  const twin::RunResult r = engine.Run();
  ASSERT_EQ(r.jobs.size(), f.jobs.size());
  for (const twin::JobRecord& j : r.jobs) {
    const uint64_t id = std::stoull(j.name.substr(j.name.rfind('#') + 1));
    const Time start = j.first_start == Time::Never() ? j.first_start : kNow + (j.first_start - Time::Epoch());
    const Time end = j.end == Time::Never() ? j.end : kNow + (j.end - Time::Epoch());
    if (Of(f, id).state == JobState::kPending) EXPECT_EQ(start, Of(f, id).start[1]) << j.name;
    EXPECT_EQ(end, Of(f, id).finish[1]) << j.name;
  }
  EXPECT_EQ(Of(f, 4).finish[1] - Of(f, 4).start[1], Duration::Minutes(10));  // the early failure is in the file
  EXPECT_NE(text.find("name: extra#"), std::string::npos);
  EXPECT_NE(text.find("node_failures_per_year:"), std::string::npos);
  EXPECT_NE(text.find("since_checkpoint: 30m"), std::string::npos);  // `running` began 30 min ago, keeps none
  o.seeds = 65;
  EXPECT_FALSE(ExportForecast(s_, o).ok());
}

TEST_F(ForecastTest, BoundsOnTheAsk) {
  ForecastOptions o;
  o.horizon = Duration::Zero();
  EXPECT_EQ(RunForecast(s_, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.horizon = Duration::Days(8);
  EXPECT_EQ(RunForecast(s_, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.horizon = Duration::Hours(1);
  o.seeds = 0;
  EXPECT_EQ(RunForecast(s_, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.seeds = 65;
  EXPECT_EQ(RunForecast(s_, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.seeds = 64;  // one ask holds the forecaster: seeds x horizon is bounded
  o.horizon = Duration::Hours(25);
  EXPECT_EQ(RunForecast(s_, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.horizon = Duration::Hours(24);
  EXPECT_TRUE(RunForecast(s_, o).ok());
  o.horizon = Duration::Hours(1);
  o.seeds = 1;
  EXPECT_TRUE(RunForecast(s_, o).ok());  // an empty queue forecasts too
}

// ---- what-ifs: the same seeds, the state changed first ----

TEST_F(ForecastTest, DrainingASiteLetsItsWorkFinishAndSendsNewWorkElsewhere) {
  AddRunning("on-a", 1.0, "a0", Duration::Minutes(30));
  for (int i = 0; i < 3; ++i) Add(fmt::format("wait{}", i), 2.0);
  ForecastOptions o;
  o.horizon = Duration::Hours(12);
  o.seeds = 1;
  WhatIf w;
  w.drains.push_back({"a", Duration::Zero()});
  const Forecast base = RunForecast(s_, o).value();
  const Forecast drained = RunForecast(s_, o, w).value();
  EXPECT_EQ(Of(drained, 1).finish[1], kNow + Duration::Minutes(30));  // it runs to its end
  EXPECT_EQ(Of(base, 4).start[1], kNow);                              // a1 was free
  // Only b's two nodes take work: the third waits for one of the first two.
  EXPECT_EQ(Of(drained, 2).site, "b");
  EXPECT_EQ(Of(drained, 3).site, "b");
  EXPECT_EQ(Of(drained, 4).start[1], kNow + Duration::Hours(2));
  EXPECT_EQ(Of(drained, 4).site, "b");
  const ForecastDiff d = Diff(base, drained);
  ASSERT_FALSE(d.jobs.empty());
  for (const ForecastDiff::Job& j : d.jobs) EXPECT_NE(j.id, 1u);  // the running job did not move
  // One node of a draining from 1 h: what starts after that avoids it.
  WhatIf one;
  one.drains.push_back({"a1", Duration::Hours(1)});
  EXPECT_TRUE(RunForecast(s_, o, one).ok());
}

TEST_F(ForecastTest, AddedNodesStartTheQueueSooner) {
  for (int i = 0; i < 6; ++i) Add(fmt::format("wait{}", i), 2.0);
  ForecastOptions o;
  o.horizon = Duration::Hours(12);
  o.seeds = 1;
  WhatIf w;
  w.add_nodes.push_back({"c", 2, AcceleratorType::kH100, 8});  // a new site
  const Forecast base = RunForecast(s_, o).value();
  const Forecast more = RunForecast(s_, o, w).value();
  EXPECT_EQ(Of(base, 6).start[1], kNow + Duration::Hours(2));
  EXPECT_EQ(Of(more, 6).start[1], kNow);
  ASSERT_EQ(more.sites.size(), 3u);
  EXPECT_EQ(more.sites[2].name, "c");
  EXPECT_EQ(more.sites[2].accelerators, 16);
  const ForecastDiff d = Diff(base, more);
  ASSERT_EQ(d.jobs.size(), 2u);  // the two that waited
  EXPECT_EQ(d.jobs[0].start_before, kNow + Duration::Hours(2));
  EXPECT_EQ(d.jobs[0].start_after, kNow);
  ASSERT_EQ(d.sites.size(), 3u);
  EXPECT_EQ(d.sites[2].tco2_before, 0);
}

TEST_F(ForecastTest, ACarbonSpikeMovesWorkAndASubmittedJobIsForecast) {
  s_.policy = "stargate";
  std::vector<SiteInfo> sites(2);
  sites[0].name = "a";
  sites[1].name = "b";
  for (SiteInfo& site : sites) site.carbon.mean = 300;
  s_.sites = SiteBook::FromSites(sites).value();
  ForecastOptions o;
  o.horizon = Duration::Hours(6);
  o.seeds = 1;
  WhatIf w;
  w.spikes.push_back({"a", true, 1500, Duration::Zero(), Duration::Hours(6)});
  w.submit = "name: new\nresources: {accelerators: H100:8}\nestimate: 1h\nrun: x\n";
  const Forecast f = RunForecast(s_, o, w).value();
  ASSERT_EQ(f.jobs.size(), 1u);
  EXPECT_TRUE(f.jobs[0].added);
  EXPECT_EQ(f.jobs[0].id, 1u);
  EXPECT_EQ(f.jobs[0].name, "new");
  EXPECT_EQ(f.jobs[0].start[1], kNow);
  EXPECT_EQ(f.jobs[0].site, "b");  // away from the spike
  EXPECT_GT(f.jobs[0].co2_kg, 0);
  w.spikes[0].site = "b";
  EXPECT_EQ(RunForecast(s_, o, w).value().jobs[0].site, "a");
}

TEST_F(ForecastTest, AWhatIfThatNamesNothingIsRefusedNamingTheField) {
  ForecastOptions o;
  o.horizon = Duration::Hours(2);
  o.seeds = 1;
  auto message = [&](const WhatIf& w) { return std::string(RunForecast(s_, o, w).status().message()); };
  WhatIf w;
  w.drains.push_back({"nowhere", Duration::Zero()});
  EXPECT_EQ(message(w), "what_if.drains[0].target: no site or node named 'nowhere'");
  w = {};
  w.drains.push_back({"a", Duration::Hours(3)});
  EXPECT_EQ(message(w), "what_if.drains[0].at: expected a time within the horizon");
  w = {};
  w.spikes.push_back({"z", true, 100, Duration::Zero(), Duration::Hours(1)});
  EXPECT_EQ(message(w), "what_if.spikes[0].site: no site named 'z'");
  w.spikes[0] = {"a", true, 5000, Duration::Zero(), Duration::Hours(1)};
  EXPECT_EQ(message(w), "what_if.spikes[0].value: expected 0 to 2000");
  w = {};
  w.policy = "random";
  EXPECT_EQ(message(w), "what_if.policy: unknown policy 'random' (known: fifo, stargate)");
  w = {};
  w.weights["beauty"] = 1;
  EXPECT_EQ(message(w), "what_if.weights.beauty: unknown weight (known: time, carbon, cost, latency, queue)");
  w = {};
  w.add_nodes.push_back({"a", 0, AcceleratorType::kH100, 8});
  EXPECT_EQ(message(w), "what_if.add_nodes[0].count: expected 1 to 100000 nodes");
  w = {};
  w.add_nodes.assign(3, {"a", 40'000, AcceleratorType::kH100, 8});  // any caller's: bounded
  EXPECT_EQ(message(w), "what_if.add_nodes: at most 100000 nodes in all");
  w = {};
  w.drains.assign(1001, {"a", Duration::Zero()});
  EXPECT_EQ(message(w), "what_if.drains: at most 1000");
  w.drains.assign(1000, {"a", Duration::Hours(1)});  // the same nodes again and again: one drain each
  w.drains[7].at = Duration::Zero();
  std::vector<uint64_t> ids;
  const twin::TwinInputs in = ForecastScenario(s_, o.horizon, w, &ids).value();
  ASSERT_EQ(in.drains.size(), 2u);
  EXPECT_EQ(in.drains[0].at, Duration::Zero());  // the earliest
  w = {};
  w.spikes.push_back({"a", true, 100, Duration::Zero(), Duration::Days(31)});
  EXPECT_EQ(message(w), "what_if.spikes[0].to: expected a time within 30 days");
  w = {};
  w.submit = "name: x\nresources: {accelerators: H100:nine}\nrun: x\n";
  EXPECT_NE(message(w).find("what-if.yaml:2"), std::string::npos) << message(w);
}

}  // namespace
}  // namespace stargate::control

namespace stargate::control {
namespace {

// Running shares of one device go on in their slot; a share waiting for
// room in it starts when one of them ends.
TEST_F(ForecastTest, RunningSharesKeepTheirSlot) {
  for (const char* n : {"a1", "b0", "b1"}) AddRunning(fmt::format("full-{}", n), 10.0, n, Duration::Minutes(1));
  JobRecord& seven = AddRunning("seven", 10.0, "a0", Duration::Minutes(1));
  seven.spec_text = "name: seven\nresources: {accelerators: H100:7}\nestimate: 600m\nrun: x\n";
  seven.spec = ParseJobFile(seven.spec_text, "job.yaml").value();
  auto share = [&](const std::string& name, int minutes, bool running) -> JobRecord& {
    JobRecord& r = running ? AddRunning(name, minutes / 60.0, "a0", Duration::Minutes(30)) : Add(name, 1.0);
    r.spec_text =
        fmt::format("name: {}\nresources: {{accelerators: 'H100:0.5'}}\nestimate: {}m\nrun: x\n", name, minutes);
    r.spec = ParseJobFile(r.spec_text, "job.yaml").value();
    SetSubmitted(r.spec, r.submitted);
    r.share_slot = 0;
    return r;
  };
  const uint64_t s1 = share("s1", 60, true).id;   // 30 min left
  const uint64_t s2 = share("s2", 120, true).id;  // 90 min left
  const uint64_t next = share("next", 60, false).id;
  ForecastOptions o;
  o.horizon = Duration::Hours(12);
  o.seeds = 1;
  const Forecast f = RunForecast(s_, o).value();
  EXPECT_EQ(Of(f, s1).state, JobState::kRunning);
  EXPECT_EQ(Of(f, s1).start[0], kNow - Duration::Minutes(30));
  EXPECT_EQ(Of(f, s1).finish[0], kNow + Duration::Minutes(30));
  EXPECT_EQ(Of(f, s2).finish[0], kNow + Duration::Minutes(90));
  // The device holds two halves: the waiting one starts when s1 ends.
  EXPECT_EQ(Of(f, next).start[0], kNow + Duration::Minutes(30));
  // Exported, the shares and their slot rerun alike.
  const std::string text = ExportForecast(s_, o).value();
  EXPECT_NE(text.find("share: 0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("share_slot: 0"), std::string::npos) << text;
  const StatusOr<twin::TwinInputs> in = twin::LoadScenarioText(text, "forecast.yaml", ".");
  ASSERT_TRUE(in.ok()) << in.status() << "\n" << text;
  EXPECT_EQ(in->running.size(), 6u);
  twin::Engine engine(*in, sched::MakeScheduler(in->spec.policy, in->spec.scheduler).value());
  const twin::RunResult r = engine.Run();
  for (const twin::JobRecord& j : r.jobs) {
    const uint64_t id = std::stoull(j.name.substr(j.name.rfind('#') + 1));
    const Time end = j.end == Time::Never() ? j.end : kNow + (j.end - Time::Epoch());
    EXPECT_EQ(end, Of(f, id).finish[0]) << j.name;
  }
}

}  // namespace
}  // namespace stargate::control
