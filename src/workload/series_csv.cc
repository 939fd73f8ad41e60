#include "workload/series_csv.h"

#include <fmt/format.h>

#include "core/text_fields.h"
#include "workload/csv_reader.h"

namespace stargate {

StatusOr<std::vector<std::pair<int64_t, double>>> ReadSeriesPoints(const std::string& text, const std::string& filename,
                                                                   int column, double scale) {
  CsvReader reader(text, filename);
  CsvRecord rec;
  std::vector<std::pair<int64_t, double>> points;
  for (;;) {
    SG_ASSIGN_OR_RETURN(bool more, reader.Next(&rec));
    if (!more) break;
    if (static_cast<int>(rec.fields.size()) <= column) {
      return TraceError(filename, rec.line, "row", fmt::format("expected at least {} columns", column + 1));
    }
    const auto ts = ParseTimestampNanos(rec.fields[0]);
    const auto value = ParseFieldNumber(rec.fields[static_cast<size_t>(column)]);
    if (!ts || !value) {
      if (points.empty() && rec.line == 1) continue;  // header
      if (IsMissing(rec.fields[static_cast<size_t>(column)]) && ts) continue;
      return TraceError(filename, rec.line, !ts ? "time" : "value",
                        fmt::format("cannot parse '{}'", !ts ? rec.fields[0] : rec.fields[column]));
    }
    points.emplace_back(*ts / 1000000000, *value * scale);
  }
  if (points.empty()) return absl::InvalidArgumentError(fmt::format("{}: no data rows", filename));
  return points;
}

}  // namespace stargate
