// File: report_format.h
// Number and text formatting shared by the report writers (report_json.h,
// report_csv.h, report_html.h). Every function is pure and locale-free: the
// same double always gives the same bytes, which is what lets a report be
// diffed across runs. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/fixed_text.h"
#include "core/units.h"

namespace stargate::twin::report {

// `v` with exactly `decimals` digits after the point. A value that rounds to
// zero prints without a minus sign ("-0.0000" is noise, not information).
// NaN and infinities give "" so CSV cells stay empty rather than "nan".
std::string Fixed(double v, int decimals);
// The same, written into `scratch` (no allocation: a CSV of a row per site
// and hour prints tens of millions).
std::string_view FixedView(double v, int decimals, FixedScratch& scratch);

// The same, written at `out`, which has room for kFixedViewRoom chars;
// returns the end. Digits go straight to `out` (FixedView's scratch and a
// copy cost a third of sites.csv's 87.6M rows at 10,000 sites and a year).
inline constexpr size_t kFixedViewRoom = std::tuple_size_v<FixedScratch>;
char* WriteFixedView(double v, int decimals, char* out);

// Hours since the run's epoch with 4 decimals, or "" for Time::Never().
std::string HoursOrEmpty(Time t);

// `v` rounded to `digits` significant digits, so floating noise such as
// 0.30000000000000004 becomes 0.3. Non-finite values pass through.
double RoundSignificant(double v, int digits);

// The mean of `v`; `if_empty` for none (the JSON summary writes 0, the
// HTML report a dash).
double MeanOf(std::span<const double> v, double if_empty);

// A human-readable number for cards and tables: three significant digits
// below 1000 ("0.123", "12.3"), whole numbers with thousands separators
// above ("12,345"). "–" for NaN or infinities.
std::string Readable(double v);

// An integer with thousands separators: 1234567 -> "1,234,567".
std::string Integer(int64_t n);

// A fraction as a percentage with one decimal: 0.4567 -> "45.7%".
std::string Percent(double fraction);

// US dollars, compact: "$950", "$12.3k", "$4.56M", "$1.23B".
std::string Dollars(double usd);

// Escapes &, <, >, " and ' so any text can go into HTML or SVG content and
// attribute values.
std::string EscapeXml(std::string_view text);

// Consecutive runs of a series averaged into buckets.
struct Buckets {
  std::vector<double> means;
  std::vector<size_t> bounds;  // bucket i covers samples [bounds[i], bounds[i+1])
};

// Averages consecutive runs of `values` so at most `max_points` remain
// (`max_points` >= 1). With width = ceil(n / max_points), the n samples are
// split into ceil(n / width) buckets of as equal a size as possible (width
// or width - 1), so no short last bucket stands out as noise. Non-finite
// samples are skipped; a bucket with none left is NaN.
Buckets BucketMeans(const std::vector<double>& values, size_t max_points);

}  // namespace stargate::twin::report
