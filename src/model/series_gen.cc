#include "model/series_gen.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/rng.h"

namespace stargate::model {
namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr int64_t kSecondsPerHour = 3600;

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The daily and yearly sines of a series, hour by hour. Their cosines
// repeat by the local hour and by the day, so each is worked out once (by
// the same expression, so to the same value): a year of 10,000 sites'
// series took 175 million cosines.
class DiurnalShape {
 public:
  explicit DiurnalShape(const SeriesSpec& spec) : spec_(spec) {
    for (int local_hour = 0; local_hour < 24; ++local_hour) {
      daily_[static_cast<size_t>(local_hour)] = std::cos(kTwoPi * (local_hour - spec.peak_hour) / 24.0);
    }
  }
  double At(int h) {
    const int local_hour = static_cast<int>(((h + spec_.utc_offset_hours) % 24 + 24) % 24);
    const int day_of_year = (h / 24) % 365;
    if (day_of_year != day_) {
      day_ = day_of_year;
      seasonal_ = std::cos(kTwoPi * day_of_year / 365.0);
    }
    return 1 + spec_.daily_amplitude * daily_[static_cast<size_t>(local_hour)] + spec_.seasonal_amplitude * seasonal_;
  }

 private:
  const SeriesSpec& spec_;
  std::array<double, 24> daily_{};
  int day_ = -1;
  double seasonal_ = 0;
};

}  // namespace

HourlySeries MakeSeries(const SeriesSpec& spec, int hours, uint64_t seed) {
  HourlySeries out;
  if (hours <= 0 || spec.kind == SeriesSpec::Kind::kFile) return out;
  if (spec.kind == SeriesSpec::Kind::kHourly) {  // as given (HourlySeries wraps past its end)
    out.values = spec.values;
    return out;
  }
  if (spec.kind == SeriesSpec::Kind::kConstant) {
    out.values = std::vector<double>(static_cast<size_t>(hours), spec.mean);
    return out;
  }
  std::vector<double> values;
  values.reserve(static_cast<size_t>(hours));
  Rng rng(seed);
  const double innovation = std::sqrt(1 - kNoisePhi * kNoisePhi);
  double x = rng.Normal();
  DiurnalShape shape(spec);
  for (int h = 0; h < hours; ++h) {
    if (h > 0) x = kNoisePhi * x + innovation * rng.Normal();
    const double v = spec.mean * (shape.At(h) + spec.noise * x);
    values.push_back(std::max(v, 0.0));
  }
  out.values = std::move(values);
  return out;
}

HourlySeries ResampleToHourly(const std::vector<std::pair<int64_t, double>>& points_unix_seconds, int hours) {
  std::vector<std::pair<int64_t, double>> pts;
  pts.reserve(points_unix_seconds.size());
  for (const auto& p : points_unix_seconds) {
    if (std::isfinite(p.second)) pts.push_back(p);
  }
  HourlySeries out;
  if (pts.empty()) return out;

  const auto by_time = [](const auto& a, const auto& b) { return a.first < b.first; };
  const int64_t earliest = std::min_element(points_unix_seconds.begin(), points_unix_seconds.end(), by_time)->first;
  const int64_t start = FloorDiv(earliest, kSecondsPerHour);
  std::stable_sort(pts.begin(), pts.end(), by_time);
  const int64_t covered = FloorDiv(pts.back().first, kSecondsPerHour) - start + 1;
  const int64_t n = hours > 0 ? hours : covered;
  std::vector<double> values;
  values.reserve(static_cast<size_t>(n));
  double last = pts.front().second;
  size_t i = 0;
  for (int64_t k = 0; k < n; ++k) {
    double sum = 0;
    int count = 0;
    for (; i < pts.size() && FloorDiv(pts[i].first, kSecondsPerHour) - start == k; ++i) {
      sum += pts[i].second;
      ++count;
    }
    if (count > 0) last = sum / count;
    values.push_back(last);
  }
  out.values = std::move(values);
  return out;
}

}  // namespace stargate::model
