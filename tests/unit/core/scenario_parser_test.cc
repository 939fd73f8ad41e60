#include "core/scenario_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace stargate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(STARGATE_SOURCE_DIR) + "/tests/fixtures/scenarios/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ScenarioSpec ParseOk(const std::string& yaml) {
  StatusOr<ScenarioSpec> s = ParseScenario(yaml, "t.yaml");
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *std::move(s) : ScenarioSpec{};
}

// The whole message must start with `prefix` ("t.yaml:L:C: path: what").
void ExpectError(const std::string& yaml, const std::string& prefix) {
  StatusOr<ScenarioSpec> s = ParseScenario(yaml, "t.yaml");
  ASSERT_FALSE(s.ok()) << "parsed but expected: " << prefix;
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), StartsWith(prefix));
}

// A valid site block to build bad scenarios around (lines 1-4).
constexpr char kSite[] = R"(sites:
  - name: a
    pools:
      - {accelerator: H100, nodes: 8}
)";

// ---- valid input ----

TEST(ParseScenarioTest, FullScenarioRoundTrip) {
  const ScenarioSpec s = ParseOk(ReadFixture("full.yaml"));
  EXPECT_EQ(s.name, "full");
  EXPECT_EQ(s.description, "Two sites, one of each series kind, every workload source.");
  EXPECT_EQ(s.seed, 18446744073709551615u);
  EXPECT_EQ(s.duration, Duration::Days(54));
  EXPECT_EQ(s.sample_interval, Duration::Minutes(30));
  EXPECT_EQ(s.policy, "carbon_aware");
  ASSERT_EQ(s.sites.size(), 2u);

  const SiteSpec& a = s.sites[0];
  EXPECT_EQ(a.name, "abilene");
  EXPECT_EQ(a.region, "us-central");
  EXPECT_EQ(a.jurisdiction, "US");
  EXPECT_DOUBLE_EQ(a.latitude, 32.45);
  EXPECT_DOUBLE_EQ(a.longitude, -99.73);
  EXPECT_DOUBLE_EQ(a.power_cap.value(), 1.2e9);
  EXPECT_DOUBLE_EQ(a.pue, 1.15);
  EXPECT_EQ(a.carbon.kind, SeriesSpec::Kind::kDiurnal);
  EXPECT_DOUBLE_EQ(a.carbon.mean, 400);
  EXPECT_DOUBLE_EQ(a.carbon.daily_amplitude, 0.25);
  EXPECT_DOUBLE_EQ(a.carbon.seasonal_amplitude, 0.1);
  EXPECT_EQ(a.carbon.peak_hour, 19);
  EXPECT_DOUBLE_EQ(a.carbon.noise, 0.05);
  EXPECT_EQ(a.carbon.utc_offset_hours, -6);
  EXPECT_EQ(a.price.kind, SeriesSpec::Kind::kFile);
  EXPECT_EQ(a.price.file, "prices/ercot.csv");
  EXPECT_EQ(a.price.column, 2);
  EXPECT_DOUBLE_EQ(a.price.scale, 0.001);
  ASSERT_EQ(a.pools.size(), 2u);
  // GB200 takes its catalog defaults: 4 per tray, 18 trays per NVL72 domain,
  // and the rack grows to hold the domain.
  EXPECT_EQ(a.pools[0].type, AcceleratorType::kGB200);
  EXPECT_EQ(a.pools[0].nodes, 10000);
  EXPECT_EQ(a.pools[0].accels_per_node, 4);
  EXPECT_EQ(a.pools[0].domain_nodes, 18);
  EXPECT_EQ(a.pools[0].nodes_per_rack, 18);
  EXPECT_EQ(a.pools[1].type, AcceleratorType::kH100);
  EXPECT_EQ(a.pools[1].nodes, 1500);
  EXPECT_EQ(a.pools[1].accels_per_node, 8);
  EXPECT_EQ(a.pools[1].nodes_per_rack, 2);
  EXPECT_EQ(a.pools[1].domain_nodes, 1);
  EXPECT_EQ(a.fabric.kind, FabricKind::kNvlDomain);
  EXPECT_EQ(a.fabric.nodes_per_leaf, 16);
  EXPECT_EQ(a.fabric.leaves_per_pod, 64);
  EXPECT_DOUBLE_EQ(a.fabric.oversubscription, 7);
  EXPECT_EQ(a.fabric.alpha_scale_up, Duration::Nanos(500));
  EXPECT_EQ(a.fabric.alpha_leaf, Duration::Nanos(1500));
  EXPECT_EQ(a.fabric.alpha_spine, Duration::Micros(5));
  EXPECT_DOUBLE_EQ(a.storage_bandwidth.value(), 2e12);
  EXPECT_EQ(a.hot_spares, 18);

  const SiteSpec& p = s.sites[1];
  EXPECT_EQ(p.name, "paris");
  EXPECT_EQ(p.region, "");
  EXPECT_EQ(p.carbon.kind, SeriesSpec::Kind::kConstant);
  EXPECT_DOUBLE_EQ(p.carbon.mean, 56);
  EXPECT_DOUBLE_EQ(p.price.mean, -5);
  EXPECT_DOUBLE_EQ(p.power_cap.value(), 0);
  EXPECT_DOUBLE_EQ(p.storage_bandwidth.value(), SiteSpec{}.storage_bandwidth.value());
  EXPECT_EQ(p.pools[0].type, AcceleratorType::kMI300X);
  EXPECT_EQ(p.pools[0].accels_per_node, 8);
  EXPECT_EQ(p.fabric.kind, FabricKind::kFatTree);

  ASSERT_EQ(s.wan.size(), 1u);
  EXPECT_EQ(s.wan[0].a, "abilene");
  EXPECT_EQ(s.wan[0].b, "paris");
  EXPECT_DOUBLE_EQ(s.wan[0].bandwidth.value(), 50e9);
  EXPECT_EQ(s.wan[0].latency, Duration::Millis(45));

  ASSERT_EQ(s.workload.generators.size(), 2u);
  const GeneratorSpec& g = s.workload.generators[0];
  EXPECT_EQ(g.name, "research");
  EXPECT_EQ(g.kind, JobKind::kTraining);
  EXPECT_EQ(g.count, 1200);
  EXPECT_EQ(g.start, Time::FromNanos(Duration::Hours(1).nanos()));
  EXPECT_EQ(g.end, Time::FromNanos(Duration::Days(50).nanos()));
  ASSERT_EQ(g.sizes.size(), 2u);
  EXPECT_EQ(g.sizes[0].accelerators, 64);
  EXPECT_DOUBLE_EQ(g.sizes[0].weight, 3);
  EXPECT_EQ(g.sizes[1].accelerators, 16384);
  EXPECT_DOUBLE_EQ(g.sizes[1].weight, 0.5);
  EXPECT_EQ(g.duration_median, Duration::Hours(3));
  EXPECT_DOUBLE_EQ(g.duration_sigma, 1.5);
  EXPECT_DOUBLE_EQ(g.params_min, 7e9);
  EXPECT_DOUBLE_EQ(g.params_max, 405e9);
  EXPECT_DOUBLE_EQ(g.tokens_per_param, 37.5);
  EXPECT_DOUBLE_EQ(g.mfu, 0.38);
  EXPECT_THAT(g.accelerators, ElementsAre(AcceleratorType::kGB200, AcceleratorType::kH100));
  EXPECT_THAT(g.jurisdictions, ElementsAre("US"));
  EXPECT_EQ(g.tenants, 12);
  EXPECT_EQ(g.priority, 5);
  EXPECT_TRUE(g.checkpoint.enabled);
  EXPECT_TRUE(g.checkpoint.daly);
  EXPECT_DOUBLE_EQ(g.deferrable_fraction, 0.3);
  EXPECT_EQ(g.deadline_slack, Duration::Days(2));

  const GeneratorSpec& g2 = s.workload.generators[1];
  EXPECT_EQ(g2.name, "gen-1");
  EXPECT_EQ(g2.kind, JobKind::kInference);
  EXPECT_EQ(g2.end, Time::Never());
  ASSERT_EQ(g2.sizes.size(), 2u);
  EXPECT_EQ(g2.sizes[1].accelerators, 16);
  EXPECT_DOUBLE_EQ(g2.sizes[1].weight, 1);
  EXPECT_FALSE(g2.checkpoint.enabled);

  ASSERT_EQ(s.workload.traces.size(), 1u);
  const TraceSpec& t = s.workload.traces[0];
  EXPECT_EQ(t.format, TraceFormat::kAlibabaPai);
  EXPECT_EQ(t.path, "traces/pai.csv");
  EXPECT_EQ(t.job_table, "traces/pai_job.csv");
  EXPECT_DOUBLE_EQ(t.time_scale, 0.5);
  EXPECT_EQ(t.limit, 100000);
  EXPECT_THAT(t.accelerators, ElementsAre(AcceleratorType::kA100));

  ASSERT_EQ(s.workload.jobs.size(), 2u);
  const JobSpec& j = s.workload.jobs[0];
  EXPECT_EQ(j.name, "llama3-405b");
  EXPECT_EQ(j.tenant, "meta");
  EXPECT_EQ(j.kind, JobKind::kTraining);
  EXPECT_THAT(j.accelerators, ElementsAre(AcceleratorType::kH100));
  EXPECT_EQ(j.accelerator_count, 16384);
  EXPECT_EQ(j.priority, 10);
  EXPECT_EQ(j.submit, Time::FromNanos(Duration::Hours(2).nanos()));
  EXPECT_DOUBLE_EQ(j.training.params, 405e9);
  EXPECT_DOUBLE_EQ(j.training.tokens, 15.6e12);
  EXPECT_DOUBLE_EQ(j.training.tokens_per_step, 16e6);
  EXPECT_DOUBLE_EQ(j.training.mfu, 0.41);
  EXPECT_DOUBLE_EQ(j.training.state_bytes_per_param, 16);
  EXPECT_EQ(j.training.tensor_parallel, 8);
  EXPECT_EQ(j.training.pipeline_parallel, 16);
  EXPECT_TRUE(j.checkpoint.enabled);
  EXPECT_FALSE(j.checkpoint.daly);
  EXPECT_EQ(j.checkpoint.interval, Duration::Minutes(30));
  EXPECT_THAT(j.jurisdictions, ElementsAre("US", "EU"));
  EXPECT_TRUE(j.deferrable);
  EXPECT_EQ(j.deadline, Time::FromNanos(Duration::Days(60).nanos()));
  const JobSpec& j2 = s.workload.jobs[1];
  EXPECT_EQ(j2.name, "job-1");
  EXPECT_EQ(j2.kind, JobKind::kBatch);
  EXPECT_EQ(j2.accelerator_count, 4);
  EXPECT_EQ(j2.duration, Duration::Minutes(90));
  EXPECT_EQ(j2.deadline, Time::Never());

  EXPECT_TRUE(s.failures.enabled);
  EXPECT_EQ(s.failures.preset, "");
  ASSERT_EQ(s.failures.components.size(), 3u);
  EXPECT_EQ(s.failures.components[0].name, "gpu");
  EXPECT_EQ(s.failures.components[0].scope, FailureScope::kAccelerator);
  EXPECT_DOUBLE_EQ(s.failures.components[0].rate_per_year, 0.11);
  EXPECT_EQ(s.failures.components[0].repair, Duration::Days(3));
  EXPECT_EQ(s.failures.components[1].scope, FailureScope::kNode);
  EXPECT_EQ(s.failures.components[1].repair, FailureComponent{}.repair);
  EXPECT_EQ(s.failures.components[2].scope, FailureScope::kSite);
  EXPECT_DOUBLE_EQ(s.failures.rate_scale, 2);
  EXPECT_EQ(s.failures.restart, Duration::Minutes(5));
}

TEST(ParseScenarioTest, MinimalTakesStructDefaults) {
  const ScenarioSpec s = ParseOk(ReadFixture("minimal.yaml"));
  const ScenarioSpec d;
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.seed, d.seed);
  EXPECT_EQ(s.duration, d.duration);
  EXPECT_EQ(s.sample_interval, d.sample_interval);
  EXPECT_EQ(s.policy, d.policy);
  ASSERT_EQ(s.sites.size(), 1u);
  EXPECT_DOUBLE_EQ(s.sites[0].pue, SiteSpec{}.pue);
  EXPECT_EQ(s.sites[0].pools[0].accels_per_node, 8);
  EXPECT_EQ(s.sites[0].pools[0].nodes_per_rack, 4);
  EXPECT_EQ(s.sites[0].pools[0].domain_nodes, 1);
  EXPECT_TRUE(s.wan.empty());
  EXPECT_TRUE(s.workload.generators.empty());
  EXPECT_TRUE(s.failures.enabled);
  EXPECT_TRUE(s.failures.components.empty());
}

TEST(ParseScenarioTest, Llama3PresetLeavesComponentsEmpty) {
  const ScenarioSpec s = ParseOk(ReadFixture("llama3_preset.yaml"));
  EXPECT_EQ(s.failures.preset, "llama3");
  EXPECT_TRUE(s.failures.components.empty());
  ASSERT_EQ(s.workload.jobs.size(), 1u);
  EXPECT_TRUE(s.workload.jobs[0].checkpoint.daly);
  EXPECT_DOUBLE_EQ(s.workload.jobs[0].training.tokens, 15.6e12);
  EXPECT_EQ(s.sites[0].fabric.kind, FabricKind::kRailOptimized);
}

TEST(ParseScenarioTest, ReferenceDocExampleParses) {
  const ScenarioSpec s = ParseOk(ReadFixture("reference_example.yaml"));
  EXPECT_EQ(s.name, "two-sites");
  ASSERT_EQ(s.sites.size(), 2u);
  EXPECT_EQ(s.sites[0].pools[0].nodes, 100000);
  EXPECT_EQ(s.sites[0].carbon.peak_hour, 19);
  EXPECT_DOUBLE_EQ(s.sites[1].price.mean, 80);
  EXPECT_EQ(s.failures.preset, "llama3");
}

TEST(ParseScenarioTest, PresetNoneMeansNoPreset) {
  const ScenarioSpec s = ParseOk(std::string(kSite) + "failures: {preset: none, enabled: false}\n");
  EXPECT_EQ(s.failures.preset, "");
  EXPECT_FALSE(s.failures.enabled);
}

TEST(ParseScenarioTest, AliasesAndExtensionKeys) {
  const ScenarioSpec s = ParseOk(ReadFixture("anchors.yaml"));
  ASSERT_EQ(s.sites.size(), 2u);
  EXPECT_EQ(s.sites[1].carbon.kind, SeriesSpec::Kind::kDiurnal);
  EXPECT_DOUBLE_EQ(s.sites[1].carbon.daily_amplitude, 0.2);
  EXPECT_EQ(s.sites[1].pools[0].accels_per_node, 4);  // MI250X catalog default
}

TEST(ParseScenarioTest, LargeCountsWithinLimits) {
  const ScenarioSpec s = ParseOk(R"(sites:
  - name: big
    pools: [{accelerator: GB200, nodes: 10M, accels_per_node: 72}]
workload:
  generators: [{count: 1e9, sizes: [1B]}]
)");
  EXPECT_EQ(s.sites[0].pools[0].nodes, 10000000);
  EXPECT_EQ(s.workload.generators[0].count, 1000000000);
  EXPECT_EQ(s.workload.generators[0].sizes[0].accelerators, 1000000000);
}

TEST(ParseScenarioTest, CheckpointShorthands) {
  const ScenarioSpec s = ParseOk(std::string(kSite) + R"(workload:
  generators:
    - {checkpoint: auto}
    - {checkpoint: 45m}
    - {checkpoint: {enabled: false}}
)");
  EXPECT_TRUE(s.workload.generators[0].checkpoint.daly);
  EXPECT_EQ(s.workload.generators[1].checkpoint.interval, Duration::Minutes(45));
  EXPECT_FALSE(s.workload.generators[1].checkpoint.daly);
  EXPECT_FALSE(s.workload.generators[2].checkpoint.enabled);
}

// Checkpoints across sites, as a job file says them; a whole-site outage.
TEST(ParseScenarioTest, CheckpointReplicasAndSiteOutages) {
  const ScenarioSpec s = ParseOk(std::string(kSite) + R"(failures:
  scripted:
    - {at: 30d, site: a, node: all, repair: 12h}
workload:
  generators:
    - {checkpoint: {interval: 1h, replicas: {sites: 2, every: 30m}, site_wait: 2h}}
    - {checkpoint: {interval: 1h, site_wait: auto}}
)");
  const CheckpointPolicy& c = s.workload.generators[0].checkpoint;
  EXPECT_EQ(c.replica_sites, 2);
  EXPECT_EQ(c.replica_every, Duration::Minutes(30));
  EXPECT_EQ(c.site_wait, Duration::Hours(2));
  EXPECT_LT(s.workload.generators[1].checkpoint.site_wait, Duration::Zero());
  EXPECT_EQ(s.workload.generators[1].checkpoint.replica_sites, 1);
  ASSERT_EQ(s.failures.scripted.size(), 1u);
  EXPECT_EQ(s.failures.scripted[0].node, FailureSpec::Scripted::kWholeSite);
  EXPECT_FALSE(
      ParseScenario(std::string(kSite) + "workload:\n  generators:\n    - {checkpoint: {replicas: {sites: 0}}}\n",
                    "t.yaml")
          .ok());
}

TEST(ParseScenarioTest, SchedulerKnobsAndResilience) {
  const ScenarioSpec s = ParseOk(std::string(kSite) + R"(policy: stargate
scheduler:
  weights: {time: 2, carbon: 0.5, cost: 0}
  carbon_forecast: 12h
  forecast_model: day-ago
  power_cap: false
  backfill: true
  backfill_depth: 50
  fair_share: true
  tenants:
    - {name: research, weight: 3}
    - {name: prod}
  preemption: false
  preempt_after: 30m
  preempt_warning: 45s
failures:
  gang_repair: true
  repair_restart: 3m
workload:
  generators:
    - {kind: training, checkpoint: {interval: auto, async: true}}
)");
  EXPECT_EQ(s.policy, "stargate");
  EXPECT_DOUBLE_EQ(s.scheduler.weight_time, 2);
  EXPECT_DOUBLE_EQ(s.scheduler.weight_carbon, 0.5);
  EXPECT_DOUBLE_EQ(s.scheduler.weight_cost, 0);
  EXPECT_EQ(s.scheduler.carbon_forecast, Duration::Hours(12));
  EXPECT_EQ(s.scheduler.forecast_model, ForecastModel::kDayAgo);
  EXPECT_EQ(ParseOk(std::string(kSite)).scheduler.forecast_model, ForecastModel::kPerfect);
  StatusOr<ScenarioSpec> bad = ParseScenario(std::string(kSite) + "scheduler: {forecast_model: oracle}\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("scheduler.forecast_model"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(std::string(bad.status().message()).find("persistence"), std::string::npos);
  EXPECT_FALSE(s.scheduler.power_cap);
  EXPECT_EQ(s.scheduler.backfill_depth, 50);
  EXPECT_TRUE(s.scheduler.fair_share);
  ASSERT_EQ(s.scheduler.tenants.size(), 2u);
  EXPECT_EQ(s.scheduler.tenants[0].tenant, "research");
  EXPECT_DOUBLE_EQ(s.scheduler.tenants[0].weight, 3);
  EXPECT_DOUBLE_EQ(s.scheduler.tenants[1].weight, 1);
  EXPECT_FALSE(s.scheduler.preemption);
  EXPECT_EQ(s.scheduler.preempt_after, Duration::Minutes(30));
  EXPECT_EQ(s.scheduler.preempt_warning, Duration::Seconds(45));
  EXPECT_TRUE(s.failures.gang_repair);
  EXPECT_EQ(s.failures.repair_restart, Duration::Minutes(3));
  EXPECT_TRUE(s.workload.generators[0].checkpoint.async);
  EXPECT_TRUE(s.workload.generators[0].checkpoint.daly);
  // Defaults: repair restart follows `restart`.
  EXPECT_LT(ParseOk(kSite).failures.repair_restart, Duration::Zero());
}

TEST(ParseScenarioTest, NearAndMaxRtt) {
  const ScenarioSpec s = ParseOk(R"(sites:
  - {name: oslo, region: nordics, latitude: 59.9, longitude: 10.7, pools: [{accelerator: H100, nodes: 1}]}
  - {name: paris, region: eu-west, pools: [{accelerator: H100, nodes: 1}]}
scheduler:
  weights: {latency: 2, queue: 0.25}
  latency_scale: 50ms
  power_save: {idle_after: 15m, warm: 0.1}
  resume_wait_budget: 0.25
  carbon_cap: {above: 450}
workload:
  generators:
    - {name: chat, kind: inference, near: [nordics, paris], max_rtt: 40ms}
  jobs:
    - {name: j, near: oslo}
)");
  EXPECT_EQ(s.workload.generators[0].near, (std::vector<std::string>{"nordics", "paris"}));
  EXPECT_EQ(s.workload.generators[0].max_rtt, Duration::Millis(40));
  EXPECT_EQ(s.workload.jobs[0].near, "oslo");
  EXPECT_EQ(s.workload.jobs[0].max_rtt, Duration::Zero());
  EXPECT_DOUBLE_EQ(s.scheduler.weight_latency, 2);
  EXPECT_DOUBLE_EQ(s.scheduler.weight_queue, 0.25);
  EXPECT_EQ(s.scheduler.latency_scale, Duration::Millis(50));
  EXPECT_TRUE(s.scheduler.power_save.enabled);  // the block turns it on
  EXPECT_EQ(s.scheduler.power_save.idle_after, Duration::Minutes(15));
  EXPECT_EQ(s.scheduler.power_save.boot, Duration::Minutes(10));
  EXPECT_DOUBLE_EQ(s.scheduler.power_save.warm, 0.1);
  EXPECT_FALSE(ParseOk(kSite).scheduler.power_save.enabled);
  EXPECT_DOUBLE_EQ(s.scheduler.resume_wait_budget, 0.25);
  EXPECT_TRUE(s.scheduler.carbon_cap.enabled);  // the block turns it on
  EXPECT_DOUBLE_EQ(s.scheduler.carbon_cap.above_g_per_kwh, 450);
  EXPECT_DOUBLE_EQ(s.scheduler.carbon_cap.tdp_fraction, 0.7);
  EXPECT_FALSE(ParseOk(kSite).scheduler.carbon_cap.enabled);
}

TEST(ParseScenarioTest, ScriptedFailures) {
  const ScenarioSpec s =
      ParseOk(std::string(kSite) + "failures:\n  scripted:\n    - {at: 40s, site: a, node: 0, repair: 2m}\n");
  ASSERT_EQ(s.failures.scripted.size(), 1u);
  EXPECT_EQ(s.failures.scripted[0].at, Duration::Seconds(40));
  EXPECT_EQ(s.failures.scripted[0].site, "a");
  EXPECT_EQ(s.failures.scripted[0].repair, Duration::Minutes(2));
  EXPECT_FALSE(ParseScenario(std::string(kSite) + "failures:\n  scripted:\n    - {at: 1s, site: zz}\n", "t.yaml").ok());
  EXPECT_FALSE(
      ParseScenario(std::string(kSite) + "failures:\n  scripted:\n    - {at: 1s, site: a, node: 99}\n", "t.yaml").ok());
}

TEST(ParseScenarioErrorTest, CarbonCapStaysWhereTheModelIsCalibrated) {
  ExpectError(std::string(kSite) + "scheduler:\n  carbon_cap: {tdp_fraction: 0.3}\n",
              "t.yaml:6:30: scheduler.carbon_cap.tdp_fraction: must be in [0.5, 1] (got 0.3)");
}

// ---- bad input: exact position and field path ----

TEST(ParseScenarioErrorTest, OnlyAPaiTraceHasAJobTable) {
  ExpectError(std::string(kSite) + "workload:\n  traces:\n    - {format: helios, path: h.csv, job_table: j.csv}\n",
              "t.yaml:7:48: workload.traces[0].job_table: only an alibaba_pai trace has a job table");
  ExpectError(std::string(kSite) + "workload:\n  traces:\n    - {format: alibaba_pai, path: p.csv, job_table: ''}\n",
              "t.yaml:7:53: workload.traces[0].job_table: must not be empty");
}

TEST(ParseScenarioErrorTest, MaxRttNeedsNear) {
  ExpectError(std::string(kSite) + "workload:\n  jobs:\n    - {max_rtt: 10ms}\n",
              "t.yaml:7:17: workload.jobs[0].max_rtt: needs `near`: a round trip from where?");
}

TEST(ParseScenarioErrorTest, NearMustNameASiteOrRegion) {
  ExpectError(std::string(kSite) + "workload:\n  jobs:\n    - {near: atlantis}\n",
              "t.yaml:7:14: workload.jobs[0].near: unknown site or region 'atlantis'");
  ExpectError(std::string(kSite) + "workload:\n  jobs:\n    - {near: [a, a]}\n",
              "t.yaml:7:14: workload.jobs[0].near: a job is near one place; give one site or region");
}

// A scenario has no dataset registry: its inputs give size and sites.
TEST(ParseScenarioErrorTest, InputsCannotNameARegisteredDataset) {
  ExpectError(std::string(kSite) + "workload:\n  jobs:\n    - {inputs: [corpus]}\n",
              "t.yaml:7:17: workload.jobs[0].inputs[0]: a scenario has no dataset registry to name one from: give "
              "{name, size, sites}");
}

TEST(ParseScenarioErrorTest, SchedulerWeightsMustNotAllBeZero) {
  ExpectError(std::string(kSite) + "scheduler:\n  weights: {time: 0, carbon: 0, cost: 0, latency: 0}\n",
              "t.yaml:6:12: scheduler.weights: at least one weight must be positive");
}

TEST(ParseScenarioErrorTest, TenantWeightsNeedANameOnceAndAPositiveWeight) {
  ExpectError(std::string(kSite) + "scheduler:\n  tenants:\n    - {name: a}\n    - {name: a}\n",
              "t.yaml:8:14: scheduler.tenants[1].name: tenant 'a' is listed twice");
  ExpectError(std::string(kSite) + "scheduler:\n  tenants:\n    - {name: a, weight: 0}\n",
              "t.yaml:7:25: scheduler.tenants[0].weight: must be in [1e-06, 1000000] (got 0)");
}

TEST(ParseScenarioErrorTest, UnknownAccelerator) {
  ExpectError(R"(sites:
  - name: a
    pools:
      - accelerator: H1000
        nodes: 8
)",
              "t.yaml:4:22: sites[0].pools[0].accelerator: unknown accelerator 'H1000' "
              "(known: CPU, A100, H100, H200, B200, GB200, MI250X, MI300X)");
}

TEST(ParseScenarioErrorTest, UnknownKeySuggestsClosest) {
  ExpectError(R"(sites:
  - name: a
    pools:
      - accelerator: H100
        nodes: 8
        nodes_per_rak: 4
)",
              "t.yaml:6:9: sites[0].pools[0]: unknown key 'nodes_per_rak' "
              "(did you mean 'nodes_per_rack'?)");
}

TEST(ParseScenarioErrorTest, UnknownTopLevelKeyListsKnownWhenNothingIsClose) {
  ExpectError(std::string(kSite) + "zzz: 1\n", "t.yaml:5:1: unknown key 'zzz' (known keys: name, description, seed,");
}

TEST(ParseScenarioErrorTest, WrongTypeForNodes) {
  ExpectError(R"(sites:
  - name: a
    pools:
      - accelerator: H100
        nodes: [1, 2]
)",
              "t.yaml:5:16: sites[0].pools[0].nodes: expected a whole number, got a list");
}

TEST(ParseScenarioErrorTest, NegativeNodes) {
  ExpectError(R"(sites:
  - name: a
    pools: [{accelerator: H100, nodes: -8}]
)",
              "t.yaml:3:40: sites[0].pools[0].nodes: invalid count '-8': must not be negative");
}

TEST(ParseScenarioErrorTest, TooManyNodes) {
  ExpectError(R"(sites:
  - name: a
    pools: [{accelerator: H100, nodes: 1e12}]
)",
              "t.yaml:3:40: sites[0].pools[0].nodes: must be in [1, 10000000] "
              "(got 1000000000000)");
}

TEST(ParseScenarioErrorTest, ZeroAcceleratorsPerNode) {
  ExpectError(R"(sites:
  - name: a
    pools: [{accelerator: H100, nodes: 2, accels_per_node: 0}]
)",
              "t.yaml:3:60: sites[0].pools[0].accels_per_node: must be in [1, 1024] (got 0)");
}

TEST(ParseScenarioErrorTest, PueBelowOne) {
  ExpectError(R"(sites:
  - name: a
    pue: 0.9
    pools: [{accelerator: H100, nodes: 8}]
)",
              "t.yaml:3:10: sites[0].pue: must be in [1, 10] (got 0.9)");
}

TEST(ParseScenarioErrorTest, FractionOutsideUnitInterval) {
  ExpectError(R"(sites:
  - name: a
    carbon:
      kind: diurnal
      daily_amplitude: 1.5
    pools: [{accelerator: H100, nodes: 8}]
)",
              "t.yaml:5:24: sites[0].carbon.daily_amplitude: must be in [0, 1] (got 1.5)");
}

TEST(ParseScenarioErrorTest, DuplicateSiteName) {
  ExpectError(R"(sites:
  - name: a
    pools: [{accelerator: H100, nodes: 8}]
  - name: a
    pools: [{accelerator: H100, nodes: 8}]
)",
              "t.yaml:4:11: sites[1].name: duplicate site name 'a' (first declared on line 2)");
}

TEST(ParseScenarioErrorTest, WanLinkToUnknownSite) {
  ExpectError(std::string(kSite) + R"(wan:
  - {a: a, b: abilne}
)",
              "t.yaml:6:15: wan[0].b: unknown site or region 'abilne' (known: a)");
}

TEST(ParseScenarioErrorTest, WanLinkSuggestsSite) {
  ExpectError(R"(sites:
  - {name: abilene, pools: [{accelerator: H100, nodes: 8}]}
  - {name: paris, pools: [{accelerator: H100, nodes: 8}]}
wan:
  - {a: paris, b: abilne}
)",
              "t.yaml:5:19: wan[0].b: unknown site or region 'abilne' (did you mean 'abilene'? known: "
              "abilene, paris)");
}

// A backbone: links between regions (their hubs), beside links between
// sites; a link joins two of a kind, and names a region only if a site is
// in it.
TEST(ParseScenarioTest, WanLinksJoinRegionsHubs) {
  const ScenarioSpec s = ParseOk(R"(sites:
  - {name: abilene, region: us-south, pools: [{accelerator: H100, nodes: 8}]}
  - {name: paris, region: eu-west, pools: [{accelerator: H100, nodes: 8}]}
  - {name: lyon, region: eu-west, pools: [{accelerator: H100, nodes: 8}]}
wan:
  - {a: us-south, b: eu-west, bandwidth: 100Gbps}
  - {a: paris, b: lyon}
)");
  ASSERT_EQ(s.wan.size(), 2u);
  EXPECT_TRUE(s.wan[0].regions);
  EXPECT_EQ(s.wan[0].a, "us-south");
  EXPECT_DOUBLE_EQ(s.wan[0].bandwidth.value(), 100e9 / 8);
  EXPECT_FALSE(s.wan[1].regions);
}

// A site named after its region: a link end with that name takes the
// kind of the other end; named so at both ends, the link joins the sites.
TEST(ParseScenarioTest, AWanEndNamingASiteAndARegionTakesTheOtherEndsKind) {
  const ScenarioSpec s = ParseOk(R"(sites:
  - {name: us-south, region: us-south, pools: [{accelerator: H100, nodes: 8}]}
  - {name: dallas, region: us-south, pools: [{accelerator: H100, nodes: 8}]}
  - {name: eu-west, region: eu-west, pools: [{accelerator: H100, nodes: 8}]}
  - {name: paris, region: eu-west, pools: [{accelerator: H100, nodes: 8}]}
  - {name: tokyo, region: ap-east, pools: [{accelerator: H100, nodes: 8}]}
wan:
  - {a: us-south, b: ap-east}
  - {a: paris, b: us-south}
  - {a: us-south, b: eu-west}
)");
  ASSERT_EQ(s.wan.size(), 3u);
  EXPECT_TRUE(s.wan[0].regions);   // ap-east is only a region
  EXPECT_FALSE(s.wan[1].regions);  // paris is only a site
  EXPECT_FALSE(s.wan[2].regions);  // both names are both: the sites
}

TEST(ParseScenarioErrorTest, WanLinkJoinsTwoOfAKind) {
  const std::string sites = R"(sites:
  - {name: abilene, region: us-south, pools: [{accelerator: H100, nodes: 8}]}
  - {name: paris, region: eu-west, pools: [{accelerator: H100, nodes: 8}]}
wan:
)";
  ExpectError(sites + "  - {a: paris, b: us-south}\n",
              "t.yaml:5:19: wan[0].b: a link joins two sites or two regions (their hubs), not a site ('paris') and "
              "a region ('us-south')");
  ExpectError(sites + "  - {a: eu-west, b: eu-west}\n",
              "t.yaml:5:21: wan[0].b: a link needs two different regions, got 'eu-west' twice");
  ExpectError(sites + "  - {a: eu-west, b: eu-north}\n",
              "t.yaml:5:21: wan[0].b: unknown site or region 'eu-north' (known: abilene, paris, us-south, eu-west)");
}

TEST(ParseScenarioErrorTest, GeneratorSizesEmpty) {
  ExpectError(std::string(kSite) + R"(workload:
  generators:
    - name: g
      sizes: []
)",
              "t.yaml:8:14: workload.generators[0].sizes: must list at least one size");
}

TEST(ParseScenarioErrorTest, GeneratorWeightNotPositive) {
  ExpectError(std::string(kSite) + R"(workload:
  generators:
    - sizes:
        - {accelerators: 8, weight: 0}
)",
              "t.yaml:8:37: workload.generators[0].sizes[0].weight: must be in (0, "
              "1000000000000] (got 0)");
}

TEST(ParseScenarioErrorTest, GeneratorShares) {
  ExpectError(std::string(kSite) + R"(workload:
  generators:
    - sizes:
        - {share: 1.5}
)",
              "t.yaml:8:19: workload.generators[0].sizes[0].share: must be in [0.001, 0.999] (got 1.5)");
  ExpectError(std::string(kSite) + R"(workload:
  generators:
    - sizes:
        - {share: 0.5, accelerators: 1}
)",
              "t.yaml:8:19: workload.generators[0].sizes[0].share: give accelerators or a share of one device, not "
              "both");
  ExpectError(std::string(kSite) + R"(workload:
  generators:
    - kind: training
      sizes: [{share: 0.5}]
)",
              "t.yaml:8:14: workload.generators[0].sizes: a share of one device is for batch, fine-tune and "
              "inference work, not training");
}

TEST(ParseScenarioErrorTest, NoSites) {
  ExpectError("name: empty\nsites: []\n", "t.yaml:2:8: sites: at least one site is required");
  ExpectError("name: empty\n", "t.yaml:1:1: sites: required key is missing");
}

TEST(ParseScenarioErrorTest, DurationNotPositive) {
  ExpectError("duration: 0s\n" + std::string(kSite), "t.yaml:1:11: duration: must be > 0 (got '0s')");
}

TEST(ParseScenarioErrorTest, BadDurationUnit) {
  ExpectError("sample_interval: 10 fortnights\n" + std::string(kSite),
              "t.yaml:1:18: sample_interval: invalid duration '10 fortnights': unknown unit "
              "'fortnights'");
}

TEST(ParseScenarioErrorTest, BadPowerUnit) {
  ExpectError(R"(sites:
  - name: a
    power_cap: 10kV
    pools: [{accelerator: H100, nodes: 8}]
)",
              "t.yaml:3:16: sites[0].power_cap: invalid power '10kV': unknown unit 'kV'");
}

TEST(ParseScenarioErrorTest, YamlSyntaxError) {
  ExpectError(ReadFixture("bad_syntax.yaml"), "t.yaml:4:1: YAML syntax error: ");
}

TEST(ParseScenarioErrorTest, TabIndentationIsSyntaxError) { ExpectError("sites:\n\t- name: a\n", "t.yaml:2:"); }

TEST(ParseScenarioErrorTest, DuplicateKey) {
  ExpectError(R"(sites:
  - name: a
    pools: [{accelerator: H100, nodes: 8, nodes: 9}]
)",
              "t.yaml:3:43: sites[0].pools[0]: duplicate key 'nodes'");
}

TEST(ParseScenarioErrorTest, FabricKindTypo) {
  ExpectError(R"(sites:
  - name: a
    pools: [{accelerator: H100, nodes: 8}]
    fabric: {kind: fat-tre}
)",
              "t.yaml:4:20: sites[0].fabric.kind: unknown fabric kind 'fat-tre' (did you mean "
              "'fat_tree'? known: fat_tree, rail_optimized, nvl_domain)");
}

TEST(ParseScenarioErrorTest, MissingRequiredPoolKey) {
  ExpectError(R"(sites:
  - name: a
    pools:
      - accelerator: H100
)",
              "t.yaml:4:9: sites[0].pools[0].nodes: required key is missing");
}

TEST(ParseScenarioErrorTest, SiteWithoutPools) {
  ExpectError("sites:\n  - name: a\n    pools: []\n", "t.yaml:3:12: sites[0].pools: a site needs at least one pool");
}

TEST(ParseScenarioErrorTest, HotSparesExceedNodes) {
  ExpectError(R"(sites:
  - name: a
    hot_spares: 9
    pools: [{accelerator: H100, nodes: 8}]
)",
              "t.yaml:3:17: sites[0].hot_spares: 9 hot spares but the site has only 8 nodes");
}

TEST(ParseScenarioErrorTest, TooManyAcceleratorsInTotal) {
  ExpectError(R"(sites:
  - {name: a, pools: [{accelerator: H100, nodes: 10M, accels_per_node: 64}]}
  - {name: b, pools: [{accelerator: H100, nodes: 10M, accels_per_node: 64}]}
)",
              "t.yaml:3:5: sites[1]: the scenario exceeds 1000000000 accelerators in total");
}

TEST(ParseScenarioErrorTest, PresetAndComponentsConflict) {
  ExpectError(std::string(kSite) + R"(failures:
  preset: llama3
  components:
    - {name: gpu, rate_per_year: 0.1}
)",
              "t.yaml:8:5: failures.components: cannot be combined with preset 'llama3'");
}

TEST(ParseScenarioErrorTest, UnknownPreset) {
  ExpectError(std::string(kSite) + "failures: {preset: llama4}\n",
              "t.yaml:5:20: failures.preset: unknown failure preset 'llama4' (did you mean "
              "'llama3'? known: llama3, none)");
}

TEST(ParseScenarioErrorTest, TrainingJobNeedsModelSize) {
  ExpectError(std::string(kSite) + R"(workload:
  jobs:
    - kind: training
      count: 8
      training: {tokens: 1T}
)",
              "t.yaml:9:17: workload.jobs[0].training.params: required key is missing");
}

TEST(ParseScenarioErrorTest, TrainingCountNotMultipleOfReplica) {
  ExpectError(std::string(kSite) + R"(workload:
  jobs:
    - kind: training
      count: 12
      training: {params: 7B, tokens: 1T}
)",
              "t.yaml:8:14: workload.jobs[0].count: 12 accelerators is not a multiple of "
              "tensor_parallel x pipeline_parallel = 8");
}

TEST(ParseScenarioErrorTest, DeadlineBeforeSubmit) {
  ExpectError(std::string(kSite) + R"(workload:
  jobs:
    - {submit: 2h, deadline: 1h}
)",
              "t.yaml:7:30: workload.jobs[0].deadline: must be after submit");
}

TEST(ParseScenarioErrorTest, DuplicateJobName) {
  ExpectError(std::string(kSite) + R"(workload:
  jobs:
    - {name: x}
    - {name: x}
)",
              "t.yaml:8:7: workload.jobs[1]: duplicate name 'x' (first used on line 7)");
}

TEST(ParseScenarioErrorTest, WrongRootType) {
  ExpectError("- a\n- b\n", "t.yaml:1:1: expected a map of scenario keys");
  ExpectError("", "t.yaml:1:1: expected a map of scenario keys (name, sites, ...), got nothing");
}

TEST(ParseScenarioErrorTest, SecondDocument) {
  ExpectError(std::string(kSite) + "---\nname: b\n", "t.yaml:5:1: expected one YAML document");
}

// yaml-cpp 0.7's LoadAll never returns on these (found by scenario_fuzz).
TEST(ParseScenarioErrorTest, StrayCommaIsAnErrorNotAHang) {
  ExpectError(", aen at", "t.yaml:1:1: YAML syntax error: unexpected ','");
  ExpectError(std::string(kSite) + ",\n", "t.yaml:5:1: YAML syntax error: end of map not found");
}

// yaml-cpp lets an anchor refer to the node that contains it; the schema
// walk has a fixed depth, so a cycle is just a type error.
TEST(ParseScenarioErrorTest, SelfReferencingAnchors) {
  ExpectError("sites: &a [*a]\n", "t.yaml:1:8: sites[0]: expected a map, got a list");
  ExpectError("sites:\n - &s {name: x, pools: *s}\n", "t.yaml:2:4: sites[0].pools: expected a list, got a map");
}

TEST(ParseScenarioErrorTest, KnownYamlCppHangInputs) {
  ExpectError("[:", "t.yaml:1:2: YAML syntax error: ");
  ExpectError("{:", "t.yaml:1:2: YAML syntax error: ");
  ExpectError(",", "t.yaml:1:1: YAML syntax error: unexpected ','");
}

TEST(ParseScenarioErrorTest, BadSeed) {
  ExpectError("seed: -1\n" + std::string(kSite), "t.yaml:1:7: seed: expected a whole number >= 0, got '-1'");
  ExpectError("seed: 18446744073709551616\n" + std::string(kSite),
              "t.yaml:1:7: seed: '18446744073709551616' does not fit in 64 bits");
}

TEST(ParseScenarioErrorTest, AliasBombIsRefusedNotExpanded) {
  // Each level names the previous one 9 times: 9^8 = 43M site references.
  std::string yaml = "x-0: &a0 {name: s, pools: [{accelerator: H100, nodes: 1}]}\n";
  for (int i = 1; i <= 8; ++i) {
    yaml += "x-" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) yaml += (k ? ", *a" : "*a") + std::to_string(i - 1);
    yaml += "]\n";
  }
  yaml += "sites: *a8\n";
  StatusOr<ScenarioSpec> s = ParseScenario(yaml, "bomb.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("expected a map"));
  // The list of lists fails fast; a flat list of many aliases hits the budget.
  std::string flat = "x-p: &p {accelerator: H100, nodes: 1}\nx-l: &l [";
  for (int k = 0; k < 2000; ++k) flat += k ? ", *p" : "*p";
  flat += "]\nsites:\n";
  for (int k = 0; k < 2000; ++k) flat += "  - {name: n" + std::to_string(k) + ", pools: *l}\n";
  s = ParseScenario(flat, "bomb.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("document too large"));
}

TEST(ParseScenarioErrorTest, BadFixturesAllFailCleanly) {
  for (const char* name :
       {"bad_accelerator.yaml", "bad_unknown_key.yaml", "bad_syntax.yaml", "bad_wan.yaml", "bad_units.yaml"}) {
    StatusOr<ScenarioSpec> s = ParseScenario(ReadFixture(name), name);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_THAT(std::string(s.status().message()), StartsWith(std::string(name) + ":")) << name;
  }
}

TEST(ParseScenarioErrorTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  StatusOr<ScenarioSpec> s = ParseScenario(deep, "deep.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), StartsWith("deep.yaml:1:"));
}

}  // namespace
}  // namespace stargate

namespace stargate {
namespace {

TEST(ParseScenarioTest, ComparePoliciesForTheReport) {
  EXPECT_TRUE(ParseOk(kSite).compare.empty());
  EXPECT_EQ(ParseOk(std::string(kSite) + "compare: [stargate, fifo]\n").compare,
            (std::vector<std::string>{"stargate", "fifo"}));
  EXPECT_EQ(ParseOk(std::string(kSite) + "compare: stargate\n").compare, (std::vector<std::string>{"stargate"}));
  ExpectError(std::string(kSite) + "compare: [stargate, '']\n",
              "t.yaml:5:10: compare: a policy name must not be empty");
}

}  // namespace
}  // namespace stargate

namespace stargate {
namespace {

TEST(ParseScenarioTest, SitePowerRamp) {
  StatusOr<ScenarioSpec> s = ParseScenario(
      "sites:\n  - name: a\n    power_ramp: {mw_per_min: 12}\n    pools:\n      - {accelerator: H100, nodes: 8}\n",
      "t.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->sites[0].power_ramp.RateWattsPerSecond(), 0.2e6);
  StatusOr<ScenarioSpec> bad = ParseScenario(
      "sites:\n  - name: a\n    power_ramp: {mw_per_min: -1}\n    pools:\n      - {accelerator: H100, nodes: 8}\n",
      "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("t.yaml:3"), std::string::npos) << bad.status();
  EXPECT_NE(std::string(bad.status().message()).find("mw_per_min"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace stargate
