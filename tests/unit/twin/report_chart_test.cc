#include "twin/report_chart.h"

#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace stargate::twin::chart {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Chart TwoLines() {
  Chart c;
  c.id = "c1";
  c.title = "two </script> lines";
  c.x.label = "days";
  c.y.format = Format::kPercent;
  c.y.min = 0;
  Series a;
  a.label = "a";
  a.color = "#111";
  a.points = {{0, 0.1}, {1, 0.2}, {2, 0.30000000000000004}};
  Series b;
  b.label = "b \"quoted\"";
  b.color = "#222";
  b.dashed = true;
  b.points = {{0.5, 1}, {2, kNaN}, {2, 3}};
  c.series = {a, b};
  return c;
}

// uPlot's aligned data: one x array, every series on it, null where a
// series has no point.
TEST(ChartJsonTest, AlignsSeriesOnTheUnionOfTheirX) {
  const nlohmann::json j = nlohmann::json::parse(ChartJson(TwoLines()));
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["title"], "two </script> lines");
  EXPECT_EQ(j["x"]["label"], "days");
  EXPECT_EQ(j["y"]["pct"], true);
  EXPECT_EQ(j["y"]["min"], 0);
  EXPECT_TRUE(j["y"]["max"].is_null());
  ASSERT_EQ(j["data"].size(), 3u);
  EXPECT_EQ(j["data"][0], nlohmann::json::parse("[0,0.5,1,2]"));
  EXPECT_EQ(j["data"][1], nlohmann::json::parse("[0.1,null,0.2,0.3]"));
  EXPECT_EQ(j["data"][2], nlohmann::json::parse("[null,1,null,3]"));  // a repeated x keeps the last value
  EXPECT_EQ(j["series"][1]["label"], "b \"quoted\"");
  EXPECT_EQ(j["series"][1]["dash"], true);
  EXPECT_EQ(j["series"][0]["dash"], false);
}

TEST(ChartJsonTest, NothingInTheTextClosesTheScriptElement) {
  const std::string json = ChartJson(TwoLines());
  EXPECT_EQ(json.find('<'), std::string::npos);
  EXPECT_NE(json.find("\\u003c/script\\u003e"), std::string::npos);
}

TEST(ChartJsonTest, ALogAxisDropsWhatItCannotShow) {
  Chart c = TwoLines();
  c.x.scale = Scale::kLog10;
  const nlohmann::json j = nlohmann::json::parse(ChartJson(c));
  EXPECT_EQ(j["x"]["log"], true);
  EXPECT_EQ(j["data"][0], nlohmann::json::parse("[0.5,1,2]"));
  EXPECT_TRUE(HasData(c));
  c.series[0].points = {{0, 1}};
  c.series[1].points = {{-1, 1}};
  EXPECT_FALSE(HasData(c));
  EXPECT_EQ(nlohmann::json::parse(ChartJson(c))["data"][0].size(), 0u);
}

TEST(ChartJsonTest, SameChartSameBytes) {
  EXPECT_EQ(ChartJson(TwoLines()), ChartJson(TwoLines()));
  Chart c = TwoLines();
  c.series[0].points[0].y = -0.0;
  EXPECT_NE(ChartJson(c).find("[0,null"), std::string::npos) << ChartJson(c);  // the y of x=0 is 0, not -0
}

TEST(PaletteTest, TenColoursThenGoldenAngleHues) {
  EXPECT_EQ(PaletteColor(0), "#1f77b4");
  EXPECT_EQ(PaletteColor(1), "#d62728");
  EXPECT_NE(PaletteColor(10), PaletteColor(11));
  EXPECT_EQ(PaletteColor(10).rfind("hsl(", 0), 0u);
}

}  // namespace
}  // namespace stargate::twin::chart
