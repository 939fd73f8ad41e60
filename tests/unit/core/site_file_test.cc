#include "core/site_file.h"

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
  EXPECT_DOUBLE_EQ(*sites[0].carbon_g_per_kwh, 400);
  EXPECT_FALSE(sites[1].latitude.has_value());
  EXPECT_FALSE(sites[1].power_cap_w.has_value());
  EXPECT_DOUBLE_EQ(sites[1].pue, 1.2);
}

TEST(SiteFile, ErrorsNameFileLineAndField) {
  auto error = [](const std::string& text) { return std::string(ParseSiteFile(text, "s.yaml").status().message()); };
  EXPECT_NE(error("sites:\n  - {name: a, latitude: 95, longitude: 0}\n").find("s.yaml:2:"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, latitude: 5}\n").find("go together"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a}\n  - {name: a}\n").find("a second site"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, carbn: 5}\n").find("unknown key 'carbn'"), std::string::npos);
  EXPECT_NE(error("sites:\n  - {name: a, power_cap: lots}\n").find("power_cap"), std::string::npos);
  EXPECT_FALSE(ParseSiteFile("{}", "s.yaml").ok());  // no sites
}

}  // namespace
}  // namespace stargate
