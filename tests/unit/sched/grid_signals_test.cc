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
      carbon, [](Time) { return 60.0; }, H(0) + Duration::Minutes(20), Duration::Hours(3), ForecastModel::kPerfect, &s);
  EXPECT_EQ(s.carbon, 500);
  EXPECT_EQ(s.price, 60);
  EXPECT_DOUBLE_EQ(s.carbon_ahead, (400 + 90 + 300) / 3.0);
  EXPECT_EQ(s.carbon_min_ahead, 90);
  EXPECT_EQ(s.carbon_min_at, H(2));
  EXPECT_EQ(s.facility_w, 7);
  SetGridSignals(
      carbon, [](Time) { return 60.0; }, H(0), Duration::Zero(), ForecastModel::kPerfect, &s);  // no forecast: now only
  EXPECT_EQ(s.carbon_ahead, 500);
  EXPECT_EQ(s.carbon_min_ahead, 500);
  EXPECT_EQ(s.carbon_min_at, H(0));
}

TEST(SetGridSignals, ForeseesOnlyWhatItsModelCanKnow) {
  // Hour h of the series is 100 + h: any hour's value names the hour read.
  auto carbon = [](Time t) { return 100.0 + static_cast<double>(t.nanos() / Duration::Hours(1).nanos()); };
  const Time now = H(30) + Duration::Minutes(20);
  EXPECT_EQ(Foreseen(carbon, now, H(33), ForecastModel::kPerfect), 133);
  EXPECT_EQ(Foreseen(carbon, now, H(33), ForecastModel::kPersistence), 130);  // now's hour, held
  // The same hour of day, from the latest day already seen.
  EXPECT_EQ(Foreseen(carbon, now, H(33), ForecastModel::kDayAgo), 109);
  EXPECT_EQ(Foreseen(carbon, now, H(54), ForecastModel::kDayAgo), 130);  // 23h40m ahead: one day back, now's hour
  EXPECT_EQ(Foreseen(carbon, now, H(55), ForecastModel::kDayAgo), 107);  // 24h40m ahead: two days back
  SiteSignals s;
  SetGridSignals(
      carbon, [](Time) { return 60.0; }, now, Duration::Hours(2), ForecastModel::kPersistence, &s);
  EXPECT_EQ(s.carbon_ahead, 130);
  EXPECT_EQ(s.carbon_min_at, now);  // nothing ahead looks cleaner than now
  SetGridSignals(
      carbon, [](Time) { return 60.0; }, now, Duration::Hours(2), ForecastModel::kDayAgo, &s);
  EXPECT_DOUBLE_EQ(s.carbon_ahead, (107 + 108) / 2.0);
  EXPECT_EQ(s.carbon_min_ahead, 107);
  EXPECT_EQ(s.carbon_min_at, H(31));  // the hour it forecasts, not the hour it read
}

}  // namespace
}  // namespace stargate::sched
