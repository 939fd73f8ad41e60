// The dashboard's 24 h ring (history.h): a sample a minute, the oldest
// dropped past a day, sites beyond the cap counted in the totals only,
// and the JSON columns aligned with time.
#include "control/server/history.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace stargate::control {
namespace {

TEST(History, KeepsADayOfMinutesAlignedByTime) {
  History h;
  const Time t0 = Time::FromMillis(1'700'000'000'000);
  EXPECT_TRUE(h.Due(t0));
  for (size_t i = 0; i < History::kSamples + 10; ++i) {
    const Time at = t0 + History::kEvery * static_cast<int64_t>(i);
    ASSERT_TRUE(h.Due(at));
    HistorySample s;
    s.at = at;
    s.pending = static_cast<int64_t>(i);
    std::map<std::string, SiteSample> sites = {{"a", SiteSample{100, 200, 1, 2, 50}}};
    if (i >= 5) sites["b"] = SiteSample{10, 0, 0, 1, -1};  // a site that joins later
    h.Add(std::move(s), sites);
    EXPECT_FALSE(h.Due(at + Duration::Seconds(59)));
  }
  ASSERT_EQ(h.samples().size(), History::kSamples);
  EXPECT_EQ(h.samples().front().pending, 10);  // the ten oldest were dropped
  const nlohmann::json j = h.ToJson();
  EXPECT_EQ(j["t"].size(), History::kSamples);
  EXPECT_EQ(j["jobs"]["pending"].size(), History::kSamples);
  EXPECT_EQ(j["sites"]["a"]["cap_w"][0], 200.0);
  EXPECT_TRUE(j["sites"]["b"]["cap_w"][0].is_null());             // no cap
  EXPECT_TRUE(j["sites"]["b"]["carbon_g_per_kwh"][0].is_null());  // unknown
  EXPECT_EQ(j["t"][1].get<int64_t>() - j["t"][0].get<int64_t>(), 60);
}

TEST(History, SitesPastTheCapAreInTheTotalsOnly) {
  History h;
  std::map<std::string, SiteSample> sites;
  for (size_t i = 0; i < History::kMaxSites + 5; ++i) sites[fmt::format("s{:04}", i)] = SiteSample{1, 0, 0, 1, -1};
  HistorySample s;
  s.at = Time::FromMillis(1'700'000'000'000);
  s.total.facility_w = static_cast<float>(sites.size());
  h.Add(std::move(s), sites);
  EXPECT_EQ(h.sites().size(), History::kMaxSites);
  EXPECT_EQ(h.ToJson()["sites"].size(), History::kMaxSites);
  EXPECT_EQ(h.ToJson()["total"]["facility_w"][0], static_cast<double>(History::kMaxSites + 5));
}

}  // namespace
}  // namespace stargate::control
