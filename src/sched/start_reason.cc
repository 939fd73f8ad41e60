#include "sched/start_reason.h"

#include <fmt/format.h>

#include <charconv>
#include <iterator>

namespace stargate::sched {

void AppendFixed(std::string* out, double v, int precision) {
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
