#include "twin/report_json.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace stargate::twin {
namespace report_testing {
RunResult SampleRun();  // report_fixture_test.cc
}  // namespace report_testing
namespace {

using report_testing::SampleRun;

TEST(SummaryJsonTest, ParsesBackWithTheSummaryValues) {
  const RunResult r = SampleRun();
  const nlohmann::json j = nlohmann::json::parse(SummaryJson(r));
  EXPECT_EQ(j["scenario"], "sample <two-site>");
  EXPECT_EQ(j["seed"], 42u);
  EXPECT_EQ(j["policy"], "carbon-aware");
  EXPECT_DOUBLE_EQ(j["simulated_days"].get<double>(), 2.0);
  EXPECT_EQ(j["accelerators"], 1536);
  EXPECT_EQ(j["nodes"], 192);
  EXPECT_EQ(j["jobs"]["total"], 10);
  EXPECT_EQ(j["jobs"]["finished"], 5);
  EXPECT_EQ(j["jobs"]["running"], 1);
  EXPECT_EQ(j["jobs"]["pending"], 2);
  EXPECT_EQ(j["jobs"]["rejected"], 2);
  EXPECT_DOUBLE_EQ(j["jct_hours"]["mean"].get<double>(), 7.84);
  EXPECT_DOUBLE_EQ(j["jct_hours"]["p99"].get<double>(), 30.25);
  EXPECT_DOUBLE_EQ(j["wait_hours"]["p90"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["goodput"].get<double>(), 0.93);
  EXPECT_DOUBLE_EQ(j["effective_training_time_ratio"].get<double>(), 0.88);
  EXPECT_EQ(j["interruptions"], 3);
  EXPECT_EQ(j["failures"], 5);
  EXPECT_EQ(j["events"], 1234);
  EXPECT_EQ(j["scheduler_passes"], 96);
  EXPECT_NEAR(j["energy_mwh"].get<double>(), r.summary.energy_mwh, 1e-5 * r.summary.energy_mwh);
}

TEST(SummaryJsonTest, ListsSitesInOrderWithMeanUtilisation) {
  const RunResult r = SampleRun();
  const nlohmann::json j = nlohmann::json::parse(SummaryJson(r));
  ASSERT_EQ(j["sites"].size(), 2u);
  const nlohmann::json& s = j["sites"][1];
  EXPECT_EQ(s["name"], "texas, east");
  EXPECT_EQ(s["jurisdiction"], "US");
  EXPECT_EQ(s["accelerators"], 512);
  EXPECT_DOUBLE_EQ(s["power_cap_mw"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(s["peak_mw"].get<double>(), 1.12);
  EXPECT_EQ(s["failures"], 2);
  double mean = 0;
  for (double u : r.sites[1].utilisation) mean += u / 48.0;
  EXPECT_NEAR(s["mean_utilisation"].get<double>(), mean, 1e-6);
  for (const char* key : {"energy_mwh", "tco2", "cost_usd", "largest_step_mw", "largest_ramp_mw_per_min"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  EXPECT_TRUE(j["power_swings"].contains("largest_step_site"));
}

// Each site carries its busy device-hours, and the bound's figures for it
// only when the bound was solved.
TEST(SummaryJsonTest, SitesCarryTheBoundsSplitWhenItWasSolved) {
  RunResult r = SampleRun();
  r.sites[1].busy_device_h = 1234.5;
  nlohmann::json j = nlohmann::json::parse(SummaryJson(r));
  EXPECT_DOUBLE_EQ(j["sites"][1]["busy_device_hours"].get<double>(), 1234.5);
  EXPECT_FALSE(j["sites"][0].contains("bound"));
  r.summary.bound.computed = true;
  r.summary.bound.sites = {{10, 1.5, 100}, {20, 2.5, 200}};
  j = nlohmann::json::parse(SummaryJson(r));
  const nlohmann::json& at = j["sites"][1]["bound"];
  EXPECT_DOUBLE_EQ(at["busy_device_hours"].get<double>(), 20);
  EXPECT_DOUBLE_EQ(at["tco2"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(at["cost_usd"].get<double>(), 200);
}

TEST(SummaryJsonTest, KeepsTheDocumentedKeyOrder) {
  const std::string text = SummaryJson(SampleRun());
  size_t last = 0;
  for (const char* key :
       {"\"scenario\"", "\"seed\"", "\"policy\"", "\"simulated_days\"", "\"jobs\"", "\"jct_hours\"", "\"wait_hours\"",
        "\"utilisation\"", "\"goodput\"", "\"energy_mwh\"", "\"events\"", "\"sites\""}) {
    const size_t at = text.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GT(at, last) << key;
    last = at;
  }
}

TEST(SummaryJsonTest, RoundsFloatingNoiseAway) {
  const std::string text = SummaryJson(SampleRun());
  EXPECT_NE(text.find("\"utilisation\": 0.3,"), std::string::npos) << text;
  EXPECT_EQ(text.find("0.30000000000000004"), std::string::npos);
}

TEST(SummaryJsonTest, RoundsToSixSignificantDigits) {
  RunResult r;
  r.summary.cost_usd = 1234567.891;
  r.summary.tco2 = 0.000123456789;
  const nlohmann::json j = nlohmann::json::parse(SummaryJson(r));
  EXPECT_DOUBLE_EQ(j["cost_usd"].get<double>(), 1234570.0);
  EXPECT_DOUBLE_EQ(j["tco2"].get<double>(), 0.000123457);
}

TEST(SummaryJsonTest, DoublesKeepAFloatType) {
  RunResult r;
  r.summary.energy_mwh = 5;
  const std::string text = SummaryJson(r);
  EXPECT_NE(text.find("\"energy_mwh\": 5.0,"), std::string::npos) << text;
  EXPECT_TRUE(nlohmann::json::parse(text)["energy_mwh"].is_number_float());
}

TEST(SummaryJsonTest, NonFiniteDoublesBecomeNull) {
  RunResult r;
  r.summary.goodput = std::numeric_limits<double>::quiet_NaN();
  r.summary.peak_mw = std::numeric_limits<double>::infinity();
  const nlohmann::json j = nlohmann::json::parse(SummaryJson(r));
  EXPECT_TRUE(j["goodput"].is_null());
  EXPECT_TRUE(j["peak_mw"].is_null());
}

TEST(SummaryJsonTest, EmptyResultGivesAnEmptySiteList) {
  const std::string text = SummaryJson(RunResult{});
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_TRUE(j["sites"].is_array());
  EXPECT_TRUE(j["sites"].empty());
  EXPECT_EQ(text.back(), '\n');
}

TEST(SummaryJsonTest, InvalidUtf8InANameDoesNotThrow) {
  RunResult r;
  r.summary.scenario = "bad \xff byte";
  std::string text;
  EXPECT_NO_THROW(text = SummaryJson(r));
  nlohmann::json parsed;
  EXPECT_NO_THROW(parsed = nlohmann::json::parse(text));
  EXPECT_TRUE(parsed["scenario"].is_string());
}

TEST(SummaryJsonTest, SameInputSameBytes) { EXPECT_EQ(SummaryJson(SampleRun()), SummaryJson(SampleRun())); }

}  // namespace
}  // namespace stargate::twin
