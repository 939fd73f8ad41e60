#include "sched/stargate_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "sched/backfill.h"
#include "sched/carbon_cap.h"
#include "sched/deferral.h"
#include "sched/placement.h"
#include "sched/preemption.h"

namespace stargate::sched {
namespace {

std::string Reason(const ClusterState& state, const Candidate& c, size_t candidates, bool backfilled,
                   const JobRequest& req) {
  const PoolState& pool = state.pool(c.pool);
  const SiteState& site = state.site(pool.site);
  const SiteSignals& sig = site.signals;
  return fmt::format(
             "{} {}: best of {} (score {:.3f}; est. {:.2f} h, {:.1f} kgCO2, ${:.0f}, grid {:.0f} g/kWh{}, {:.0f} "
             "$/MWh{}){}",
             site.name, Name(pool.type), candidates, c.score, c.runtime_s / 3600.0, c.co2_g / 1e3, c.cost_usd,
             sig.carbon, sig.carbon_stale ? " (stale: the site's mean)" : "", sig.price,
             sig.price_stale ? " (stale: the site's mean)" : "", backfilled ? "; backfilled" : "") +
         (req.data.empty() ? "" : MoveReason(state, pool.site, req));
}

// Moves the best-scored candidate of [from, end) to `from`, keeping the
// others in order: applied at 0, 1, 2, ... it gives exactly the order a
// stable sort by score would, but a job that places in its best pool (the
// usual case) costs one scan, not a sort of every candidate.
void BringBestTo(std::vector<Candidate>& candidates, size_t from) {
  auto best = std::min_element(candidates.begin() + static_cast<std::ptrdiff_t>(from), candidates.end(),
                               [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
  std::rotate(candidates.begin() + static_cast<std::ptrdiff_t>(from), best, best + 1);
}

}  // namespace

double StargatePolicy::RoundTrip(const ClusterState& state, SiteId site, const JobRequest& req) {
  if (!req.has_users) return 0;
  const std::pair<float, float> at{req.users_latitude, req.users_longitude};
  if (round_trip_row_ == nullptr || round_trip_at_ != at) {
    // A network whose jobs come from many places keeps the cache bounded.
    constexpr size_t kMaxPlaces = 64;
    if (round_trips_.size() >= kMaxPlaces) round_trips_.clear();
    round_trip_row_ = &round_trips_[at];
    round_trip_at_ = at;
    if (round_trip_row_->empty()) {
      round_trip_row_->assign(state.sites().size(), std::numeric_limits<double>::quiet_NaN());
    }
  }
  double& rtt = (*round_trip_row_)[site.value()];
  if (std::isnan(rtt)) rtt = RoundTripMs(state.site(site), req);
  return rtt;
}

bool StargatePolicy::Allows(const ClusterState& state, PoolId p, const JobRequest& req) {
  return PoolAllows(state, p, req, [&](SiteId site) { return RoundTrip(state, site, req); });
}

bool StargatePolicy::WorthWaiting(const ClusterState& state, const JobRequest& req, Time now,
                                  Reservation* reservation) {
  const double budget = req.resumed ? spec_.resume_wait_budget : spec_.wait_budget;
  if (budget <= 0) return false;
  double best_runtime = candidates_.front().runtime_s;
  for (const Candidate& c : candidates_) best_runtime = std::min(best_runtime, c.runtime_s);
  const size_t now_count = candidates_.size();
  // The budget covers the job's whole time in the queue, so a job that has
  // already waited (for room, or for a better pool in earlier passes) does
  // not keep chasing a pool that keeps slipping away.
  const Time since = req.resumed ? req.queued_at : req.submit;
  const double max_wait_s = std::min(budget * best_runtime, spec_.wait_cap.seconds()) - (now - since).seconds();
  if (max_wait_s <= 0) return false;
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (can_start_[i] || !Allows(state, p, req)) continue;
    if (reservation->valid && reservation->pool == p) continue;  // promised to the head
    const PoolState& pool = state.pool(p);
    const GangShape shape = ShapeFor(req, pool.per_node);
    const int64_t need = shape.devices();
    // Jobs ahead of this one that chose to wait for the pool this pass are
    // served first, so this one needs room after theirs: a popular clean
    // pool's wait grows with its queue, and past the budget jobs start
    // elsewhere instead of leaving capacity idle.
    const Time at =
        EarliestRoom(state, p, need + wait_demand_[i], claims_, now, nullptr, now + Duration::FromSeconds(max_wait_s));
    if (at == Time::Never() || at <= now) continue;  // not in time, or held back by power or shape
    const double wait_s = (at - now).seconds();
    // Which nodes free up is not known ahead (the calendar counts devices),
    // so the span is priced as the best case: its tightest span there
    // (SpanFactor 1).
    Candidate c = Estimate(state, p, req, 1.0, RoundTrip(state, pool.site, req));
    c.wait_s = wait_s;
    c.queue = static_cast<double>(wait_demand_[i]) / static_cast<double>(std::max<int64_t>(1, pool.total_devices()));
    candidates_.push_back(c);
  }
  if (candidates_.size() == now_count) return false;
  ScoreCandidates(candidates_, spec_);
  const auto best = std::min_element(candidates_.begin(), candidates_.end(),
                                     [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
  const bool wait = best - candidates_.begin() >= static_cast<std::ptrdiff_t>(now_count);
  if (wait) {
    const int64_t need = ShapeFor(req, state.pool(best->pool).per_node).devices();
    if (!reservation->valid) {
      // Hold the better pool for this job, as for a blocked head.
      reservation->valid = true;
      reservation->pool = best->pool;
      reservation->shadow = now + Duration::FromSeconds(best->wait_s);
      EarliestRoom(state, best->pool, need, claims_, now, &reservation->extra);
    }
    wait_demand_[best->pool.value()] += need;
  } else {  // back to the now-candidates, best first (the rest in turn: BringBestTo)
    candidates_.resize(now_count);
    ScoreCandidates(candidates_, spec_);
    BringBestTo(candidates_, 0);
  }
  return wait;
}

Decisions StargatePolicy::Schedule(const ClusterState& state, const Queue& queue, Time now) {
  Decisions out;
  claims_.Reset(state);
  site_claimed_w_.assign(state.sites().size(), 0.0);
  can_start_.assign(state.pools().size(), 0);
  wait_demand_.assign(state.pools().size(), 0);
  PlaceRepairs(state, queue, claims_, out);

  Reservation reservation;
  // Jobs looked at that did not start (waiting, deferred, blocked): past
  // the depth the pass ends, so a deep backlog costs a pass a bounded
  // amount. Deep passes are rationed in simulated (or wall) time.
  int depth = spec_.queue_depth;
  if (now >= next_deep_pass_) {
    depth = spec_.backfill_depth;
    next_deep_pass_ = now + spec_.backfill_interval;
  }
  int not_started = 0;
  order_.Begin(state, queue, spec_.fair_share);
  preempted_.clear();
  round_trips_.clear();
  round_trip_row_ = nullptr;
  while (const JobRequest* next = order_.Next()) {
    const JobRequest& req = *next;
    if (not_started > 0 && not_started >= depth) break;  // depth 0 = stop at the first
    if (req.spread_sites) {
      if (!PlaceSpreadJob(state, req, out)) ++not_started;
      continue;
    }
    // 1. Filter: type, residency, capacity now, power cap, the reservation.
    candidates_.clear();
    std::fill(can_start_.begin(), can_start_.end(), 0);
    for (size_t i = 0; i < state.pools().size(); ++i) {
      const PoolId p(static_cast<uint16_t>(i));
      if (!Allows(state, p, req)) continue;
      const PoolState& pool = state.pool(p);
      const GangShape shape = ShapeFor(req, pool.per_node);
      const int64_t need = shape.devices();
      if (pool.free_devices - claims_.OnPool(p) - static_cast<int64_t>(pool.hot_spares) * pool.per_node < need ||
          !claims_.HasNodesWithFree(state, p, shape.per_node, shape.nodes)) {
        continue;
      }
      // The span the gang would get here now, priced by the step-time model.
      const double span = spec_.topology ? SpanFactor(state, p, shape, claims_, req) : 1.0;
      Candidate c = Estimate(state, p, req, span, RoundTrip(state, pool.site, req));
      c.queue = static_cast<double>(wait_demand_[i]) / static_cast<double>(std::max<int64_t>(1, pool.total_devices()));
      if (spec_.power_cap && !PowerAdmits(state, pool.site, site_claimed_w_[pool.site.value()], c.extra_w)) {
        continue;
      }
      if (!reservation.Allows(p, now, c.runtime_s, need)) continue;
      candidates_.push_back(c);
      can_start_[i] = 1;
    }
    // 2. Score and place in the best pool that has the nodes (candidates in
    // score order, ties in pool order, brought forward one at a time).
    ScoreCandidates(candidates_, spec_);
    if (!candidates_.empty()) {
      BringBestTo(candidates_, 0);
      if (std::optional<Defer> defer = AdviseDeferral(state, req, candidates_.front(), spec_, now, claims_)) {
        out.items.push_back(std::move(*defer));
        ++not_started;
        continue;
      }
      if (WorthWaiting(state, req, now, &reservation)) {
        ++not_started;
        continue;
      }
    }
    bool placed = false;
    for (size_t k = 0; k < candidates_.size(); ++k) {
      if (k > 0) BringBestTo(candidates_, k);
      const Candidate& c = candidates_[k];
      const PoolState& pool = state.pool(c.pool);
      const GangShape shape = ShapeFor(req, pool.per_node);
      std::vector<NodeId> nodes = spec_.topology ? FindGangNodes(state, c.pool, shape, claims_, pool.hot_spares)
                                                 : FindNodes(state, c.pool, shape, claims_, pool.hot_spares);
      if (nodes.empty()) continue;
      const int64_t need = shape.devices();
      for (NodeId n : nodes) claims_.Add(state, c.pool, n.value(), shape.per_node);
      site_claimed_w_[pool.site.value()] += c.extra_w;
      reservation.Take(c.pool, now, c.runtime_s, need);
      order_.Charge(TenantUsage::Of(pool.type, need));
      const double cap = CarbonPowerCap(spec_, state.site(pool.site), req);
      std::string reason = Reason(state, c, candidates_.size(), reservation.valid, req);
      if (cap > 0) reason += fmt::format("; power capped at {:.0f}% of TDP", cap * 100);
      out.items.push_back(Start{req.id, pool.site, c.pool, std::move(nodes), shape.per_node, std::move(reason), cap});
      placed = true;
      break;
    }
    if (placed) continue;
    ++not_started;
    // 3. Cannot start now: reject what can never fit, else reserve for the
    // head and backfill behind it (or block, with backfill off).
    if (std::optional<Reject> never = NeverFits(state, req)) {
      out.items.push_back(std::move(*never));
      continue;
    }
    if (reservation.valid) {
      // Another job holds the reservation. This one may still stop gangs
      // for itself (victims not yet taken this pass): urgent jobs arriving
      // together each make their own room at once, instead of one per
      // pass, each waiting for the one before it to start.
      if (spec_.preemption && req.priority > 0) {
        Reservation own = Reserve(state, req, claims_, now);
        if (!own.valid || own.shadow - now > spec_.preempt_after) MakeRoom(state, req, now, &own, out);
      }
      continue;
    }
    reservation = Reserve(state, req, claims_, now);
    if (spec_.preemption && req.priority > 0 &&
        (!reservation.valid || reservation.shadow - now > spec_.preempt_after)) {
      MakeRoom(state, req, now, &reservation, out);
    }
    if (!spec_.backfill || !reservation.valid) break;
  }
  return out;
}

bool StargatePolicy::PlaceSpreadJob(const ClusterState& state, const JobRequest& req, Decisions& out) {
  // Cleanest (by the job's estimated emissions there) sites first; rank 0,
  // usually the coordinator, at the best one.
  auto rank = [&](PoolId p) { return Estimate(state, p, req).co2_g; };
  const GangShape shape = ShapeFor(req, 1);  // fixed per-node count: the pool size does not matter
  std::vector<NodeId> nodes = PlaceSpread(state, req, shape, claims_, rank);
  if (nodes.empty()) {
    if (std::optional<Reject> never = NeverFitsSpread(state, req)) out.items.push_back(std::move(*never));
    return false;
  }
  std::string where;
  for (NodeId n : nodes) where += (where.empty() ? "" : ", ") + state.site(state.pool(state.PoolOf(n)).site).name;
  const PoolId pool = state.PoolOf(nodes.front());
  out.items.push_back(Start{req.id, state.pool(pool).site, pool, std::move(nodes), shape.per_node,
                            fmt::format("spread over {} sites, cleanest first: {}", shape.nodes, where)});
  return true;
}

void StargatePolicy::MakeRoom(const ClusterState& state, const JobRequest& req, Time now, Reservation* reservation,
                              Decisions& out) {
  // Stopping gangs only helps if their warning ends before room comes anyway.
  if (reservation->valid && reservation->shadow <= now + spec_.preempt_warning) return;
  std::optional<PreemptionPlan> plan = PlanPreemption(state, req, claims_, now, preempted_);
  // No plan, or the gangs already draining are enough: Reserve() has seen
  // their ends (the drivers move them to the end of the warning).
  if (!plan.has_value() || plan->victims.empty()) return;
  for (JobId victim : plan->victims) {
    preempted_.insert(victim.value());
    const RunningGang* g = state.Running(victim);
    out.items.push_back(
        Preempt{victim, spec_.preempt_warning,
                fmt::format("preempted for job {} (priority {} over {}); loses {:.0f} s since its last checkpoint",
                            req.id.value(), req.priority, g->priority, g->LostIfStoppedAt(now).seconds())});
  }
  // Hold the pool for the job until the victims are gone.
  reservation->valid = true;
  reservation->pool = plan->pool;
  reservation->shadow = now + spec_.preempt_warning;
  reservation->extra = 0;
}

}  // namespace stargate::sched
