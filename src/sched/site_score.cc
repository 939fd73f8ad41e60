#include "sched/site_score.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "model/geo.h"
#include "model/power.h"
#include "model/step_time.h"

namespace stargate::sched {

double RoundTripMs(const SiteState& site, const JobRequest& req) {
  if (!req.has_users) return 0;
  return RoundTripMs(site, req.users_latitude, req.users_longitude);
}

double RoundTripMs(const SiteState& site, double latitude, double longitude) {
  if (!site.located) return 0;
  const double km = model::HaversineKm(latitude, longitude, site.latitude, site.longitude);
  return 2 * model::FiberRouteLatency(km).seconds() * 1e3;
}

double JudgedIntensity(const SiteSignals& s) { return 0.5 * (s.carbon + s.carbon_ahead); }

Candidate Estimate(const ClusterState& state, PoolId p, const JobRequest& req, double span_factor) {
  return Estimate(state, p, req, span_factor, RoundTripMs(state.site(state.pool(p).site), req));
}

namespace {

// Only the draw above idle is the job's: idle devices draw anyway.
double ExtraWattsPerDevice(AcceleratorType type, const JobRequest& req) {
  const AcceleratorSpec& accel = Spec(type);
  return model::DevicePower(accel, req.utilisation).value() - model::DevicePower(accel, 0.0).value();
}

}  // namespace

TypeFactors FactorsFor(AcceleratorType type, const JobRequest& req) {
  TypeFactors f;
  f.runtime_s = req.estimate.seconds() / model::RelativeThroughput(type, req.reference);
  const double joules_per_pue = ExtraWattsPerDevice(type, req) * req.devices_drawn() * f.runtime_s;
  f.co2_per_key = joules_per_pue / 3.6e6;
  f.cost_per_key = joules_per_pue / 3.6e9;
  return f;
}

Candidate Estimate(const ClusterState& state, PoolId p, const JobRequest& req, double span_factor, double rtt_ms) {
  const PoolState& pool = state.pool(p);
  const SiteState& site = state.site(pool.site);
  Candidate c;
  c.pool = p;
  c.runtime_s = span_factor * req.estimate.seconds() / model::RelativeThroughput(pool.type, req.reference);
  c.extra_w = ExtraWattsPerDevice(pool.type, req) * req.devices_drawn() * site.pue;
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
    if (const double bw = BestRate(state, site, d, &from); bw > 0) s += state.WanLatency(from, site) + d.bytes / bw;
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

void ScoreNorms::Include(const Candidate& c) {
  time = std::min(time, c.wait_s + c.move_s + c.runtime_s);
  co2 = std::min(co2, c.co2_g);
  cost = std::min(cost, c.cost_usd);
  runtime = std::min(runtime, c.runtime_s);
}

double LatencyTerm(double rtt_ms, const SchedulerSpec& spec) {
  return spec.weight_latency * rtt_ms / std::max(1e-9, spec.latency_scale.seconds() * 1e3);
}

double ScoreOf(const Candidate& c, const ScoreNorms& norms, const SchedulerSpec& spec) {
  // A term whose best is zero (free power, zero-carbon grid, zero-length
  // job) compares by difference so it still ranks without dividing by 0.
  auto rel = [](double x, double best) { return best > 0 ? x / best : 1.0 + x; };
  return spec.weight_time * rel(c.wait_s + c.move_s + c.runtime_s, norms.time) +
         spec.weight_carbon * rel(c.co2_g, norms.co2) + spec.weight_cost * rel(c.cost_usd, norms.cost) +
         LatencyTerm(c.rtt_ms, spec) + spec.weight_queue * c.queue;
}

bool SameScores(const ScoreNorms& a, const ScoreNorms& b, const SchedulerSpec& spec) {
  return (spec.weight_time == 0 || a.time == b.time) && (spec.weight_carbon == 0 || a.co2 == b.co2) &&
         (spec.weight_cost == 0 || a.cost == b.cost);
}

void ScoreCandidates(std::span<Candidate> candidates, const SchedulerSpec& spec) {
  ScoreNorms norms;
  for (const Candidate& c : candidates) norms.Include(c);
  for (Candidate& c : candidates) c.score = ScoreOf(c, norms, spec);
}

bool PowerAdmits(const ClusterState& state, SiteId site, double claimed_w, double extra_w) {
  const SiteState& s = state.site(site);
  if (s.power_cap_w <= 0) return true;
  return s.signals.facility_w + claimed_w + extra_w <= s.power_cap_w;
}

}  // namespace stargate::sched
