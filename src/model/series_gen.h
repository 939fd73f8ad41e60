// File: series_gen.h
// Hourly grid-carbon and electricity-price series for a site: synthetic ones
// from a SeriesSpec (core/series.h), and hourly averages of measured samples
// (the caller reads the CSV; e.g. ../shared/data/carbon/*.csv hold 30-min
// France, mixed 15/30-min Great Britain and 15-min Germany carbon intensity,
// 2019-12-20 .. 2021-01-09). Pure functions; thread-safe; deterministic for a
// seed on every platform (stargate::Rng).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/series.h"

namespace stargate::model {

// Persistence of the hourly noise: AR(1) with phi = 0.9 per hour, i.e. a
// ~10 h e-folding time, the order of weather-driven (wind) forecast-error
// persistence. ESTIMATE; grid data (../shared/data/carbon) has hour-to-hour
// autocorrelation well above 0.9 including the daily cycle.
inline constexpr double kNoisePhi = 0.9;

// `hours` values (none when hours <= 0) starting at the run's epoch, taken to
// be 00:00 UTC on 1 January:
//  - kConstant: `mean` every hour (amplitudes and noise ignored; use kDiurnal
//    with zero amplitudes for a noisy flat series);
//  - kDiurnal: mean * (1 + daily_amplitude*cos(2*pi*(local_hour - peak_hour)/24)
//                        + seasonal_amplitude*cos(2*pi*day_of_year/365))
//              + mean*noise*x_h,
//    local_hour = (h + utc_offset_hours) mod 24, day_of_year = (h / 24) mod 365,
//    x an AR(1) process with phi = kNoisePhi and unit stationary variance
//    (x_0 ~ N(0,1), x_h = phi*x_{h-1} + sqrt(1-phi^2)*N(0,1)), values
//    clamped at >= 0;
//  - kFile: empty (the caller reads the file and calls ResampleToHourly).
HourlySeries MakeSeries(const SeriesSpec& spec, int hours, uint64_t seed);

// Averages (unix seconds, value) samples at any spacing (15-min, 30-min,
// irregular) into hourly buckets. values[0] covers the UTC hour containing the
// earliest sample, [floor(t0/3600)*3600, +3600); values[k] the k-th hour after
// it. An hour with no finite sample repeats the previous hour's value (hours
// before the first finite sample take that sample's value). `hours` > 0 fixes
// the length (truncating, or forward-filling past the last sample); 0 means
// through the hour of the last sample. Unsorted input is accepted. Empty input,
// or no finite value, gives an empty series.
HourlySeries ResampleToHourly(const std::vector<std::pair<int64_t, double>>& points_unix_seconds, int hours = 0);

}  // namespace stargate::model
