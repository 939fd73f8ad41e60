// File: grid_forecast.h
// What a scheduler knows of the grid's hours ahead (carbon intensity past
// the current hour): the figures it defers and scores on, while the bill
// always uses what the grid actually did.
//   - kPerfect: the series' own values ahead (the twin's series, or the
//     future points a server's feed or file gives): perfect foresight.
//   - kPersistence: the current value held (what a feed of live readings
//     alone gives).
//   - kDayAgo: each hour ahead as the same hour of the last day already
//     seen (a seasonal-naive day-ahead forecast).
// On the real series in ../shared/data/carbon (DE, GB, FR, 2020, hourly
// means), mean absolute percentage error of persistence is 4.0/5.8/3.6% one
// hour ahead, 17.5/21.5/11.9% at 6 h and 23.5/23.4/16.8% at 24 h; day-ago
// is 23.5/23.4/16.8% at every horizon (docs/calibration.md, Forecast error).
#pragma once

#include <cstdint>
#include <string_view>

namespace stargate {

enum class ForecastModel : uint8_t { kPerfect, kPersistence, kDayAgo };

constexpr std::string_view Name(ForecastModel m) {
  switch (m) {
    case ForecastModel::kPersistence:
      return "persistence";
    case ForecastModel::kDayAgo:
      return "day_ago";
    case ForecastModel::kPerfect:
      break;
  }
  return "perfect";
}

}  // namespace stargate
