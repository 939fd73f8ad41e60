#include "sched/carbon_cap.h"

#include "sched/site_score.h"

namespace stargate::sched {

double CarbonPowerCap(const SchedulerSpec& spec, const SiteState& site, const JobRequest& req) {
  const auto& cap = spec.carbon_cap;
  if (!cap.enabled || req.priority > 0 || req.has_users) return 0;
  return JudgedIntensity(site.signals) >= cap.above_g_per_kwh ? cap.tdp_fraction : 0;
}

}  // namespace stargate::sched
