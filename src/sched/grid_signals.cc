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

}  // namespace stargate::sched
