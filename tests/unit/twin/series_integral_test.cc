#include "twin/series_integral.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace stargate::twin {
namespace {

HourlySeries Noisy(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 700);
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(u(rng));
  return HourlySeries{std::move(v)};
}

// The sum of the first h hourly values as an every-hour prefix adds them.
double EveryHourPrefix(const HourlySeries& s, int64_t h) {
  double sum = 0;
  for (int64_t k = 0; k < h; ++k) sum += s.At(Time::Epoch() + Duration::Hours(k));
  return sum;
}

TEST(SeriesIntegral, KeptDaysGiveTheEveryHourPrefixToTheLastBit) {
  // Run lengths on and off a whole number of days, and a series shorter
  // than the run (it wraps, as At() does).
  for (int64_t hours : {1, 23, 24, 25, 47, 48, 100, 24 * 30 + 7}) {
    for (int n : {static_cast<int>(hours), 30}) {
      const HourlySeries s = Noisy(n, static_cast<uint32_t>(hours * 31 + n));
      const SeriesIntegral in(s, hours);
      for (int64_t h = 0; h <= hours; ++h) {
        ASSERT_EQ(in.PrefixHours(h), EveryHourPrefix(s, h)) << "hours " << hours << " n " << n << " h " << h;
      }
      EXPECT_EQ(in.PrefixHours(-30), 0.0);  // before the run: nothing yet
    }
  }
}

TEST(SeriesIntegral, BetweenIntegratesThePiecewiseConstantSeries) {
  std::vector<double> v;
  for (int h = 0; h < 50; ++h) v.push_back(h + 1.0);
  const HourlySeries s{std::move(v)};
  const SeriesIntegral in(s, 50);
  const Time t0 = Time::Epoch();
  // Half of hour 25 (26) and all of hours 26..29 (27..30) and a quarter of hour 30 (31).
  const Time a = t0 + Duration::Hours(25) + Duration::Minutes(30);
  const Time b = t0 + Duration::Hours(30) + Duration::Minutes(15);
  EXPECT_DOUBLE_EQ(in.Between(a, b), 26 * 1800.0 + (27 + 28 + 29 + 30) * 3600.0 + 31 * 900.0);
  EXPECT_EQ(in.Between(b, a), 0.0);
  // Past the covered hours the series repeats: hour 50 is hour 0 again.
  const Time end = t0 + Duration::Hours(50);
  EXPECT_DOUBLE_EQ(in.Between(end - Duration::Hours(1), end + Duration::Hours(2)), (50 + 1 + 2) * 3600.0);
  EXPECT_EQ(SeriesIntegral().Between(a, b), 0.0);
}

}  // namespace
}  // namespace stargate::twin
