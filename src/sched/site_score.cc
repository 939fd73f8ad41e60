#include "sched/site_score.h"

#include <algorithm>
#include <limits>

#include "model/geo.h"
#include "model/power.h"
#include "model/step_time.h"

namespace stargate::sched {

double RoundTripMs(const SiteState& site, const JobRequest& req) {
  if (!req.has_users || !site.located) return 0;
  const double km = model::HaversineKm(req.users_latitude, req.users_longitude, site.latitude, site.longitude);
  return 2 * model::FiberLatency(km * model::kRouteFactor).seconds() * 1e3;
}

double JudgedIntensity(const SiteSignals& s) { return 0.5 * (s.carbon + s.carbon_ahead); }

Candidate Estimate(const ClusterState& state, PoolId p, const JobRequest& req, double span_factor) {
  const PoolState& pool = state.pool(p);
  const SiteState& site = state.site(pool.site);
  const AcceleratorSpec& accel = Spec(pool.type);
  Candidate c;
  c.pool = p;
  c.runtime_s = span_factor * req.estimate.seconds() / model::RelativeThroughput(pool.type, req.reference);
  // Only the draw above idle is the job's: idle devices draw anyway.
  const double per_device_w =
      model::DevicePower(accel, req.utilisation).value() - model::DevicePower(accel, 0.0).value();
  c.extra_w = per_device_w * req.accelerators * site.pue;
  c.energy_j = c.extra_w * c.runtime_s;
  c.co2_g = c.energy_j / 3.6e6 * JudgedIntensity(site.signals);  // J -> kWh x g/kWh
  c.cost_usd = c.energy_j / 3.6e9 * site.signals.price;          // J -> MWh x USD/MWh
  c.rtt_ms = RoundTripMs(site, req);
  return c;
}

void ScoreCandidates(std::span<Candidate> candidates, const SchedulerSpec& spec) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double best_t = kInf, best_c = kInf, best_k = kInf;
  for (const Candidate& c : candidates) {
    best_t = std::min(best_t, c.wait_s + c.runtime_s);
    best_c = std::min(best_c, c.co2_g);
    best_k = std::min(best_k, c.cost_usd);
  }
  // A term whose best is zero (free power, zero-carbon grid, zero-length
  // job) compares by difference so it still ranks without dividing by 0.
  auto rel = [](double x, double best) { return best > 0 ? x / best : 1.0 + x; };
  for (Candidate& c : candidates) {
    c.score = spec.weight_time * rel(c.wait_s + c.runtime_s, best_t) + spec.weight_carbon * rel(c.co2_g, best_c) +
              spec.weight_cost * rel(c.cost_usd, best_k) +
              spec.weight_latency * c.rtt_ms / std::max(1e-9, spec.latency_scale.seconds() * 1e3) +
              spec.weight_queue * c.queue;
  }
}

bool PowerAdmits(const ClusterState& state, SiteId site, double claimed_w, double extra_w) {
  const SiteState& s = state.site(site);
  if (s.power_cap_w <= 0) return true;
  return s.signals.facility_w + claimed_w + extra_w <= s.power_cap_w;
}

}  // namespace stargate::sched
