#include "model/series_gen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <span>
#include <string>

namespace stargate::model {
namespace {

SeriesSpec Diurnal(double noise) {
  SeriesSpec s;
  s.kind = SeriesSpec::Kind::kDiurnal;
  s.mean = 200;
  s.daily_amplitude = 0.3;
  s.peak_hour = 18;
  s.noise = noise;
  return s;
}

TEST(MakeSeries, ConstantIsTheMeanEveryHour) {
  SeriesSpec s;
  s.mean = 42;
  s.noise = 0.5;  // ignored for kConstant
  const HourlySeries series = MakeSeries(s, 100, 1);
  ASSERT_EQ(series.values.size(), 100u);
  for (double v : series.values) EXPECT_EQ(v, 42);
  EXPECT_TRUE(MakeSeries(s, 0, 1).values.empty());
}

TEST(MakeSeries, FileKindIsLeftToTheCaller) {
  SeriesSpec s;
  s.kind = SeriesSpec::Kind::kFile;
  EXPECT_TRUE(MakeSeries(s, 24, 1).values.empty());
}

TEST(MakeSeries, DiurnalRepeatsDailyAndPeaksAtTheLocalPeakHour) {
  SeriesSpec s = Diurnal(0);
  s.utc_offset_hours = -6;  // e.g. CST: local 18:00 is 00:00 UTC
  const HourlySeries series = MakeSeries(s, 24 * 7, 1);
  for (size_t h = 0; h + 24 < series.values.size(); ++h) {
    EXPECT_NEAR(series.values[h], series.values[h + 24], 1e-9) << h;
  }
  const auto peak = std::max_element(series.values.begin(), series.values.begin() + 24);
  EXPECT_EQ(peak - series.values.begin(), 0);
  EXPECT_NEAR(*peak, 200 * 1.3, 1e-9);
  EXPECT_NEAR(series.values[12], 200 * 0.7, 1e-9);  // trough 12 h later
}

TEST(MakeSeries, SeasonalTermPeaksInJanuary) {
  SeriesSpec s;
  s.kind = SeriesSpec::Kind::kDiurnal;
  s.mean = 100;
  s.seasonal_amplitude = 0.2;
  const HourlySeries series = MakeSeries(s, 24 * 365, 1);
  EXPECT_NEAR(series.values[0], 120, 1e-9);
  EXPECT_NEAR(series.values[24 * 182], 80, 0.1);  // early July
  EXPECT_NEAR(series.values[24 * 364], series.values[0], 0.1);
}

// Both sines, hour by hour over two years (the year wraps), equal the
// closed form exactly: the cosines kept per local hour and per day are
// the ones the formula takes.
TEST(MakeSeries, DiurnalAndSeasonalAreTheClosedFormExactly) {
  SeriesSpec s = Diurnal(0);
  s.seasonal_amplitude = 0.15;
  for (const int offset : {-11, -6, 0, 5, 13}) {
    s.utc_offset_hours = offset;
    const int hours = 2 * 365 * 24 + 7;
    const HourlySeries series = MakeSeries(s, hours, 1);
    ASSERT_EQ(series.values.size(), static_cast<size_t>(hours));
    for (int h = 0; h < hours; ++h) {
      const double two_pi = 6.283185307179586;
      const int local_hour = ((h + offset) % 24 + 24) % 24;
      const int day = (h / 24) % 365;
      const double shape = 1 + s.daily_amplitude * std::cos(two_pi * (local_hour - s.peak_hour) / 24.0) +
                           s.seasonal_amplitude * std::cos(two_pi * day / 365.0);
      ASSERT_EQ(series.values[static_cast<size_t>(h)], std::max(s.mean * shape, 0.0))
          << "offset " << offset << " hour " << h;
    }
  }
}

TEST(MakeSeries, DeterministicForASeed) {
  const HourlySeries a = MakeSeries(Diurnal(0.1), 24 * 30, 7);
  const HourlySeries b = MakeSeries(Diurnal(0.1), 24 * 30, 7);
  const HourlySeries c = MakeSeries(Diurnal(0.1), 24 * 30, 8);
  EXPECT_EQ(a.values, b.values);
  EXPECT_NE(a.values, c.values);
}

TEST(MakeSeries, NoiseIsAR1WithTheRequestedSpread) {
  SeriesSpec s;
  s.kind = SeriesSpec::Kind::kDiurnal;
  s.mean = 100;
  s.noise = 0.1;
  const HourlySeries series = MakeSeries(s, 200000, 3);
  const std::span<const double> v = series.values;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  double var = 0, cov = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    var += (v[i] - mean) * (v[i] - mean);
    if (i > 0) cov += (v[i] - mean) * (v[i - 1] - mean);
  }
  EXPECT_NEAR(mean, 100, 0.5);
  EXPECT_NEAR(std::sqrt(var / v.size()), 10, 0.5);
  EXPECT_NEAR(cov / var, kNoisePhi, 0.01);
}

TEST(MakeSeries, NeverNegative) {
  SeriesSpec s = Diurnal(2.0);
  s.daily_amplitude = 0.9;
  const HourlySeries series = MakeSeries(s, 24 * 60, 11);
  EXPECT_GE(*std::min_element(series.values.begin(), series.values.end()), 0.0);
  EXPECT_GT(*std::max_element(series.values.begin(), series.values.end()), 0.0);
}

TEST(ResampleToHourly, AveragesQuarterAndHalfHoursAndForwardFillsGaps) {
  const int64_t t0 = 1576800000 + 900;  // 2019-12-20 00:15 UTC
  // Hour 0 at 15-min spacing, hour 1 at 30-min, hours 2-3 missing.
  const std::vector<std::pair<int64_t, double>> pts = {{t0, 1},         {t0 + 900, 2},   {t0 + 1800, 3},
                                                       {t0 + 2700, 10}, {t0 + 4500, 20}, {t0 + 4 * 3600, 7}};
  const HourlySeries s = ResampleToHourly(pts);
  EXPECT_EQ(s.values, (std::vector<double>{2, 15, 15, 15, 7}));
  // A fixed length truncates or forward-fills the tail.
  EXPECT_EQ(ResampleToHourly(pts, 2).values, (std::vector<double>{2, 15}));
  EXPECT_EQ(ResampleToHourly(pts, 7).values, (std::vector<double>{2, 15, 15, 15, 7, 7, 7}));
}

TEST(ResampleToHourly, UnsortedNonFiniteAndEmptyInput) {
  const std::vector<std::pair<int64_t, double>> pts = {{7200, 4}, {0, NAN}, {3700, 3}, {3600, 1}};
  EXPECT_EQ(ResampleToHourly(pts).values, (std::vector<double>{1, 2, 4}));
  EXPECT_TRUE(ResampleToHourly({}).values.empty());
  EXPECT_TRUE(ResampleToHourly({{0, NAN}}).values.empty());
  // Negative times floor to the hour before the epoch.
  EXPECT_EQ(ResampleToHourly({{-1, 5}, {0, 9}}).values, (std::vector<double>{5, 9}));
}

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The real carbon series the twin replays: 15-min German data becomes 387
// days of hourly values, each within the raw range.
TEST(ResampleToHourly, GermanCarbonCsv) {
  const std::string path = std::string(STARGATE_SOURCE_DIR) + "/../shared/data/carbon/ger_ci.csv";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "no " << path;
  std::vector<std::pair<int64_t, double>> pts;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    int y, mo, d, h, mi, s;
    double v;
    if (std::sscanf(line.c_str(), "%d-%d-%d %d:%d:%d,%lf", &y, &mo, &d, &h, &mi, &s, &v) != 7) {
      continue;
    }
    pts.emplace_back(DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s, v);
  }
  ASSERT_GT(pts.size(), 30000u);
  const HourlySeries hourly = ResampleToHourly(pts);
  EXPECT_EQ(hourly.values.size(), 387u * 24);
  EXPECT_NEAR(hourly.values[0], (pts[0].second + pts[1].second + pts[2].second + pts[3].second) / 4, 1e-9);
  const auto [lo, hi] =
      std::minmax_element(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.second < b.second; });
  for (double v : hourly.values) {
    EXPECT_GE(v, lo->second);
    EXPECT_LE(v, hi->second);
  }
}

}  // namespace
}  // namespace stargate::model
