#include "core/site_file.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace stargate {
namespace {

TEST(SiteFile, ReadsSitesAndLeavesTheRestUnset) {
  const auto sites =
      ParseSiteFile(
          "sites:\n"
          "  - {name: abilene, latitude: 32.45, longitude: -99.73, power_cap: 1.2GW, pue: 1.15, carbon: 400}\n"
          "  - {name: lab}\n",
          "sites.yaml")
          .value();
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0].name, "abilene");
  EXPECT_DOUBLE_EQ(*sites[0].latitude, 32.45);
  EXPECT_DOUBLE_EQ(*sites[0].power_cap_w, 1.2e9);
  EXPECT_DOUBLE_EQ(sites[0].pue, 1.15);
  EXPECT_DOUBLE_EQ(*sites[0].carbon.mean, 400);
  EXPECT_TRUE(sites[0].carbon.points.empty());
  EXPECT_FALSE(sites[0].price.given());
  EXPECT_FALSE(sites[1].latitude.has_value());
  EXPECT_FALSE(sites[1].power_cap_w.has_value());
  EXPECT_DOUBLE_EQ(sites[1].pue, 1.2);
}

// Carbon and price as series: inline points (UTC times or Unix seconds,
// in time order) or a CSV file, with a mean and a staleness bound.
TEST(SiteFile, ReadsSeries) {
  const auto sites =
      ParseSiteFile(
          "sites:\n"
          "  - name: a\n"
          "    carbon:\n"
          "      mean: 300\n"
          "      points: [[\"2026-12-03 00:00:00\", 420], [\"2026-12-03T01:00:00Z\", 90], [1796263200, 80]]\n"
          "      stale_after: 90m\n"
          "    price: {file: prices.csv, column: 2, scale: 0.001}\n"
          "    forecast: 12h\n"
          "    forecast_model: persistence\n",
          "sites.yaml")
          .value();
  const SiteInfo& a = sites.at(0);
  EXPECT_EQ(*a.carbon.mean, 300);
  ASSERT_EQ(a.carbon.points.size(), 3u);
  EXPECT_EQ(a.carbon.points[0].first, Time::Epoch() + Duration::Seconds(1796256000));  // 2026-12-03 00:00 UTC
  EXPECT_EQ(a.carbon.points[1].first, Time::Epoch() + Duration::Seconds(1796259600));
  EXPECT_EQ(a.carbon.points[2].first, Time::Epoch() + Duration::Seconds(1796263200));
  EXPECT_EQ(a.carbon.points[1].second, 90);
  EXPECT_EQ(a.carbon.stale_after, Duration::Minutes(90));
  EXPECT_EQ(a.price.file, "prices.csv");
  EXPECT_EQ(a.price.column, 2);
  EXPECT_DOUBLE_EQ(a.price.scale, 0.001);
  EXPECT_EQ(a.forecast, Duration::Hours(12));
  EXPECT_EQ(a.forecast_model, ForecastModel::kPersistence);
}

TEST(SiteFile, ErrorsNameFileLineAndField) {
  auto error = [](const std::string& text) { return std::string(ParseSiteFile(text, "s.yaml").status().message()); };
  EXPECT_NE(error("sites:\n  - {name: a, latitude: 95, longitude: 0}\n").find("s.yaml:2:"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, latitude: 5}\n").find("go together"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a}\n  - {name: a}\n").find("a second site"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbn: 5}\n").find("unknown key 'carbn'"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, power_cap: lots}\n").find("power_cap"), std::string::npos);
  // 60 W or 60 MW? A power without its unit is refused, naming the field.
  const std::string bare = error("sites:\n  - {name: a, power_cap: 60}\n");
  EXPECT_NE(bare.find("s.yaml:2:"), std::string::npos) << bare;
  EXPECT_NE(bare.find("power_cap: invalid power '60': a number needs its unit (W, kW, MW, GW)"), std::string::npos)
      << bare;
  EXPECT_FALSE(ParseSiteFile("{}", "s.yaml").ok());  // no sites
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {points: [[2, 1], [1, 1]]}}\n").find("time order"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {points: [[\"yesterday\", 1]]}}\n").find("UTC time"),
            std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {points: [[1, 1]], file: x.csv}}\n").find("alternatives"),
            std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {column: 2}}\n").find("go with `file`"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {}}\n").find("give a `mean`"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {url: \"https://x/\", mean: 1}}\n").find("http://"),
            std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {url: \"http://x/\"}}\n").find("needs a `mean`"), std::string::npos);
  for (const char* url : {"http://h:99999999999/x", "http://h:0/x", "http://h:/x", "http://a b/x", "http:///x"}) {
    EXPECT_NE(error(fmt::format("sites:\n  - {{name: a, carbon: {{url: \"{}\", mean: 1}}}}\n", url)).find("PORT in"),
              std::string::npos)
        << url;
  }
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {url: \"http://x/\", mean: 1, poll: 2d}}\n").find("poll"),
            std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbon: {mean: 1, poll: 1m}}\n").find("goes with `url`"), std::string::npos);
  EXPECT_TRUE(ParseSiteFile("sites:\n  - {name: a, carbon: {url: \"http://x:9/c\", mean: 1, poll: 30s}}\n", "s").ok());
  EXPECT_NE(error("sites:\n  - {name: a, carbon: 5000}\n").find("carbon"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, forecast: 30d}\n").find("forecast"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, forecast_model: psychic}\n").find("sites[0].forecast_model"),
            std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, fabric: {kind: torus}}\n").find("sites[0].fabric.kind"), std::string::npos);
}

// A site's network where the operator knows it, as a scenario's site says it.
TEST(SiteFile, ReadsAFabricWhereKnown) {
  const auto sites = ParseSiteFile(
                         "sites:\n"
                         "  - {name: a, fabric: {kind: rail_optimized, nodes_per_leaf: 16, oversubscription: 2}}\n"
                         "  - {name: b}\n",
                         "sites.yaml")
                         .value();
  ASSERT_TRUE(sites[0].fabric.has_value());
  EXPECT_EQ(sites[0].fabric->kind, FabricKind::kRailOptimized);
  EXPECT_EQ(sites[0].fabric->nodes_per_leaf, 16);
  EXPECT_DOUBLE_EQ(sites[0].fabric->oversubscription, 2);
  EXPECT_EQ(sites[0].fabric->leaves_per_pod, FabricSpec{}.leaves_per_pod);
  EXPECT_FALSE(sites[1].fabric.has_value());
}

}  // namespace
}  // namespace stargate

namespace stargate {
namespace {

TEST(SiteFile, ReadsAPowerRampLimit) {
  const auto sites = ParseSiteFile(
                         "sites:\n"
                         "  - {name: a, power_ramp: {mw_per_s: 2, mw_per_min: 30}}\n"
                         "  - {name: b}\n",
                         "sites.yaml")
                         .value();
  EXPECT_DOUBLE_EQ(sites[0].power_ramp.mw_per_s, 2);
  EXPECT_DOUBLE_EQ(sites[0].power_ramp.RateWattsPerSecond(), 0.5e6);  // the minute's limit binds
  EXPECT_FALSE(sites[1].power_ramp.limited());
  const Status empty = ParseSiteFile("sites:\n  - {name: a, power_ramp: {}}\n", "sites.yaml").status();
  EXPECT_NE(std::string(empty.message()).find("mw_per_s"), std::string::npos) << empty;
  EXPECT_FALSE(ParseSiteFile("sites:\n  - {name: a, power_ramp: {mw_per_s: 0}}\n", "sites.yaml").ok());
  EXPECT_FALSE(ParseSiteFile("sites:\n  - {name: a, power_ramp: {mw_per_hour: 1}}\n", "sites.yaml").ok());
}

}  // namespace
}  // namespace stargate
