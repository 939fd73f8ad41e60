#include "twin/report_charts.h"

#include <string>

#include <gtest/gtest.h>

#include "report_fixture.h"

namespace stargate::twin {
namespace {

using report_testing::BigRun;
using report_testing::SampleRun;

TEST(ReportChartsTest, HourlyLinesAreDownsampledByAveraging) {
  const RunResult r = BigRun(3, 8760, 0);
  const svg::LineChart c = report::UtilisationChart(r);
  ASSERT_EQ(c.series.size(), 3u);
  for (const svg::Series& s : c.series) {
    EXPECT_LE(s.points.size(), 600u);
    EXPECT_GE(s.points.size(), 500u);
    // 15-hour buckets of a 24-hour cycle still average to about the mean.
    for (const svg::Point& p : s.points) EXPECT_NEAR(p.y, 0.6, 0.3);
  }
  EXPECT_DOUBLE_EQ(c.x.max, 365.0);
  EXPECT_NEAR(c.series[0].points.back().x, 365.0, 0.5);
}

TEST(ReportChartsTest, ManySitesGetFewerPointsPerLine) {
  EXPECT_EQ(report::PointsPerLine(1), 600u);
  EXPECT_EQ(report::PointsPerLine(30), 400u);
  EXPECT_EQ(report::PointsPerLine(1000), 150u);
}

TEST(ReportChartsTest, ShortSeriesKeepEveryHour) {
  const svg::LineChart c = report::UtilisationChart(SampleRun());
  ASSERT_EQ(c.series.size(), 2u);
  EXPECT_EQ(c.series[0].points.size(), 48u);
  EXPECT_DOUBLE_EQ(c.series[0].points[0].x, 0.5 / 24);
  EXPECT_DOUBLE_EQ(c.series[0].points[0].y, 0.55);
}

TEST(ReportChartsTest, PowerChartHasDashedCapsAndAKey) {
  const svg::LineChart c = report::PowerChart(SampleRun());
  int caps = 0, keys = 0;
  for (const svg::Series& s : c.series) {
    if (s.dashed && !s.in_legend) {
      ++caps;
      ASSERT_EQ(s.points.size(), 2u);
      EXPECT_DOUBLE_EQ(s.points[1].x, 2.0);  // to the end of day 2
    }
    if (s.dashed && s.in_legend) ++keys;
  }
  EXPECT_EQ(caps, 2);
  EXPECT_EQ(keys, 1);
}

TEST(ReportChartsTest, CarbonChartBinsHoursPerSite) {
  const svg::LineChart c = report::CarbonChart(SampleRun());
  ASSERT_EQ(c.series.size(), 2u);
  for (const svg::Series& s : c.series) {
    EXPECT_LE(s.points.size(), 12u);
    EXPECT_GE(s.points.size(), 2u);
    for (size_t i = 1; i < s.points.size(); ++i) EXPECT_GT(s.points[i].x, s.points[i - 1].x);
    // The sample runs harder when the grid is cleaner.
    EXPECT_GT(s.points.front().y, s.points.back().y);
  }
}

TEST(ReportChartsTest, CdfIsSampledToAThousandPoints) {
  const svg::LineChart c = report::JctCdfChart(BigRun(1, 24, 200000));
  ASSERT_EQ(c.series.size(), 5u);  // all jobs + four kinds
  for (const svg::Series& s : c.series) {
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
  const svg::LineChart c = report::JctCdfChart(SampleRun());
  ASSERT_FALSE(c.series.empty());
  EXPECT_EQ(c.series[0].points.size(), 5u);
  EXPECT_DOUBLE_EQ(c.series[0].points.back().x, 30.25);
}

}  // namespace
}  // namespace stargate::twin
