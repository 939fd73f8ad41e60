#include "twin/site_meter.h"

#include <gtest/gtest.h>

namespace stargate::twin {
namespace {

TEST(SiteMeter, SplitsConstantStretchesAtHourBoundaries) {
  SiteMeter m(3);
  m.Set(1000.0, 4);
  m.AdvanceTo(Time::Epoch() + Duration::Minutes(90));
  m.Set(2000.0, 8);
  m.AdvanceTo(Time::Epoch() + Duration::Hours(3));
  EXPECT_DOUBLE_EQ(m.energy_j()[0], 1000.0 * 3600);
  EXPECT_DOUBLE_EQ(m.energy_j()[1], 1000.0 * 1800 + 2000.0 * 1800);
  EXPECT_DOUBLE_EQ(m.energy_j()[2], 2000.0 * 3600);
  EXPECT_DOUBLE_EQ(m.busy_device_s()[1], 4.0 * 1800 + 8.0 * 1800);
  EXPECT_DOUBLE_EQ(m.peak_w(), 2000.0);
}

TEST(SiteMeter, IgnoresTimeBeyondTheHorizon) {
  SiteMeter m(1);
  m.Set(10.0, 1);
  m.AdvanceTo(Time::Epoch() + Duration::Hours(5));
  EXPECT_DOUBLE_EQ(m.energy_j()[0], 36000.0);
}

TEST(SiteMeter, CountsTheSecondsOutOnlyOnceTheSiteGoesOut) {
  SiteMeter m(3);
  m.Set(500.0, 2);
  m.AdvanceTo(Time::Epoch() + Duration::Minutes(80));
  EXPECT_TRUE(m.down_s().empty());  // never out so far: no hourly buckets held
  m.Set(0.0, 0, /*up=*/false);
  m.AdvanceTo(Time::Epoch() + Duration::Minutes(150));
  m.Set(500.0, 2);
  m.AdvanceTo(Time::Epoch() + Duration::Hours(3));
  ASSERT_EQ(m.down_s().size(), 3u);
  EXPECT_DOUBLE_EQ(m.down_s()[0], 0.0);
  EXPECT_DOUBLE_EQ(m.down_s()[1], 40.0 * 60);
  EXPECT_DOUBLE_EQ(m.down_s()[2], 30.0 * 60);
  EXPECT_DOUBLE_EQ(m.energy_j()[1], 500.0 * 20 * 60);
}

}  // namespace
}  // namespace stargate::twin
