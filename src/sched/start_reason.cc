#include "sched/start_reason.h"

#include "core/fixed_text.h"

namespace stargate::sched {

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
