#include "sched/site_score.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

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
  return Estimate(state, p, req, span_factor, RoundTripMs(state.site(state.pool(p).site), req));
}

Candidate Estimate(const ClusterState& state, PoolId p, const JobRequest& req, double span_factor, double rtt_ms) {
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
  c.rtt_ms = rtt_ms;
  if (!req.data.empty()) c.move_s = MoveSeconds(state, pool.site, req);
  return c;
}

namespace {

// The fastest link from a holder of `d` to `site` (0: `site` holds it, or
// no holder is known), and that holder.
double BestRate(const ClusterState& state, SiteId site, const DataNeed& d, SiteId* from) {
  double best = 0;
  for (SiteId h : d.at) {
    if (h == site) return 0;
    if (const double bw = state.WanBytesPerSec(h, site); bw > best) {
      best = bw;
      *from = h;
    }
  }
  return best;
}

}  // namespace

double MoveSeconds(const ClusterState& state, SiteId site, const JobRequest& req) {
  double s = 0;
  for (const DataNeed& d : req.data) {
    SiteId from;
    if (const double bw = BestRate(state, site, d, &from); bw > 0) s += d.bytes / bw;
  }
  return s;
}

std::string MoveReason(const ClusterState& state, SiteId site, const JobRequest& req) {
  std::string out;
  for (const DataNeed& d : req.data) {
    SiteId from;
    const double bw = BestRate(state, site, d, &from);
    if (bw <= 0) continue;
    const double tb = d.bytes / 1e12;
    const std::string size = tb >= 1 ? fmt::format("{:.1f} TB", tb) : fmt::format("{:.0f} GB", d.bytes / 1e9);
    const double h = d.bytes / bw / 3600;
    if (d.checkpoint) {
      out += fmt::format("; checkpoint at {}, {}, {} to stage", state.site(from).name, size,
                         h >= 1 ? fmt::format("{:.1f} h", h) : fmt::format("{:.0f} min", h * 60));
    } else {
      out += fmt::format("; data {} at {}, {}, {:.1f} h to move", d.name, state.site(from).name, size, h);
    }
  }
  return out;
}

void ScoreCandidates(std::span<Candidate> candidates, const SchedulerSpec& spec) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double best_t = kInf, best_c = kInf, best_k = kInf;
  for (const Candidate& c : candidates) {
    best_t = std::min(best_t, c.wait_s + c.move_s + c.runtime_s);
    best_c = std::min(best_c, c.co2_g);
    best_k = std::min(best_k, c.cost_usd);
  }
  // A term whose best is zero (free power, zero-carbon grid, zero-length
  // job) compares by difference so it still ranks without dividing by 0.
  auto rel = [](double x, double best) { return best > 0 ? x / best : 1.0 + x; };
  for (Candidate& c : candidates) {
    c.score = spec.weight_time * rel(c.wait_s + c.move_s + c.runtime_s, best_t) +
              spec.weight_carbon * rel(c.co2_g, best_c) + spec.weight_cost * rel(c.cost_usd, best_k) +
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
