// One way to compute a site's grid signals for both drivers: the value
// now, the forecast mean and minimum over whole hours ahead, and a point
// series' staleness.
#include "sched/grid_signals.h"

#include <gtest/gtest.h>

namespace stargate::sched {
namespace {

constexpr Time H(int64_t h) { return Time::Epoch() + Duration::Hours(h); }

TEST(PointSeries, StepsHoldsAndGoesStale) {
  PointSeries s;
  s.points = {{H(10), 400}, {H(11), 100}};
  s.mean = 250;
  s.stale_after = Duration::Hours(2);
  EXPECT_TRUE(s.At(H(9)).stale);  // before the first point
  EXPECT_EQ(s.At(H(9)).value, 250);
  EXPECT_EQ(s.At(H(10)).value, 400);
  EXPECT_EQ(s.At(H(10) + Duration::Minutes(59)).value, 400);
  EXPECT_EQ(s.At(H(11)).value, 100);
  EXPECT_EQ(s.At(H(11)).as_of, H(11));
  EXPECT_FALSE(s.At(H(13)).stale);  // exactly stale_after old
  EXPECT_TRUE(s.At(H(13) + Duration::Seconds(1)).stale);
  EXPECT_EQ(s.At(H(14)).value, 250);
}

TEST(SetGridSignals, ForecastsOverWholeHoursAhead) {
  // Carbon by hour: 500 now, then 400, 90, 300; price 60 flat.
  auto carbon = [](Time t) {
    static const double by_hour[] = {500, 400, 90, 300, 300, 300, 300, 300};
    return by_hour[(t.nanos() / Duration::Hours(1).nanos()) % 8];
  };
  SiteSignals s;
  s.facility_w = 7;  // not the function's
  SetGridSignals(
      carbon, [](Time) { return 60.0; }, H(0) + Duration::Minutes(20), Duration::Hours(3), &s);
  EXPECT_EQ(s.carbon, 500);
  EXPECT_EQ(s.price, 60);
  EXPECT_DOUBLE_EQ(s.carbon_ahead, (400 + 90 + 300) / 3.0);
  EXPECT_EQ(s.carbon_min_ahead, 90);
  EXPECT_EQ(s.carbon_min_at, H(2));
  EXPECT_EQ(s.facility_w, 7);
  SetGridSignals(
      carbon, [](Time) { return 60.0; }, H(0), Duration::Zero(), &s);  // no forecast: now only
  EXPECT_EQ(s.carbon_ahead, 500);
  EXPECT_EQ(s.carbon_min_ahead, 500);
  EXPECT_EQ(s.carbon_min_at, H(0));
}

}  // namespace
}  // namespace stargate::sched
