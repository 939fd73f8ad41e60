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

double Foreseen(absl::FunctionRef<double(Time)> actual, Time now, Time at, ForecastModel model) {
  switch (model) {
    case ForecastModel::kPersistence:
      return actual(now);
    case ForecastModel::kDayAgo: {
      // The same hour on the latest day already seen: whole days back.
      const int64_t day = Duration::Days(1).nanos();
      const int64_t days = at > now ? ((at - now).nanos() + day - 1) / day : 0;
      return actual(at - Duration::Nanos(days * day));
    }
    case ForecastModel::kPerfect:
      break;
  }
  return actual(at);
}

void SetGridSignals(absl::FunctionRef<double(Time)> carbon, absl::FunctionRef<double(Time)> price, Time now,
                    Duration horizon, ForecastModel model, SiteSignals* out) {
  const int64_t hour = now.nanos() / Duration::Hours(1).nanos();
  const int64_t ahead_h = horizon.nanos() / Duration::Hours(1).nanos();
  out->carbon = carbon(now);
  out->price = price(now);
  double sum = 0;
  out->carbon_min_ahead = out->carbon;
  out->carbon_min_at = now;
  for (int64_t h = 1; h <= ahead_h; ++h) {
    const Time at = Time::Epoch() + Duration::Hours(hour + h);
    const double ci = Foreseen(carbon, now, at, model);
    sum += ci;
    if (ci < out->carbon_min_ahead) {
      out->carbon_min_ahead = ci;
      out->carbon_min_at = at;
    }
  }
  out->carbon_ahead = ahead_h > 0 ? sum / static_cast<double>(ahead_h) : out->carbon;
}

}  // namespace stargate::sched
