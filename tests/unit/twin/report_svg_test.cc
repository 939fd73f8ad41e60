#include "twin/report_svg.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "twin/report_format.h"

namespace stargate::twin {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

double ViewBoxHeight(const std::string& svg) {
  const size_t at = svg.find("viewBox=\"0 0 ");
  const size_t height_at = svg.find(' ', at + 13) + 1;
  return std::stod(svg.substr(height_at));
}

svg::LineChart TwoPointChart() {
  svg::LineChart c;
  c.id = "t";
  c.x.label = "x";
  c.y.label = "y";
  c.series.push_back({"a", "#000", {{0, 0}, {10, 5}}});
  return c;
}

TEST(NiceTicksTest, StepsAreOneTwoOrFive) {
  EXPECT_DOUBLE_EQ(svg::NiceStep(1, 5), 0.2);
  EXPECT_DOUBLE_EQ(svg::NiceStep(2, 9), 0.2);
  EXPECT_DOUBLE_EQ(svg::NiceStep(365, 9), 50);
  EXPECT_DOUBLE_EQ(svg::NiceStep(8, 5), 2);
  EXPECT_DOUBLE_EQ(svg::NiceStep(0, 5), 1);
}

TEST(NiceTicksTest, TicksCoverTheRangeWithoutNegativeZero) {
  EXPECT_THAT(svg::TicksBetween(0, 1, 0.2),
              ElementsAre(0.0, DoubleNear(0.2, 1e-12), DoubleNear(0.4, 1e-12), DoubleNear(0.6, 1e-12),
                          DoubleNear(0.8, 1e-12), DoubleNear(1, 1e-12)));
  EXPECT_EQ(svg::TicksBetween(-0.1, 0.1, 0.5).size(), 1u);
  EXPECT_EQ(svg::TickLabel(svg::TicksBetween(-0.1, 0.1, 0.5)[0], 0.5, svg::Format::kNumber), "0.0");
}

TEST(NiceTicksTest, LogTicksAreDecadesOrOneTwoFive) {
  EXPECT_EQ(svg::LogTicks(0.01, 1e4).size(), 7u);
  EXPECT_THAT(svg::LogTicks(1, 100), ElementsAre(1, 2, 5, 10, 20, 50, 100));
}

TEST(NiceTicksTest, LabelsUseJustEnoughDecimals) {
  EXPECT_EQ(svg::TickLabel(0.5, 0.5, svg::Format::kNumber), "0.5");
  EXPECT_EQ(svg::TickLabel(10, 5, svg::Format::kNumber), "10");
  EXPECT_EQ(svg::TickLabel(0.01, 0.01, svg::Format::kNumber), "0.01");
  EXPECT_EQ(svg::TickLabel(20000, 5000, svg::Format::kNumber), "20,000");
  EXPECT_EQ(svg::TickLabel(0.2, 0.2, svg::Format::kPercent), "20%");
  EXPECT_EQ(svg::TickLabel(0.05, 0.05, svg::Format::kPercent), "5%");
}

TEST(PaletteTest, ThirtyDistinctColours) {
  std::set<std::string> colours;
  for (size_t i = 0; i < 30; ++i) colours.insert(svg::PaletteColor(i));
  EXPECT_EQ(colours.size(), 30u);
}

TEST(LineChartTest, DrawsOnePathPerSeriesWithTitle) {
  const std::string svg = svg::RenderLineChart(TwoPointChart());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("<path class=\"ln\""), std::string::npos);
  EXPECT_NE(svg.find("<title>a</title>"), std::string::npos);
  EXPECT_NE(svg.find("clip-path=\"url(#t-clip)\""), std::string::npos);
}

TEST(LineChartTest, EmptyChartShowsItsMessage) {
  svg::LineChart c;
  c.id = "e";
  c.empty_message = "Nothing <here>";
  const std::string svg = svg::RenderLineChart(c);
  EXPECT_NE(svg.find("Nothing &lt;here&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("class=\"ln\""), std::string::npos);
}

TEST(LineChartTest, LogAxisSkipsNonPositivePoints) {
  svg::LineChart c = TwoPointChart();
  c.x.scale = svg::Scale::kLog10;
  const std::string svg = svg::RenderLineChart(c);  // (0, 0) cannot be shown
  EXPECT_NE(svg.find("class=\"ln\""), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(LineChartTest, NonFinitePointsBreakTheLine) {
  svg::LineChart c = TwoPointChart();
  c.series[0].points = {{0, 1}, {1, 2}, {2, NAN}, {3, 1}, {4, 2}};
  const std::string svg = svg::RenderLineChart(c);
  const size_t d = svg.find("class=\"ln\" d=\"");
  const std::string path = svg.substr(d, svg.find('"', d + 15) - d);
  EXPECT_EQ(std::count(path.begin(), path.end(), 'M'), 2);
}

TEST(LineChartTest, LegendWrapsOntoMoreRows) {
  svg::LineChart one = TwoPointChart();
  svg::LineChart many = TwoPointChart();
  for (int i = 0; i < 30; ++i) {
    many.series.push_back({"a fairly long site name " + std::to_string(i), "#123", {{1, 1}}});
  }
  EXPECT_GT(ViewBoxHeight(svg::RenderLineChart(many)), ViewBoxHeight(svg::RenderLineChart(one)) + 4 * 22);
}

TEST(FormatTest, FixedHasNoNegativeZeroAndNoNan) {
  EXPECT_EQ(report::Fixed(1.23456, 4), "1.2346");
  EXPECT_EQ(report::Fixed(-0.00001, 4), "0.0000");
  EXPECT_EQ(report::Fixed(NAN, 4), "");
}

TEST(FormatTest, ReadableNumbers) {
  EXPECT_EQ(report::Readable(0.123456), "0.123");
  EXPECT_EQ(report::Readable(12.345), "12.3");
  EXPECT_EQ(report::Readable(12345.6), "12,346");
  EXPECT_EQ(report::Readable(1234567), "1,234,567");
  EXPECT_EQ(report::Readable(0), "0");
  EXPECT_EQ(report::Readable(-2.5), "-2.50");
  EXPECT_EQ(report::Percent(0.4567), "45.7%");
  EXPECT_EQ(report::Integer(25), "25");
  EXPECT_EQ(report::Integer(-1234567), "-1,234,567");
  EXPECT_EQ(report::Dollars(950), "$950");
  EXPECT_EQ(report::Dollars(12345), "$12.3k");
  EXPECT_EQ(report::Dollars(4.56e6), "$4.56M");
  EXPECT_EQ(report::Dollars(1.234e9), "$1.23B");
}

TEST(FormatTest, EscapesMarkup) {
  EXPECT_EQ(report::EscapeXml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

TEST(FormatTest, BucketsHaveNearlyEqualSizes) {
  const report::Buckets b = report::BucketMeans(std::vector<double>(8760, 1.0), 400);
  for (size_t i = 0; i + 1 < b.bounds.size(); ++i) {
    const size_t size = b.bounds[i + 1] - b.bounds[i];
    EXPECT_TRUE(size == 21 || size == 22) << size;
  }
}

TEST(FormatTest, BucketMeansAverageConsecutiveRuns) {
  std::vector<double> year(8760);
  for (size_t i = 0; i < year.size(); ++i) year[i] = static_cast<double>(i % 15);
  const report::Buckets b = report::BucketMeans(year, 600);
  EXPECT_EQ(b.means.size(), 584u);  // 15 hours each
  EXPECT_EQ(b.bounds.size(), 585u);
  EXPECT_EQ(b.bounds.back(), 8760u);
  for (double m : b.means) EXPECT_DOUBLE_EQ(m, 7.0);
  // 5 samples, at most 2 points: buckets of 2 and 3, NaN skipped.
  const report::Buckets small = report::BucketMeans({1, 2, 3, NAN, 5}, 2);
  EXPECT_THAT(small.bounds, ElementsAre(0u, 2u, 5u));
  EXPECT_THAT(small.means, ElementsAre(1.5, 4.0));
  EXPECT_TRUE(report::BucketMeans({}, 600).means.empty());
}

}  // namespace
}  // namespace stargate::twin
