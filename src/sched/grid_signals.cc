#include "sched/grid_signals.h"

#include <algorithm>

namespace stargate::sched {

PointSeries::Value PointSeries::At(Time t) const {
  // First point after t; the one before it is the value at t.
  auto after = std::upper_bound(points.begin(), points.end(), t,
                                [](Time x, const std::pair<Time, double>& p) { return x < p.first; });
  if (after == points.begin()) return Value{mean, true, Time::Never()};
  const auto& [at, v] = *std::prev(after);
  if (t - at > stale_after) return Value{mean, true, at};
  return Value{v, false, at};
}

void SetGridSignals(absl::FunctionRef<double(Time)> carbon, absl::FunctionRef<double(Time)> price, Time now,
                    Duration horizon, SiteSignals* out) {
  const int64_t hour = now.nanos() / Duration::Hours(1).nanos();
  const int64_t ahead_h = horizon.nanos() / Duration::Hours(1).nanos();
  out->carbon = carbon(now);
  out->price = price(now);
  double sum = 0;
  out->carbon_min_ahead = out->carbon;
  out->carbon_min_at = now;
  for (int64_t h = 1; h <= ahead_h; ++h) {
    const Time at = Time::Epoch() + Duration::Hours(hour + h);
    const double ci = carbon(at);
    sum += ci;
    if (ci < out->carbon_min_ahead) {
      out->carbon_min_ahead = ci;
      out->carbon_min_at = at;
    }
  }
  out->carbon_ahead = ahead_h > 0 ? sum / static_cast<double>(ahead_h) : out->carbon;
}

}  // namespace stargate::sched
