// A scenario written back (scenario_export.h) reads into inputs that run
// to the same results, and writes out the same again: every kind of
// site, job, failure, scheduler knob, job running and node drained from
// the start survives the trip.
#include "twin/scenario_export.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sched/scheduler.h"
#include "twin/engine.h"
#include "twin/loader.h"

namespace stargate::twin {
namespace {

constexpr char kScenario[] = R"(name: round-trip
description: "every feature at once: quotes \" and colons: too"
seed: 7
duration: 3d
policy: stargate
scheduler:
  weights: {time: 1, carbon: 2.5, cost: 0.5, latency: 1, queue: 0.1}
  power_save: {idle_after: 20m, boot: 7m, warm: 0.1}
  carbon_cap: {above: 350, tdp_fraction: 0.75}
  fair_share: true
  tenants: [{name: ml, weight: 2}]
  preempt_after: 5m
sites:
  - name: a
    region: eu-west
    jurisdiction: EU
    latitude: 53.35
    longitude: -6.26
    power_cap: 2.5MW
    pue: 1.17
    hot_spares: 1
    node_failures_per_year: 3.5
    node_repair: 90m
    carbon: {kind: diurnal, mean: 300, daily_amplitude: 0.4, peak_hour: 19, noise: 0.1}
    price: {kind: diurnal, mean: 80, daily_amplitude: 0.3, noise: 0.05}
    pools:
      - {accelerator: H100, nodes: 12, nodes_per_rack: 4}
      - {accelerator: A100, nodes: 4}
    fabric: {kind: rail_optimized, nodes_per_leaf: 8, leaves_per_pod: 4, oversubscription: 2}
  - name: b
    region: us-east
    jurisdiction: US
    latitude: 39.0
    longitude: -77.5
    located: true
    carbon: 450
    price: {kind: hourly, values: [40, 45.5, -3, 60]}
    pools:
      - {accelerator: H100, nodes: 8}
wan:
  - {a: a, b: b, bandwidth: 100Gb/s, latency: 40ms}
workload:
  jobs:
    - {name: long, tenant: ml, kind: batch, count: 16, per_node: 8, duration: 30h, estimate: 20h, submit: 0s,
       checkpoint: {interval: 2h, write: 30s}}
    - {name: geo, kind: finetune, count: 2, per_node: 1, spread: sites, duration: 5h, submit: 1h}
    - {name: eu-only, kind: inference, count: 8, duration: 90m, jurisdictions: [EU], regions: [eu-west],
       near: a, max_rtt: 30ms, submit: 2h}
    - {name: late, kind: batch, count: 8, duration: 2h, deferrable: true, deadline: 30h, submit: 3h}
    - {name: llm, kind: training, count: 64, priority: 5, submit: 4h,
       training: {params: 8e9, tokens: 2e11, tensor_parallel: 8}, checkpoint: auto}
  generators:
    - {name: gen, kind: batch, count: 60, sizes: [{accelerators: 8, weight: 3}, {accelerators: 16, weight: 1}],
       duration_median: 2h, deferrable_fraction: 0.3, deadline_slack: 12h, tenants: 3}
failures:
  preset: llama3
  rate_scale: 30
  gang_repair: true
  scripted: [{at: 6h, site: b, node: 2, repair: 3h}]
running:
  - {job: long, nodes: ["a:0", "a:1"], per_node: 8, remaining: 0.4, power_cap: 0.8, since_checkpoint: 50m}
drains:
  - {at: 12h, site: a, node: 5}
)";

RunResult RunOnce(const TwinInputs& in) {
  Engine engine(in, sched::MakeScheduler(in.spec.policy, in.spec.scheduler).value());
  engine.set_audit(false);
  return engine.Run();
}

TEST(ScenarioExport, RunsToTheSameResultsAndWritesTheSameAgain) {
  const TwinInputs in = LoadScenarioText(kScenario, "rt.yaml", ".").value();
  ASSERT_EQ(in.running.size(), 1u);
  EXPECT_EQ(in.running[0].since_checkpoint, Duration::Minutes(50));
  ASSERT_EQ(in.drains.size(), 1u);
  EXPECT_EQ(in.drains[0].node, 5u);  // global ids: a's nodes first
  EXPECT_EQ(in.price[1].values, (std::vector<double>{40, 45.5, -3, 60}));
  const std::string text = ExportScenario(in).value();
  const StatusOr<TwinInputs> again = LoadScenarioText(text, "exported.yaml", ".");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
  EXPECT_EQ(ExportScenario(*again).value(), text);
  const RunResult a = RunOnce(in), b = RunOnce(*again);
  ASSERT_EQ(a.jobs.size(), b.jobs.size());
  int started = 0;
  for (size_t j = 0; j < a.jobs.size(); ++j) {
    EXPECT_EQ(a.jobs[j].name, b.jobs[j].name);
    EXPECT_EQ(a.jobs[j].first_start, b.jobs[j].first_start) << a.jobs[j].name;
    EXPECT_EQ(a.jobs[j].end, b.jobs[j].end) << a.jobs[j].name;
    EXPECT_EQ(a.jobs[j].site, b.jobs[j].site) << a.jobs[j].name;
    EXPECT_EQ(a.jobs[j].restarts, b.jobs[j].restarts) << a.jobs[j].name;
    started += a.jobs[j].first_start != Time::Never();
  }
  EXPECT_GT(started, 40);
  EXPECT_EQ(a.summary.tco2, b.summary.tco2);
  EXPECT_EQ(a.summary.goodput, b.summary.goodput);
  EXPECT_EQ(a.jobs[0].first_start, Time::Epoch());  // `long` was running from the start
}

// What a live network may hold that a scenario file would refuse is
// written so that it reads back and runs the same: more hot spares than a
// site has nodes, a job near a place no site is in.
TEST(ScenarioExport, WritesWhatTheServerAllowsAsTheParserWants) {
  TwinInputs in = LoadScenarioText(kScenario, "rt.yaml", ".").value();
  in.spec.sites[1].hot_spares = 50;  // b has 8 nodes
  auto job = [&in](const std::string& name) -> JobSpec& {
    return *std::find_if(in.jobs.begin(), in.jobs.end(), [&](const JobSpec& j) { return j.name == name; });
  };
  job("eu-only").near = "mars";  // with its max_rtt: nothing qualifies
  job("late").near = "moon";     // without: no preference
  const std::string text = ExportScenario(in).value();
  const StatusOr<TwinInputs> again = LoadScenarioText(text, "exported.yaml", ".");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->spec.sites[1].hot_spares, 8);
  const RunResult a = RunOnce(in), b = RunOnce(*again);
  for (size_t j = 0; j < a.jobs.size(); ++j) {
    EXPECT_EQ(a.jobs[j].first_start, b.jobs[j].first_start) << a.jobs[j].name;
    EXPECT_EQ(a.jobs[j].end, b.jobs[j].end) << a.jobs[j].name;
  }
  const size_t eu = static_cast<size_t>(&job("eu-only") - in.jobs.data());
  EXPECT_EQ(a.jobs[eu].first_start, Time::Never());  // near nowhere with a limit: never placed
}

TEST(ScenarioExport, RefusesWhatAScenarioCannotSay) {
  TwinInputs in = LoadScenarioText(kScenario, "rt.yaml", ".").value();
  in.jobs[1].name = in.jobs[0].name;
  EXPECT_FALSE(ExportScenario(in).ok());  // two jobs of one name
  in = LoadScenarioText(kScenario, "rt.yaml", ".").value();
  in.drains[0].node = 1000;
  EXPECT_FALSE(ExportScenario(in).ok());
}

TEST(ScenarioExport, TheParserNamesWhatIsWrongWithRunningAndDrains) {
  auto error = [](const std::string& tail) {
    std::string text = kScenario;
    text = text.substr(0, text.find("running:")) + tail;
    StatusOr<TwinInputs> in = LoadScenarioText(text, "bad.yaml", ".");
    return in.ok() ? std::string("ok") : std::string(in.status().message());
  };
  EXPECT_NE(error("running:\n  - {job: nope, nodes: [\"a:0\"], per_node: 8}\n").find("no job named 'nope'"),
            std::string::npos);
  EXPECT_NE(error("running:\n  - {job: long, nodes: [\"a:16\"], per_node: 8}\n").find("has 16 node(s)"),
            std::string::npos);
  EXPECT_NE(error("running:\n  - {job: long, nodes: [a0], per_node: 8}\n").find("SITE:INDEX"), std::string::npos);
  EXPECT_NE(error("drains:\n  - {at: 1h, site: c, node: 0}\n").find("unknown site"), std::string::npos);
  EXPECT_NE(error("drains:\n  - {at: 1h, site: b, node: 8}\n").find("bad.yaml:"), std::string::npos);
  EXPECT_EQ(error("drains:\n  - {at: 1h, site: b, node: 7}\n"), "ok");
}

}  // namespace
}  // namespace stargate::twin
