#include "core/fixed_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace stargate {
namespace {

constexpr uint64_t kPow10[] = {1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};
constexpr int kFastPrecision = static_cast<int>(std::size(kPow10)) - 1;

}  // namespace

// The figure times 10^precision rounded to an integer. printf's digits
// are the exact decimal value v x 10^p rounded to the nearest integer
// (ties to even). The product x, rounded to a double, is on the same side
// of every half-integer as the exact value: a half-integer below 2^52 is
// a double itself (10^p is exact too), and rounding to nearest never
// crosses a double. So x rounds to the same integer, unless x is that
// half-integer (the exact value may be either side, or on it): then
// nothing is written and the caller falls back.
char* WriteFixedFast(double v, int precision, bool zero_sign, char* out) {
  if (precision < 0 || precision > kFastPrecision) return nullptr;
  const double x = std::abs(v) * static_cast<double>(kPow10[precision]);
  if (!(x < 1e15)) return nullptr;  // (NaN too)
  const double whole = std::floor(x);
  const double frac = x - whole;  // exact below 2^52
  if (frac == 0.5) return nullptr;
  uint64_t rest = static_cast<uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
  if (std::signbit(v) && (zero_sign || rest != 0)) *out++ = '-';
  // Digits forward: count them first (at least one before the point).
  int digits = 1;
  for (uint64_t tens = 10; digits < 16 && rest >= tens; tens *= 10) ++digits;
  digits = std::max(digits, precision + 1);
  char* const end = out + digits + (precision > 0 ? 1 : 0);
  char* p = end;
  for (int i = 0; i < precision; ++i) {
    *--p = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  if (precision > 0) *--p = '.';
  while (p > out) {
    *--p = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  return end;
}

std::string_view FixedText(double v, int precision, FixedScratch& scratch) {
  precision = std::clamp(precision, 0, kMaxFixedPrecision);
  if (const char* end = WriteFixedFast(v, precision, /*zero_sign=*/true, scratch.data())) {
    return {scratch.data(), static_cast<size_t>(end - scratch.data())};
  }
  // (The scratch holds any finite double at these precisions.)
  const std::to_chars_result r =
      std::to_chars(scratch.data(), scratch.data() + scratch.size(), v, std::chars_format::fixed, precision);
  return {scratch.data(), static_cast<size_t>(r.ptr - scratch.data())};
}

}  // namespace stargate
