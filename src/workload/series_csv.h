// File: series_csv.h
// The points of a time series CSV file (a header, then `time,value,...`
// rows, as ../shared/data/carbon/*.csv): the twin resamples them to hours,
// the server reads a site's carbon or price from them as they are.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace stargate {

// (Unix seconds, value x `scale`) per row in file order, from column 0
// (a date-time read as UTC, or seconds) and column `column`. Rows whose
// value is missing ("", NaN, ...) are skipped; a bad time or value is an
// error naming the file and line. At least one row.
StatusOr<std::vector<std::pair<int64_t, double>>> ReadSeriesPoints(const std::string& text, const std::string& filename,
                                                                   int column, double scale);

}  // namespace stargate
