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
#include "sched/start_reason.h"

namespace stargate::sched {
namespace {

std::string Reason(const ClusterState& state, const Candidate& c, bool backfilled, const JobRequest& req) {
  const PoolState& pool = state.pool(c.pool);
  const SiteState& site = state.site(pool.site);
  const SiteSignals& sig = site.signals;
  std::string text = StartReasonText({site.name, Name(pool.type), c.score, c.runtime_s, c.co2_g, c.cost_usd, sig.carbon,
                                      sig.price, sig.carbon_stale, sig.price_stale, backfilled});
  if (!req.data.empty()) text += MoveReason(state, pool.site, req);
  return text;
}

// The least room a pool with nodes of `fewest` to `most` devices needs for
// `req`'s gang to fit now (WakeIndex::Room), taking the pool most
// favourable to it.
int64_t RoomNeeded(const JobRequest& req, int fewest, int most) {
  if (req.fixed_per_node > 0) return WakeIndex::DevicesOnANode(req.fixed_per_node);
  if (req.accelerators <= fewest) return WakeIndex::DevicesOnANode(req.accelerators);  // one node anywhere
  if (req.accelerators >= most) return WakeIndex::WholeNodes(ShapeFor(req.accelerators, most).nodes);
  return WakeIndex::DevicesOnANode(1);
}

}  // namespace

double StargatePolicy::RoundTrip(const ClusterState& state, SiteId site, const JobRequest& req) {
  if (!req.has_users) return 0;
  const std::pair<float, float> at{req.users_latitude, req.users_longitude};
  if (round_trip_row_ == nullptr || round_trip_at_ != at || round_trip_cleared_ != orders_.places_cleared()) {
    round_trip_row_ = &orders_.RoundTrips(state, at.first, at.second);
    round_trip_at_ = at;
    round_trip_cleared_ = orders_.places_cleared();
  }
  return (*round_trip_row_)[site.value()];
}

bool StargatePolicy::Allows(const ClusterState& state, PoolId p, const JobRequest& req) {
  return PoolAllows(state, p, req, [&](SiteId site) { return RoundTrip(state, site, req); });
}

PoolJudge::Verdict StargatePolicy::Judge::Now(PoolId p, Candidate* c) {
  if (!policy.Allows(state, p, req)) return Verdict::kNo;
  const PoolState& pool = state.pool(p);
  const GangShape shape = ShapeFor(req, pool.per_node);
  int64_t need = shape.devices();
  const Claims& claims = policy.claims_;
  if (req.share_milli > 0) {  // a share: room in an open slot, or a device for a new one
    const std::optional<ShareSpot> spot = FindShare(state, p, req.share_milli, claims, pool.hot_spares);
    if (!spot) return Verdict::kNotNow;
    need = spot->opens ? 1 : 0;
  } else if (claims.Unreserved(state, p) < need || !claims.HasNodesWithFree(state, p, shape.per_node, shape.nodes)) {
    return Verdict::kNotNow;
  }
  // The span the gang would get here now, priced by the step-time model.
  const double span = policy.spec_.topology ? SpanFactor(state, p, shape, claims, req) : 1.0;
  *c = Estimate(state, p, req, span, policy.RoundTrip(state, pool.site, req));
  c->queue = policy.QueueAt(state, p);
  if (policy.spec_.power_cap && !PowerAdmits(state, pool.site, policy.site_claimed_w_[pool.site.value()], c->extra_w)) {
    return Verdict::kNotNow;
  }
  if (!reservation.Allows(p, now, c->runtime_s, need) || !policy.HeldAllow(p, now, c->runtime_s, need)) {
    return Verdict::kNotNow;
  }
  return Verdict::kNow;
}

bool StargatePolicy::Judge::Later(PoolId p, Candidate* c) {
  if (reservation.valid && reservation.pool == p) return false;  // promised to the head
  const PoolState& pool = state.pool(p);
  const int64_t need = ShapeFor(req, pool.per_node).devices();
  // Jobs ahead of this one that chose to wait for the pool this pass are
  // served first, so this one needs room after theirs: a popular clean
  // pool's wait grows with its queue, and past the budget jobs start
  // elsewhere instead of leaving capacity idle.
  const Time at = EarliestRoom(state, p, need + policy.wait_demand_[p.value()], policy.claims_, now, nullptr,
                               now + Duration::FromSeconds(max_wait_s));
  if (at == Time::Never() || at <= now) return false;  // not in time, or held back by power or shape
  // Which nodes free up is not known ahead (the calendar counts devices),
  // so the span is priced as the best case: its tightest span there
  // (SpanFactor 1).
  *c = Estimate(state, p, req, 1.0, policy.RoundTrip(state, pool.site, req));
  c->wait_s = (at - now).seconds();
  c->queue = policy.QueueAt(state, p);
  return true;
}

double StargatePolicy::QueueAt(const ClusterState& state, PoolId p) const {
  return static_cast<double>(wait_demand_[p.value()]) /
         static_cast<double>(std::max<int64_t>(1, state.pool(p).total_devices()));
}

bool StargatePolicy::Bounded(const ClusterState& state, const JobRequest& req) const {
  // The bounds hold when a job's figures on a pool are its type's factors
  // times the pool's keys, or more (a training span stretches them): not
  // for a job with data to bring, whose time depends on where the data is.
  // Nor for a share, whose room may be in an open slot of a pool with no
  // free device (the room index counts devices).
  return spec_.bounded_search && req.data.empty() && req.share_milli == 0 && !orders_.negative_keys() &&
         state.pools().size() >= static_cast<size_t>(spec_.bounded_search_min_pools);
}

bool StargatePolicy::Searches(const JobRequest& req, AcceleratorType type) const {
  return (req.accel_mask & MaskOf(type)) != 0 && !orders_.OfType(type).empty();
}

int64_t StargatePolicy::RoomNeededOn(const JobRequest& req, AcceleratorType type) const {
  return RoomNeeded(req, orders_.MinPerNode(type), orders_.MaxPerNode(type));
}

bool StargatePolicy::AnyRoom(const JobRequest& req) const {
  for (int t = 0; t < kNumAcceleratorTypes; ++t) {
    const auto type = static_cast<AcceleratorType>(t);
    if (!Searches(req, type)) continue;
    if (orders_.ByBoth(type).room.Least(1) <= RoomNeededOn(req, type)) return true;
  }
  return false;
}

void StargatePolicy::BeginSearch(const ClusterState& state, Judge* judge) {
  const JobRequest& req = judge->req;
  if (!Bounded(state, req)) {
    search_.BeginFull(state.pools().size(), orders_.All(), spec_, judge);
    return;
  }
  std::vector<CandidateSearch::TypeOrders>& types = type_orders_;
  types.clear();
  const bool rtt = req.has_users && (spec_.weight_latency > 0 || req.max_rtt > Duration::Zero());
  const bool limited = req.has_users && req.max_rtt > Duration::Zero();
  const double limit = limited ? req.max_rtt.seconds() * 1e3 : std::numeric_limits<double>::infinity();
  for (int t = 0; t < kNumAcceleratorTypes; ++t) {
    const auto type = static_cast<AcceleratorType>(t);
    if (!Searches(req, type)) continue;
    // Only some sites allowed: only their pools (none of the type: no
    // walk at all).
    const PoolOrders::Reach* fenced = req.allowed == nullptr ? nullptr : &orders_.Within(state, type, req.allowed);
    if (fenced != nullptr && fenced->both.pools.empty()) continue;
    CandidateSearch::TypeOrders o;
    // A round-trip limit: only the pools in reach; the round-trip order is
    // walked too when it is weighed. (The pools allowed and in reach are
    // left to the judge to tell apart.)
    if (limited) {
      o.both = &orders_.Ball(state, type, req.users_latitude, req.users_longitude, limit).both;
      o.reach_only = true;
    } else if (fenced != nullptr) {
      o.both = &fenced->both;
    } else {
      // The network's own orders by each key: its norms walk these (a
      // walk down one key skips the pools without room for the job at
      // each step, where the plane's cells are bounded by pools with room
      // for a device, and in a busy pass the plane's walk met many cells
      // for each member). One pair per type, sorted hourly; the balls and
      // allowed-site sets, many and each refreshed hourly, keep only a
      // plane.
      o.carbon = &orders_.ByCarbon(type);
      o.cost = &orders_.ByCost(type);
      o.both = &orders_.ByBoth(type);
    }
    // (Not for a ball whose plane bounds the round trip itself: the search
    // would drop it, and the order, kept through every change of room,
    // would cost each pass for nothing.)
    if (rtt && spec_.weight_latency > 0 && (!limited || o.both->least_rtt.empty())) {
      o.rtt = &orders_.ByRoundTrip(state, type, req.users_latitude, req.users_longitude);
    }
    o.factors = FactorsFor(type, req);
    o.room_needed = RoomNeededOn(req, type);
    // The fewest devices the job needs on any pool of the type: its gang,
    // and two whole nodes when it spans more than one of the largest.
    int64_t least = req.fixed_per_node > 0 ? ShapeFor(req, 1).devices() : req.accelerators;
    if (req.fixed_per_node <= 0 && req.accelerators > orders_.MaxPerNode(type)) {
      least = std::max<int64_t>(least, 2 * int64_t{orders_.MinPerNode(type)});
    }
    o.due_class = PoolOrders::DueClassOf(least);
    types.push_back(o);
  }
  search_.Begin(state.pools().size(), types, limit, spec_, judge, orders_.Classes());
}

bool StargatePolicy::WorthWaiting(const ClusterState& state, const ScoreNorms& now_norms, const Candidate& best_now,
                                  Judge* judge, Reservation* reservation) {
  const JobRequest& req = judge->req;
  const Time now = judge->now;
  const double budget = req.resumed ? spec_.resume_wait_budget : spec_.wait_budget;
  if (budget <= 0) return false;
  // The budget covers the job's whole time in the queue, so a job that has
  // already waited (for room, or for a better pool in earlier passes) does
  // not keep chasing a pool that keeps slipping away.
  const Time since = req.resumed ? req.queued_at : req.submit;
  judge->max_wait_s = std::min(budget * now_norms.runtime, spec_.wait_cap.seconds()) - (now - since).seconds();
  if (judge->max_wait_s <= 0) return false;
  // The pools worth waiting for are weighed with those the job can start
  // in now; waiting wins only when one of them is the best of all.
  const ScoreNorms all = search_.AllNorms(now, now + Duration::FromSeconds(judge->max_wait_s));
  if (SameScores(all, now_norms, spec_)) {
    search_.RankAgainst(best_now, all);  // no pool worth waiting for moved a norm
  } else {
    search_.Rank(true, all);
  }
  bool later = false;
  const Candidate* best = search_.Next(&later);
  if (best == nullptr || !later) return false;
  const int64_t need = ShapeFor(req, state.pool(best->pool).per_node).devices();
  if (!reservation->valid) {
    // Hold the better pool for this job, as for a blocked head.
    reservation->valid = true;
    reservation->pool = best->pool;
    reservation->shadow = now + Duration::FromSeconds(best->wait_s);
    EarliestRoom(state, best->pool, need, claims_, now, &reservation->extra);
    reserved_ = best->pool;  // its due is set below
  }
  wait_demand_.Add(best->pool.value(), need);
  UpdateDue(state, best->pool, now);
  waited_.push_back(best->pool);  // its due is set back at the next pass
  return true;
}

Decisions StargatePolicy::Schedule(const ClusterState& state, const Queue& queue, Time now) {
  Decisions out;
  out.items.reserve(last_decisions_);  // a pass decides about as much as the last: no regrowth
  claims_.Reset(state);
  site_claimed_w_.Reset(state.sites().size());
  wait_demand_.Reset(state.pools().size());
  reserved_.reset();
  PlaceRepairs(state, queue, claims_, out);
  RefreshOrders(state, now, out);

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
  held_.clear();
  held_in_.Reset(state.pools().size());
  round_trip_row_ = nullptr;
  while (const JobRequest* next = order_.Next()) {
    const JobRequest& req = *next;
    if (not_started > 0 && not_started >= depth) break;  // depth 0 = stop at the first
    if (req.spread_sites) {
      if (!PlaceSpreadJob(state, req, out)) ++not_started;
      continue;
    }
    // 1. Candidates: the pools the job may and can start in now (type,
    // residency, round trip, capacity, power cap, the reservation), best
    // first by score, found without weighing every pool where the bounds
    // hold (candidate_search.h).
    Judge judge{*this, state, req, now, reservation};
    ScoreNorms norms;
    const Candidate* c = nullptr;
    // No pool of the job's types has room for it (most jobs late in a busy
    // pass): no search to begin.
    const bool none = Bounded(state, req) && !AnyRoom(req);
    if (!none) BeginSearch(state, &judge);
    if (!none && search_.NowNorms(&norms)) {
      search_.Rank(false, norms);
      c = search_.Next();
      if (std::optional<Defer> defer = AdviseDeferral(state, req, *c, spec_, now, claims_, orders_)) {
        out.items.push_back(std::move(*defer));
        ++not_started;
        continue;
      }
      if (WorthWaiting(state, norms, *c, &judge, &reservation)) {
        ++not_started;
        continue;
      }
      search_.Rank(false, norms);  // back to the pools with room now
      c = search_.Next();
    }
    // 2. Place in the best pool that has the nodes.
    bool placed = false;
    for (; c != nullptr; c = search_.Next()) {
      const PoolState& pool = state.pool(c->pool);
      const GangShape shape = ShapeFor(req, pool.per_node);
      std::vector<NodeId> nodes;
      std::optional<ShareSpot> spot;
      if (req.share_milli > 0) {
        spot = FindShare(state, c->pool, req.share_milli, claims_, pool.hot_spares);
        if (!spot) continue;
      } else {
        nodes = spec_.topology ? FindGangNodes(state, c->pool, shape, claims_, pool.hot_spares)
                               : FindNodes(state, c->pool, shape, claims_, pool.hot_spares);
        if (nodes.empty()) continue;
      }
      const int64_t need = spot ? (spot->opens ? 1 : 0) : shape.devices();
      site_claimed_w_.Add(pool.site.value(), c->extra_w);
      reservation.Take(c->pool, now, c->runtime_s, need);
      TakeHeld(c->pool, now, c->runtime_s, need);
      order_.Charge(TenantUsage::Of(pool.type, req.share_milli > 0 ? req.devices_drawn() : need));
      // A shared device's power limit is no one job's to set.
      const double cap = req.share_milli > 0 ? 0 : CarbonPowerCap(spec_, state.site(pool.site), req);
      std::string reason = Reason(state, *c, reservation.valid, req);
      if (cap > 0) reason += fmt::format("; power capped at {:.0f}% of TDP", cap * 100);
      if (spot) {
        out.items.push_back(ClaimShare(state, req, c->pool, *spot, claims_, std::move(reason), cap));
      } else {
        for (NodeId n : nodes) claims_.Add(state, c->pool, n.value(), shape.per_node);
        out.items.push_back(
            Start{req.id, pool.site, c->pool, std::move(nodes), shape.per_node, std::move(reason), cap});
      }
      Claimed(state, c->pool);
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
        if (own.valid) Hold(state, req, own, now);
      }
      continue;
    }
    reservation = Reserve(state, req, claims_, now);
    if (spec_.preemption && req.priority > 0 &&
        (!reservation.valid || reservation.shadow - now > spec_.preempt_after)) {
      MakeRoom(state, req, now, &reservation, out);
    }
    if (reservation.valid) {
      reserved_ = reservation.pool;
      UpdateDue(state, reservation.pool, now);
      waited_.push_back(reservation.pool);  // its due is set back at the next pass
    }
    if (!spec_.backfill || !reservation.valid) break;
  }
  last_decisions_ = out.items.size();
  return out;
}

void StargatePolicy::RefreshOrders(const ClusterState& state, Time now, const Decisions& repairs) {
  // Kept indexes hold for the state read last, pass after pass.
  const bool incremental = state.TakeChangedPools(reinterpret_cast<uintptr_t>(this), &changed_) && primed_ &&
                           now >= last_now_ && &state == last_state_ && state.shape_id() == last_shape_id_;
  const bool moved = orders_.Update(state, !incremental);
  if (!incremental || moved) {
    due_heap_ = {};
    for (size_t i = 0; i < state.pools().size(); ++i) {
      const PoolId p(static_cast<uint16_t>(i));
      UpdateRoom(state, p);
      UpdateDue(state, p, now);
      if (orders_.Due(p) != WakeIndex::kNever) due_heap_.emplace(orders_.Due(p), p.value());
    }
  } else {
    // What the driver changed, what the last pass's claims changed (they
    // are gone now), and the pools whose next release time has come.
    for (PoolId p : changed_) {
      UpdateRoom(state, p);
      UpdateDue(state, p, now);
    }
    // (A claim moves when room for two nodes comes, too.)
    for (PoolId p : claimed_) {
      UpdateRoom(state, p);
      UpdateDue(state, p, now);
    }
    for (PoolId p : waited_) UpdateDue(state, p, now);
    while (!due_heap_.empty() && due_heap_.top().first <= now.nanos()) {
      const auto [due, p] = due_heap_.top();
      due_heap_.pop();
      if (orders_.Due(PoolId(p)) == due) UpdateDue(state, PoolId(p), now);
    }
  }
  claimed_.clear();
  waited_.clear();
  for (const Decision& d : repairs.items) {
    if (const auto* r = std::get_if<Repair>(&d)) Claimed(state, state.PoolOf(r->spare));
  }
  primed_ = true;
  last_now_ = now;
  last_state_ = &state;
  last_shape_id_ = state.shape_id();
}

void StargatePolicy::Claimed(const ClusterState& state, PoolId p) {
  UpdateRoom(state, p);
  claimed_.push_back(p);
}

void StargatePolicy::UpdateRoom(const ClusterState& state, PoolId p) {
  const PoolState& pool = state.pool(p);
  int64_t room = WakeIndex::kNever;
  if (claims_.Unreserved(state, p) >= 1) {
    const int most = std::clamp(claims_.MostFree(state, p), 1, pool.per_node);
    room = WakeIndex::Room(claims_.NodesWithFree(state, p, pool.per_node), most);
  }
  orders_.SetRoom(p, room);
}

void StargatePolicy::UpdateDue(const ClusterState& state, PoolId p, Time now) {
  // Only a gang ending after now brings room a job could wait for (the
  // calendar's overdue gangs have not brought it), and for a job of a
  // class's devices none before there is room for them past the devices
  // jobs earlier in the pass chose to wait for there (Judge::Later): a
  // pool whose releases they have taken up, or that its releases cannot
  // make room in for a job that large, is not met by the walks for pools
  // worth waiting for.
  // Nor is the pool the pass's reservation holds (Judge::Later): no job
  // after its holder may wait for it.
  const std::optional<ReleaseEntry> next = reserved_ == p ? std::nullopt : state.running(p).FirstEndingAfter(now);
  PoolOrders::Dues dues;
  dues.fill(WakeIndex::kNever);
  for (int c = 0; next && c < PoolOrders::kDueClasses; ++c) {
    const Time room = EarliestRoom(state, p, PoolOrders::DueDevices(c) + wait_demand_[p.value()], claims_, now);
    if (room == Time::Never()) break;  // nor for any larger class
    dues[c] = std::max(next->end.nanos(), room.nanos());
  }
  if (dues[0] != orders_.Due(p) && dues[0] != WakeIndex::kNever) due_heap_.emplace(dues[0], p.value());
  orders_.SetDue(p, dues);
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
  for (NodeId n : nodes) {
    Claimed(state, state.PoolOf(n));
    where += (where.empty() ? "" : ", ") + state.site(state.pool(state.PoolOf(n)).site).name;
  }
  const PoolId pool = state.PoolOf(nodes.front());
  out.items.push_back(Start{req.id, state.pool(pool).site, pool, std::move(nodes), shape.per_node,
                            fmt::format("spread over {} sites, cleanest first: {}", shape.nodes, where)});
  return true;
}

void StargatePolicy::Hold(const ClusterState& state, const JobRequest& req, const Reservation& r, Time now) {
  held_.push_back(r);
  held_in_.Add(r.pool.value(), 1);
  // Jobs after it that wait for this pool wait behind it, as behind a job
  // that chose to wait there.
  wait_demand_.Add(r.pool.value(), ShapeFor(req, state.pool(r.pool).per_node).devices());
  UpdateDue(state, r.pool, now);
  waited_.push_back(r.pool);
}

bool StargatePolicy::HeldAllow(PoolId p, Time now, double runtime_s, int64_t devices) const {
  if (held_in_.size() == 0 || held_in_[p.value()] == 0) return true;
  return std::all_of(held_.begin(), held_.end(),
                     [&](const Reservation& r) { return r.Allows(p, now, runtime_s, devices); });
}

void StargatePolicy::TakeHeld(PoolId p, Time now, double runtime_s, int64_t devices) {
  if (held_in_.size() == 0 || held_in_[p.value()] == 0) return;
  for (Reservation& r : held_) r.Take(p, now, runtime_s, devices);
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
