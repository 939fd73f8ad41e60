// File: series_integral.h
// Time integrals of an hourly series (grid intensity, price) by prefix sums,
// so charging a run segment costs a bounded number of steps whatever its
// length: the twin books each job's emissions and energy cost at the hourly
// figures it actually ran in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/series.h"
#include "core/units.h"

namespace stargate::twin {

class SeriesIntegral {
 public:
  // Hours between two kept prefix sums. A year of 10,000 sites' carbon and
  // price is 175 million site-hours: a prefix sum at every hour held 1.4 GB
  // beside the series themselves; one a day holds 58 MB, and a look-up adds
  // at most 23 hourly values to the day's sum.
  static constexpr int64_t kStride = 24;

  SeriesIntegral() = default;
  // Covers [epoch, epoch + hours); later times repeat the series as At() does.
  SeriesIntegral(const HourlySeries& series, int64_t hours) : series_(&series), hours_(hours) {
    kept_.reserve(static_cast<size_t>(hours / kStride) + 1);
    double sum = 0;
    for (int64_t h = 0; h < hours; ++h) {
      if (h % kStride == 0) kept_.push_back(sum);
      sum += Value(h);
    }
    total_ = sum;
  }

  // Integral of the series over [a, b], in value x seconds.
  double Between(Time a, Time b) const {
    if (series_ == nullptr || b <= a) return 0;
    return Upto(b) - Upto(a);
  }

  // The sum of the first h hourly values (none for h <= 0), added in hour
  // order from the day's kept sum: the very additions, in the same order,
  // that an every-hour prefix makes, so the same double to the last bit.
  double PrefixHours(int64_t h) const {
    if (h <= 0) return 0;
    if (h >= hours_) return total_;
    const int64_t from = h / kStride * kStride;
    double sum = kept_[static_cast<size_t>(h / kStride)];
    for (int64_t k = from; k < h; ++k) sum += Value(k);
    return sum;
  }

 private:
  double Value(int64_t h) const { return series_->At(Time::Epoch() + Duration::Hours(h)); }

  double Upto(Time t) const {
    const int64_t hour_ns = Duration::Hours(1).nanos();
    const int64_t h = std::max<int64_t>(0, t.nanos() / hour_ns);
    const double frac_s = static_cast<double>(t.nanos() - h * hour_ns) / 1e9;
    if (h >= hours_) {  // past the covered range: whole hours by At()
      double sum = total_ * 3600.0;
      for (int64_t k = hours_; k < h; ++k) sum += Value(k) * 3600.0;
      return sum + Value(h) * frac_s;
    }
    return PrefixHours(h) * 3600.0 + Value(h) * frac_s;
  }

  const HourlySeries* series_ = nullptr;
  int64_t hours_ = 0;
  std::vector<double> kept_;  // the sum of the first d * kStride hourly values
  double total_ = 0;          // the sum of all `hours_` values
};

}  // namespace stargate::twin
