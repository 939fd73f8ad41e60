// File: fixed_text.h
// A double as text with a fixed number of digits after the point: the
// digits printf's "%.*f" (and fmt's "{:.Nf}") print, the exact binary
// value rounded to nearest, ties to even. Reports and audit texts print
// millions of figures (a row per site and hour, a reason per start), and
// the general float formatters cost several times the fast path here.
// Pure; thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace stargate {

// Room for any finite double at any precision up to kMaxFixedPrecision
// (309 integer digits, the point, the sign).
inline constexpr int kMaxFixedPrecision = 100;
using FixedScratch = std::array<char, 416>;

// `v` with `precision` digits after the point (taken into [0,
// kMaxFixedPrecision]), written into `scratch`; "inf", "-inf", "nan" as
// printf writes them.
std::string_view FixedText(double v, int precision, FixedScratch& scratch);

// FixedText's fast path, written at `out` (room for a sign, 16 digits
// and the point): the end, or null, with nothing written, where the
// digits need the slow path (a precision past 9, a product by 10^precision
// of 1e15 or more or exactly half-way, not a finite figure).
// `zero_sign`: whether a negative figure that prints as zero keeps its
// minus sign, as printf's does (FixedText) or not (a report's).
char* WriteFixedFast(double v, int precision, bool zero_sign, char* out);

// Appends FixedText(v, precision) to `out`.
inline void AppendFixed(std::string* out, double v, int precision) {
  FixedScratch scratch;
  out->append(FixedText(v, precision, scratch));
}

}  // namespace stargate
