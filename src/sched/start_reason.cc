#include "sched/start_reason.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>

namespace stargate::sched {

namespace {

// AppendFixed for a figure whose digits rounding a double product gets
// right. printf's digits are the exact decimal value v x 10^p rounded to
// the nearest integer (ties to even). The product x, rounded to a double,
// is on the same side of every half-integer as the exact value: a
// half-integer below 2^52 is a double itself, and rounding to nearest
// never crosses a double. So x rounds to the same integer, unless x is
// that half-integer (the exact value may be either side, or on it): then
// false and nothing appended.
bool AppendFixedFast(std::string* out, double v, int precision) {
  static constexpr uint64_t kPow10[] = {1, 10, 100, 1000};
  if (precision < 0 || precision > 3) return false;
  const double x = std::abs(v) * static_cast<double>(kPow10[precision]);
  if (!(x < 1e15)) return false;  // (NaN too)
  const double whole = std::floor(x);
  const double frac = x - whole;  // exact below 2^52
  if (frac == 0.5) return false;
  const uint64_t n = static_cast<uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
  char buf[32];
  char* end = buf + sizeof(buf);
  char* p = end;
  uint64_t rest = n;
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
  out->append(p, end);
  return true;
}

}  // namespace

void AppendFixed(std::string* out, double v, int precision) {
  if (AppendFixedFast(out, v, precision)) return;
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, precision);
  if (r.ec == std::errc()) {
    out->append(buf, r.ptr);
  } else {  // beyond 64 characters (|v| over 1e60): as before, by fmt
    fmt::format_to(std::back_inserter(*out), "{:.{}f}", v, precision);
  }
}

std::string StartReasonText(const StartFigures& f) {
  constexpr std::string_view kStale = " (stale: the site's mean)";
  std::string out;
  out.reserve(160);
  out.append(f.site).append(" ").append(f.type).append(": best score ");
  AppendFixed(&out, f.score, 3);
  out.append(" (est. ");
  AppendFixed(&out, f.runtime_s / 3600.0, 2);
  out.append(" h, ");
  AppendFixed(&out, f.co2_g / 1e3, 1);
  out.append(" kgCO2, $");
  AppendFixed(&out, f.cost_usd, 0);
  out.append(", grid ");
  AppendFixed(&out, f.carbon, 0);
  out.append(" g/kWh");
  if (f.carbon_stale) out.append(kStale);
  out.append(", ");
  AppendFixed(&out, f.price, 0);
  out.append(" $/MWh");
  if (f.price_stale) out.append(kStale);
  out.append(")");
  if (f.backfilled) out.append("; backfilled");
  return out;
}

}  // namespace stargate::sched
