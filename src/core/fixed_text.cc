#include "core/fixed_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace stargate {
namespace {

constexpr uint64_t kPow10[] = {1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};
constexpr int kFastPrecision = static_cast<int>(std::size(kPow10)) - 1;

// The fast path: the figure times 10^precision rounded to an integer.
// printf's digits are the exact decimal value v x 10^p rounded to the
// nearest integer (ties to even). The product x, rounded to a double, is
// on the same side of every half-integer as the exact value: a
// half-integer below 2^52 is a double itself (10^p is exact too), and
// rounding to nearest never crosses a double. So x rounds to the same
// integer, unless x is that half-integer (the exact value may be either
// side, or on it): then nothing is written and the caller falls back.
char* FastFixed(double v, int precision, char* end) {
  if (precision < 0 || precision > kFastPrecision) return nullptr;
  const double x = std::abs(v) * static_cast<double>(kPow10[precision]);
  if (!(x < 1e15)) return nullptr;  // (NaN too)
  const double whole = std::floor(x);
  const double frac = x - whole;  // exact below 2^52
  if (frac == 0.5) return nullptr;
  uint64_t rest = static_cast<uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
  char* p = end;
  for (int i = 0; i < precision; ++i) {
    *--p = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  if (precision > 0) *--p = '.';
  do {
    *--p = static_cast<char>('0' + rest % 10);
    rest /= 10;
  } while (rest != 0);
  if (std::signbit(v)) *--p = '-';
  return p;
}

}  // namespace

std::string_view FixedText(double v, int precision, FixedScratch& scratch) {
  precision = std::clamp(precision, 0, kMaxFixedPrecision);
  char* const end = scratch.data() + scratch.size();
  if (const char* begin = FastFixed(v, precision, end)) return {begin, static_cast<size_t>(end - begin)};
  // (The scratch holds any finite double at these precisions.)
  const std::to_chars_result r = std::to_chars(scratch.data(), end, v, std::chars_format::fixed, precision);
  return {scratch.data(), static_cast<size_t>(r.ptr - scratch.data())};
}

}  // namespace stargate
