// File: grid_signals.h
// A site's grid signals at a time (SiteSignals' carbon, price and forecast
// fields), computed one way for both drivers: the twin reads its hourly
// series, the server the timestamped series of its --sites file
// (PointSeries), and both hand the scheduler the same figures for the same
// values.
#pragma once

#include <cstdint>
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
// them from `carbon` (core/grid_forecast.h). `carbon` and `price` are
// callables double(Time); templates, so a twin's site-hour (10,000 sites,
// a day ahead each, every hour) reads its series without a call each.
template <class Carbon, class Price>
void SetGridSignals(const Carbon& carbon, const Price& price, Time now, Duration horizon, ForecastModel model,
                    SiteSignals* out);

// The value `model` foresees at `at` (after `now`) from the series `actual`
// (a callable double(Time)), reading it at `now` or before only, unless the
// model is perfect.
template <class Actual>
double Foreseen(const Actual& actual, Time now, Time at, ForecastModel model) {
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

template <class Carbon, class Price>
void SetGridSignals(const Carbon& carbon, const Price& price, Time now, Duration horizon, ForecastModel model,
                    SiteSignals* out) {
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
