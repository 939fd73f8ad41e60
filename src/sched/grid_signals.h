// File: grid_signals.h
// A site's grid signals at a time (SiteSignals' carbon, price and forecast
// fields), computed one way for both drivers: the twin reads its hourly
// series, the server the timestamped series of its --sites file
// (PointSeries), and both hand the scheduler the same figures for the same
// values.
#pragma once

#include <absl/functional/function_ref.h>

#include <utility>
#include <vector>

#include "core/grid_forecast.h"
#include "core/units.h"
#include "sched/cluster_state.h"

namespace stargate::sched {

// A signal as timestamped values (the server's): at t it is the last point
// at or before t; with none, or one older than `stale_after`, it is stale
// and `mean` stands in (a site's yearly mean).
struct PointSeries {
  std::vector<std::pair<Time, double>> points;  // time order
  double mean = 0;
  Duration stale_after = Duration::Hours(2);

  struct Value {
    double value = 0;
    bool stale = false;
    Time as_of = Time::Never();  // the point's time (Never when stale for want of one)
  };
  Value At(Time t) const;
};

// Sets `out`'s carbon, price and forecast fields at `now`: carbon and
// price now, and over the next `horizon` in whole hours (the values at the
// hour starts after now's hour, UTC or run epoch) the carbon mean, its
// minimum (now included) and the start of the minimum's hour. Staleness and
// facility draw are the caller's. The hours ahead are as `model` foresees
// them from `carbon` (core/grid_forecast.h).
void SetGridSignals(absl::FunctionRef<double(Time)> carbon, absl::FunctionRef<double(Time)> price, Time now,
                    Duration horizon, ForecastModel model, SiteSignals* out);

// The value `model` foresees at `at` (after `now`) from the series `actual`,
// reading it at `now` or before only, unless the model is perfect.
double Foreseen(absl::FunctionRef<double(Time)> actual, Time now, Time at, ForecastModel model);

}  // namespace stargate::sched
