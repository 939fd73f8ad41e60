// File: series_integral.h
// Time integrals of an hourly series (grid intensity, price) by prefix sums,
// so charging a run segment of any length costs O(1): the twin books each
// job's emissions and energy cost at the hourly figures it actually ran in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/series.h"
#include "core/units.h"

namespace stargate::twin {

class SeriesIntegral {
 public:
  SeriesIntegral() = default;
  // Covers [epoch, epoch + hours); later times repeat the series as At() does.
  SeriesIntegral(const HourlySeries& series, int64_t hours) : series_(&series) {
    prefix_.resize(static_cast<size_t>(hours) + 1, 0.0);
    for (int64_t h = 0; h < hours; ++h) {
      prefix_[h + 1] = prefix_[h] + series.At(Time::Epoch() + Duration::Hours(h));
    }
  }

  // Integral of the series over [a, b], in value x seconds.
  double Between(Time a, Time b) const {
    if (series_ == nullptr || b <= a) return 0;
    return Upto(b) - Upto(a);
  }

 private:
  double Upto(Time t) const {
    const int64_t hour_ns = Duration::Hours(1).nanos();
    const int64_t h = std::max<int64_t>(0, t.nanos() / hour_ns);
    const double frac_s = static_cast<double>(t.nanos() - h * hour_ns) / 1e9;
    const int64_t last = static_cast<int64_t>(prefix_.size()) - 1;
    if (h >= last) {  // past the covered range: whole hours by At()
      double sum = prefix_[last] * 3600.0;
      for (int64_t k = last; k < h; ++k) sum += series_->At(Time::Epoch() + Duration::Hours(k)) * 3600.0;
      return sum + series_->At(Time::Epoch() + Duration::Hours(h)) * frac_s;
    }
    return prefix_[h] * 3600.0 + series_->At(Time::Epoch() + Duration::Hours(h)) * frac_s;
  }

  const HourlySeries* series_ = nullptr;
  std::vector<double> prefix_;  // sum of the first h hourly values
};

}  // namespace stargate::twin
