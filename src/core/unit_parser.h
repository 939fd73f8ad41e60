// File: unit_parser.h
// Parsers for the unit strings people write in scenario and job YAML:
// "1.5h", "10.2kW", "400Gbps", "141GiB", "405B". Pure functions over text;
// thread-safe; no exceptions.
//
// Common grammar: an optional sign, a decimal number (digits, optional
// fraction, optional exponent, '_' allowed between digits as in YAML 1.1:
// "10_000"), optional spaces, then a unit suffix. Units are case-sensitive
// where SI makes them so ("m" minute vs "M"; "b" bit vs "B" byte). A
// duration, power, bandwidth or size needs its unit: a plain number is
// refused (zero excepted), since a reader cannot tell 60 W from 60 MW; a
// count may be plain (ones).
//
// Every parser but ParseNumber rejects negative values; all reject NaN,
// infinity and anything that would overflow the result, so callers only
// check their own field range. Errors are InvalidArgument naming the text and
// the accepted units, without a file position (the YAML layer prefixes
// "FILE:LINE:COL: FIELD: ").
#pragma once

#include <string_view>

#include "core/status.h"
#include "core/units.h"

namespace stargate {

// "500ms", "5us", "90s", "10m", "1.5h", "54d", "2w", "1y" (365 days);
// also "ns", "min", "hr". Integer inputs convert
// exactly; fractional ones round to the nearest nanosecond. Values past
// ~292 years (int64 nanoseconds) are rejected.
StatusOr<Duration> ParseDuration(std::string_view text);

// Watts: "700W", "10.2kW", "1200MW", "10GW" (also "TW").
StatusOr<double> ParsePower(std::string_view text);

// Bytes per second. Bits: "25Gb/s", "400Gbps" (k/K, M, G, T prefixes).
// Bytes: "100GB/s", "1.8TB/s", "100GBps", binary "10GiB/s".
StatusOr<double> ParseBandwidth(std::string_view text);

// Bytes: "80GB", "5TB", "141GiB" (k/K, M, G, T, P, E and Ki..Ei).
StatusOr<double> ParseBytes(std::string_view text);

// A dimensionless count: "405e9", "405B" (B = billion here), "15.6T",
// "7M", "1.5k"/"1.5K", "2G", "1P". Plain number = ones.
StatusOr<double> ParseCount(std::string_view text);

// A plain real number, sign allowed ("-3", "1.5e3", "10_000"); no suffix.
StatusOr<double> ParseNumber(std::string_view text);

}  // namespace stargate
