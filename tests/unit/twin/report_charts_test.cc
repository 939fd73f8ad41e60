#include "twin/report_charts.h"

#include <string>

#include <gtest/gtest.h>

#include "report_fixture.h"

namespace stargate::twin {
namespace {

using report_testing::BigRun;
using report_testing::SampleRun;

TEST(ReportChartsTest, SiteLinesAreDownsampledByAveraging) {
  const RunResult r = BigRun(3, 8760, 0);
  const chart::Chart c = report::SiteUtilisationChart(r, 1);
  ASSERT_EQ(c.series.size(), 1u);
  const chart::Series& s = c.series[0];
  EXPECT_LE(s.points.size(), report::kSmallPoints);
  EXPECT_GE(s.points.size(), report::kSmallPoints - 20);
  // 37-hour buckets of a 24-hour cycle still average to about the mean.
  for (const chart::Point& p : s.points) EXPECT_NEAR(p.y, 0.6, 0.3);
  EXPECT_DOUBLE_EQ(c.x.max, 365.0);
  EXPECT_NEAR(s.points.back().x, 365.0, 1.0);
  EXPECT_EQ(c.title, "site-1");
  EXPECT_EQ(c.id, "site-1-utilisation");
}

TEST(ReportChartsTest, ShortSeriesKeepEveryHour) {
  const chart::Chart c = report::SiteUtilisationChart(SampleRun(), 0);
  ASSERT_EQ(c.series.size(), 1u);
  EXPECT_EQ(c.series[0].points.size(), 48u);
  EXPECT_DOUBLE_EQ(c.series[0].points[0].x, 0.5 / 24);
  EXPECT_DOUBLE_EQ(c.series[0].points[0].y, 0.55);
  EXPECT_DOUBLE_EQ(c.y.min, 0);
  EXPECT_DOUBLE_EQ(c.y.max, 1);  // every site on the same 0-100% scale
}

TEST(ReportChartsTest, SitePowerHasItsCapDashed) {
  const chart::Chart c = report::SitePowerChart(SampleRun(), 1);
  ASSERT_EQ(c.series.size(), 2u);
  EXPECT_FALSE(c.series[0].dashed);
  EXPECT_TRUE(c.series[1].dashed);
  ASSERT_EQ(c.series[1].points.size(), 2u);
  EXPECT_DOUBLE_EQ(c.series[1].points[0].y, 1.0);
  EXPECT_DOUBLE_EQ(c.series[1].points[1].x, 2.0);  // to the end of day 2
  EXPECT_EQ(c.series[1].label, "cap 1.00 MW");
}

TEST(ReportChartsTest, CarbonBinsHoursPerSite) {
  for (size_t site : {0u, 1u}) {
    const chart::Chart c = report::SiteCarbonChart(SampleRun(), site);
    ASSERT_EQ(c.series.size(), 1u);
    const chart::Series& s = c.series[0];
    EXPECT_TRUE(s.markers);
    EXPECT_LE(s.points.size(), 12u);
    EXPECT_GE(s.points.size(), 2u);
    for (size_t i = 1; i < s.points.size(); ++i) EXPECT_GT(s.points[i].x, s.points[i - 1].x);
    // The sample runs harder when the grid is cleaner.
    EXPECT_GT(s.points.front().y, s.points.back().y);
  }
}

TEST(ReportChartsTest, ManySitesShowTheBiggestInScenarioOrder) {
  RunResult r = BigRun(30, 24, 0);
  for (size_t i = 0; i < r.sites.size(); ++i) r.sites[i].energy_mwh = static_cast<double>(i % 10);
  const std::vector<size_t> shown = report::PanelSites(r);
  ASSERT_EQ(shown.size(), report::kMaxSitePanels);
  EXPECT_TRUE(std::is_sorted(shown.begin(), shown.end()));
  // Energy 0 and 1 (sites 0, 1, 10, 11, 20, 21) lose; of those, the later lose first.
  for (size_t left_out : {0u, 10u, 20u, 1u, 11u, 21u}) {
    EXPECT_EQ(std::find(shown.begin(), shown.end(), left_out), shown.end()) << left_out;
  }
  EXPECT_EQ(report::PanelSites(SampleRun()), (std::vector<size_t>{0, 1}));
}

TEST(ReportChartsTest, DigestSumsTheNetwork) {
  const RunResult r = SampleRun();
  const report::RunDigest d = report::DigestOf(r);
  ASSERT_EQ(d.facility_mw.size(), 48u);
  EXPECT_DOUBLE_EQ(d.facility_mw[5], r.sites[0].facility_mw[5] + r.sites[1].facility_mw[5]);
  EXPECT_DOUBLE_EQ(d.power_cap_mw, 3.0);
  // Device-weighted: north-1 has twice texas's devices.
  EXPECT_NEAR(d.utilisation[5], (2 * r.sites[0].utilisation[5] + r.sites[1].utilisation[5]) / 3, 1e-12);
  // The running total ends at the sites' emissions.
  EXPECT_NEAR(d.tco2_total.back(), r.sites[0].tco2 + r.sites[1].tco2, 1e-9);
  EXPECT_EQ(d.jct_cdf.size(), 5u);
  EXPECT_DOUBLE_EQ(d.jct_cdf.back().y, 1.0);
  EXPECT_EQ(d.summary.policy, "carbon-aware");
}

TEST(ReportChartsTest, NetworkChartsHaveOneLinePerPolicy) {
  report::RunDigest a = report::DigestOf(SampleRun());
  report::RunDigest b = a;
  b.summary.policy = "fifo";
  const std::vector<report::RunDigest> runs = {a, b};
  const chart::Chart power = report::NetworkPowerChart(runs);
  ASSERT_EQ(power.series.size(), 3u);  // two policies and the summed cap
  EXPECT_EQ(power.series[0].label, "carbon-aware");
  EXPECT_EQ(power.series[1].label, "fifo");
  EXPECT_NE(power.series[0].color, power.series[1].color);
  EXPECT_TRUE(power.series[2].dashed);
  EXPECT_EQ(report::NetworkUtilisationChart(runs).series.size(), 2u);
  const chart::Chart emissions = report::EmissionsChart(runs);
  ASSERT_EQ(emissions.series.size(), 2u);
  // A running total is shown at each bucket's end, not averaged.
  EXPECT_DOUBLE_EQ(emissions.series[0].points.back().y, a.tco2_total.back());
  const chart::Chart jct = report::PolicyJctChart(runs);
  ASSERT_EQ(jct.series.size(), 2u);
  EXPECT_TRUE(jct.series[1].step);
  EXPECT_EQ(jct.series[1].label, "fifo (n=5)");
}

TEST(ReportChartsTest, CdfIsSampledToAThousandPoints) {
  const chart::Chart c = report::JctCdfChart(BigRun(1, 24, 200000));
  ASSERT_EQ(c.series.size(), 5u);  // all jobs + four kinds
  for (const chart::Series& s : c.series) {
    EXPECT_LE(s.points.size(), report::kMaxCdfPoints);
    EXPECT_DOUBLE_EQ(s.points.back().y, 1.0);
    for (size_t i = 1; i < s.points.size(); ++i) {
      EXPECT_GE(s.points[i].x, s.points[i - 1].x);
      EXPECT_GT(s.points[i].y, s.points[i - 1].y);
    }
  }
  EXPECT_NE(c.series[0].label.find("n=200,000"), std::string::npos);
}

TEST(ReportChartsTest, CdfCountsOnlyFinishedJobs) {
  const chart::Chart c = report::JctCdfChart(SampleRun());
  ASSERT_FALSE(c.series.empty());
  EXPECT_EQ(c.series[0].points.size(), 5u);
  EXPECT_DOUBLE_EQ(c.series[0].points.back().x, 30.25);
}

}  // namespace
}  // namespace stargate::twin
