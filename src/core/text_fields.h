// File: text_fields.h
// Field-level helpers shared by the trace and series readers: strict number and
// date-time parsing without locale, timegm or the C runtime's time zone, and
// the one spelling of a trace error ("FILE:LINE: field: message").
//
// Everything here is pure: no clock, no globals, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace stargate {

// Days from 1970-01-01 to the given proleptic Gregorian date (negative
// before). H. Hinnant's days_from_civil, valid for any int32 year.
constexpr int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

// Number of days in month `m` (1-12) of year `y`.
int DaysInMonth(int64_t y, int m);

// ASCII blanks (space, tab) stripped from both ends.
std::string_view TrimBlanks(std::string_view s);

// True for the spellings public traces use for "no value": empty, None,
// null, NULL, NaN, nan, Unknown and \N (pandas, Python str(None), MySQL).
bool IsMissing(std::string_view s);

// A finite decimal number filling all of `s` (blanks around allowed), e.g.
// "8", "1739162.0", "-3e2". Nothing else: no hex, inf, nan or trailing junk.
std::optional<double> ParseFieldNumber(std::string_view s);

// A non-negative whole number, also written as "8.0" (pandas writes integer
// columns that had a NaN as floats).
std::optional<int64_t> ParseFieldCount(std::string_view s);

// An ISO 8601 date-time, "YYYY-MM-DD HH:MM:SS" (or with a 'T' between date
// and time), optionally with a fraction of a second (".123") and a zone
// ("Z", "+08:00", "-0500", "+08"), as nanoseconds since 1970-01-01
// 00:00:00 UTC. With a zone (the Acme traces of InternLM write "+08:00")
// the time is converted to UTC; without one, the wall-clock time is read
// as UTC: the older traces record local time without a zone, and only
// differences matter to the readers, so the zone cancels out except across
// a DST change (off by at most 1 h). Years 1970-2200 only, so that
// nanoseconds and their differences never overflow int64.
std::optional<int64_t> ParseDateTimeNanos(std::string_view s);
// The same in whole seconds (the fraction dropped).
std::optional<int64_t> ParseDateTime(std::string_view s);

// A trace timestamp in nanoseconds: either a date-time as above or a number
// of seconds (Unix time or a trace-relative offset), 0 <= s < 9e9.
std::optional<int64_t> ParseTimestampNanos(std::string_view s);

// `s` without the one trailing 'Z' (or 'z') that marks a date-time as UTC
// ("2026-12-03T10:00:00Z"); the parsers above take it as well.
std::string_view WithoutUtcSuffix(std::string_view s);

// `s` for an error message: at most 40 characters, control bytes as '?'.
std::string Excerpt(std::string_view s);

// InvalidArgument "FILE:LINE: field: message".
Status TraceError(const std::string& filename, int64_t line, std::string_view field, std::string_view message);

}  // namespace stargate
