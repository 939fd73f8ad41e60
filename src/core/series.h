// File: series.h
// Time series inputs of a site (grid carbon intensity, electricity price):
// how a scenario describes them, and the hourly values the models read.
// Generating synthetic values is model/series_gen.h; reading CSV files is I/O
// and lives in twin/.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "core/hour_values.h"
#include "core/units.h"

namespace stargate {

struct SeriesSpec {
  // kHourly: `values`, one per hour from the run's start (an exported
  // live forecast's grid, scenario_export.h).
  enum class Kind : uint8_t { kConstant, kDiurnal, kFile, kHourly };
  Kind kind = Kind::kConstant;
  double mean = 0;                // in the series' unit (gCO2/kWh or USD/MWh)
  double daily_amplitude = 0;     // fraction of mean, peak-to-mean of the daily sine
  double seasonal_amplitude = 0;  // fraction of mean, yearly sine (peak in January)
  int peak_hour = 18;             // local hour of the daily maximum
  double noise = 0;               // fraction of mean, std-dev of hourly AR(1) noise
  int utc_offset_hours = 0;       // site local time = UTC + offset
  std::string file;               // kFile: CSV path, relative to the scenario file
  int column = 1;                 // kFile: 0-based CSV column holding the value
  double scale = 1.0;             // kFile: multiply each value (unit conversion)
  std::vector<double> values;     // kHourly

  // Every field, in order: two specs with equal fields give equal series
  // (ClusterState orders specs by them to find sites that share one).
  auto Fields() const {
    return std::tie(kind, mean, daily_amplitude, seasonal_amplitude, peak_hour, noise, utc_offset_hours, file, column,
                    scale, values);
  }
  // Whether every site given this spec gets the same values (no noise
  // drawn with the site's own seed).
  bool Deterministic() const { return kind != Kind::kDiurnal || noise == 0; }
};

// Hourly values starting at the run's epoch; lookups past the end wrap, so a
// one-year series serves a multi-year run.
struct HourlySeries {
  HourValues values;  // shared by copies (and by a run's result): immutable
  double At(Time t) const {
    if (values.empty()) return 0;
    // Hours before the epoch wrap too (a day-ago forecast at the start
    // reads the day before): floor division, then a non-negative index.
    const int64_t hour = Duration::Hours(1).nanos();
    const int64_t h = t.nanos() >= 0 ? t.nanos() / hour : -((-t.nanos() + hour - 1) / hour);
    const int64_t n = static_cast<int64_t>(values.size());
    if (h >= 0 && h < n) return values[static_cast<size_t>(h)];  // no division: every site, every hour
    return values[static_cast<size_t>(((h % n) + n) % n)];
  }
};

}  // namespace stargate
