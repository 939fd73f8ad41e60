// The loader end to end: a scenario naming trace files of all three public
// formats, read relative to the scenario's directory, merged with synthetic
// jobs in submit order, and run.
#include "twin/loader.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "twin/engine.h"

namespace stargate::twin {
namespace {

const std::string kTraces = std::string(STARGATE_SOURCE_DIR) + "/tests/fixtures/traces";

constexpr char kScenario[] = R"(name: traces
duration: 30d
seed: 3
sites:
  - name: lab
    jurisdiction: US
    pools:
      - {accelerator: H100, nodes: 64}
failures: {preset: none}
workload:
  traces:
    - {format: philly, path: philly_small.json}
    - {format: alibaba_pai, path: pai_task_small.csv, job_table: pai_job_small.csv}
    - {format: helios, path: helios_small.csv, time_scale: 2}
    - {format: acme, path: acme_small.csv}
    - {format: alibaba_openb, path: openb_small.csv}
    - {format: job_list, path: job_list_small.csv}
  generators:
    - {name: extra, kind: batch, count: 20, sizes: [{accelerators: 8, weight: 1}]}
    - {name: small, kind: inference, count: 10, sizes: [{share: 0.25}]}
)";

TEST(Loader, ReadsEveryTraceFormatRelativeToTheScenario) {
  auto in = LoadScenarioText(kScenario, "traces.yaml", kTraces);
  ASSERT_TRUE(in.ok()) << in.status();
  // 20 synthetic jobs plus a non-trivial number from each fixture (3 from
  // acme, 4 from openb, 3 from the job list).
  EXPECT_GT(in->jobs.size(), 30u + 3 * 3 + 10);
  // Shares of one device: the generator's ten quarters, openb's two pods
  // and PAI's one half-GPU job.
  EXPECT_EQ(std::count_if(in->jobs.begin(), in->jobs.end(), [](const JobSpec& j) { return j.share_milli == 250; }), 11);
  EXPECT_EQ(std::count_if(in->jobs.begin(), in->jobs.end(), [](const JobSpec& j) { return j.share_milli > 0; }), 13);
  // What each trace gave, for `twin run` to say.
  ASSERT_EQ(in->traces.size(), 6u);
  EXPECT_EQ(in->traces[4].path, "openb_small.csv");
  EXPECT_EQ(in->traces[4].stats.jobs, 4);
  EXPECT_EQ(in->traces[4].stats.shared, 2);
  EXPECT_EQ(in->traces[4].past_horizon, 0);
  EXPECT_EQ(in->traces[1].stats.joined, 6);  // the PAI task table joined with its job table
  EXPECT_EQ(in->traces[1].stats.unjoined, 2);
  EXPECT_TRUE(std::is_sorted(in->jobs.begin(), in->jobs.end(),
                             [](const JobSpec& a, const JobSpec& b) { return a.submit < b.submit; }));
  RunResult r = RunTwin(*in).value();
  EXPECT_EQ(r.summary.jobs_total, static_cast<int64_t>(in->jobs.size()));
  EXPECT_GT(r.summary.jobs_finished, r.summary.jobs_total / 2);
  // Every trace job that started is in the replay; the generated ones not.
  EXPECT_GT(r.summary.replay.jobs, 9 + 10);
  EXPECT_LT(r.summary.replay.jobs, static_cast<int64_t>(in->jobs.size()) - 29);
}

// A trace file or a PAI job table that is not there.
TEST(Loader, AMissingTraceFileIsAnErrorNamingIt) {
  for (const std::string& file : {"pai_task_small.csv", "pai_job_small.csv"}) {
    std::string yaml = kScenario;
    yaml.replace(yaml.find(file), file.size(), "nowhere.csv");
    auto in = LoadScenarioText(yaml, "traces.yaml", kTraces);
    ASSERT_FALSE(in.ok()) << file;
    EXPECT_NE(std::string(in.status().message()).find("nowhere.csv"), std::string::npos) << in.status();
  }
}

TEST(Loader, ABadTraceRowNamesFileAndLine) {
  // helios_small.csv read as a PAI trace: its header and rows do not parse.
  std::string yaml = kScenario;
  yaml.replace(yaml.find("{format: helios"), 15, "{format: alibaba_pai");
  auto in = LoadScenarioText(yaml, "traces.yaml", kTraces);
  ASSERT_FALSE(in.ok());
  EXPECT_NE(std::string(in.status().message()).find("helios_small.csv:"), std::string::npos) << in.status();
}

// Sites given one deterministic series spec share one copy of its values
// (a network of thousands of sites on a few zones' series holds a few);
// a spec with noise gives each site its own draw.
TEST(Loader, SitesOnOneDeterministicSeriesShareItsValues) {
  constexpr char kSites[] = R"(name: zones
duration: 2d
seed: 5
failures: {preset: none}
sites:
  - {name: a, jurisdiction: EU, pools: [{accelerator: H100, nodes: 1}], carbon: {kind: diurnal, mean: 200, daily_amplitude: 0.2}, price: {kind: constant, mean: 60}}
  - {name: b, jurisdiction: EU, pools: [{accelerator: H100, nodes: 1}], carbon: {kind: diurnal, mean: 200, daily_amplitude: 0.2}, price: {kind: constant, mean: 60}}
  - {name: c, jurisdiction: EU, pools: [{accelerator: H100, nodes: 1}], carbon: {kind: diurnal, mean: 200, daily_amplitude: 0.2, noise: 0.1}, price: {kind: constant, mean: 70}}
  - {name: d, jurisdiction: EU, pools: [{accelerator: H100, nodes: 1}], carbon: {kind: diurnal, mean: 200, daily_amplitude: 0.2, noise: 0.1}, price: {kind: constant, mean: 60}}
)";
  auto in = LoadScenarioText(kSites, "zones.yaml", ".");
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->carbon.size(), 4u);
  EXPECT_EQ(in->carbon[0].values.size(), 48u);
  EXPECT_TRUE(in->carbon[1].values.SharesWith(in->carbon[0].values));
  EXPECT_TRUE(in->price[1].values.SharesWith(in->price[0].values));
  EXPECT_TRUE(in->price[3].values.SharesWith(in->price[0].values));
  EXPECT_FALSE(in->price[2].values.SharesWith(in->price[0].values));  // another mean
  // Noise drawn with each site's seed: each its own, and not the same.
  EXPECT_FALSE(in->carbon[3].values.SharesWith(in->carbon[2].values));
  EXPECT_FALSE(in->carbon[2].values == in->carbon[3].values);
  EXPECT_FALSE(in->carbon[2].values.SharesWith(in->carbon[0].values));
}

}  // namespace
}  // namespace stargate::twin
