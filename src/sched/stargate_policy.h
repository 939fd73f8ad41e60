// File: stargate_policy.h
// The network-wide policy set ("stargate"): one pass that, for each job in
// priority-then-submit order,
//   1. filters pools by accelerator type, data residency (jurisdiction),
//      free capacity (keeping each site's hot spares) and the site's power
//      cap (the job's estimated extra draw must fit under it);
//   2. scores the survivors by estimated run time (heterogeneity-aware),
//      emissions and energy cost (site_score.h) and places the gang in the
//      best one that has the nodes, topology-first (FindGangNodes: one
//      NVLink domain, else one leaf, else fewest leaves), recording why in
//      Start::reason;
//      A pool that is full now but scores better once its wait is counted
//      (the release calendar says it frees up within `wait_budget` of the
//      job's run time) is worth waiting for: the job holds a reservation
//      there instead of starting on a worse pool;
//   3. lets a deferrable job wait for a cleaner hour or site when that keeps
//      its deadline (deferral.h);
//   4. when the head cannot start, reserves capacity for it and backfills
//      later jobs around the reservation (backfill.h); a head of higher
//      priority that would wait past `preempt_after` preempts the
//      lower-priority gangs that lose least since their last checkpoint
//      (preemption.h) and reserves the room they leave.
// Jobs are taken by priority, then weighted fair share across tenants
// (fair_order.h), then submit.
// Gang-repair requests are served before any of this (PlaceRepairs), and
// may use the hot spares. A pass ends after `backfill_depth` jobs it could
// not start (deep passes, at most once per `backfill_interval` of `now`) or
// `queue_depth` (the passes in between), so a deep backlog costs a pass a
// bounded amount.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/scenario.h"
#include "sched/backfill.h"
#include "sched/claims.h"
#include "sched/fair_order.h"
#include "sched/scheduler.h"
#include "sched/site_score.h"

namespace stargate::sched {

class StargatePolicy final : public Scheduler {
 public:
  explicit StargatePolicy(SchedulerSpec spec) : spec_(std::move(spec)) {}
  std::string name() const override { return "stargate"; }
  Decisions Schedule(const ClusterState& state, const Queue& queue, Time now) override;
  bool UsesTenantOrder() const override { return spec_.fair_share; }
  bool HonoursPowerCaps() const override { return spec_.power_cap; }

 private:
  // Adds the pools that are full now but free up within the wait budget to
  // candidates_ (after the now-candidates) and says whether one of them
  // beats every pool with room now; if so, and no job holds a reservation
  // yet, reserves it for this job. Leaves candidates_ as the now-candidates,
  // the best first (the rest in pool order), when the answer is no.
  bool WorthWaiting(const ClusterState& state, const JobRequest& req, Time now, Reservation* reservation);

  // Preempts for blocked head `req` when a plan exists, and points the
  // reservation at the pool the victims leave.
  // A `spread_sites` job: one node per site (PlaceSpread); false when it
  // cannot start now (a Reject is added when it never can).
  bool PlaceSpreadJob(const ClusterState& state, const JobRequest& req, Decisions& out);
  void MakeRoom(const ClusterState& state, const JobRequest& req, Time now, Reservation* reservation, Decisions& out);
  // RoundTripMs from `req`'s users to `site`, computed once per pass for
  // each users' location and site (a great-circle distance is three
  // trigonometric calls, per pool per job otherwise).
  double RoundTrip(const ClusterState& state, SiteId site, const JobRequest& req);
  // PoolAllows (placement.h) with RoundTrip's cached round trips.
  bool Allows(const ClusterState& state, PoolId p, const JobRequest& req);

  SchedulerSpec spec_;
  Time next_deep_pass_ = Time::FromNanos(INT64_MIN);  // see SchedulerSpec::backfill_interval
  // Scratch reused across passes so a pass allocates nothing in steady state.
  Claims claims_;
  std::vector<Candidate> candidates_;
  std::vector<double> site_claimed_w_;
  std::vector<uint8_t> can_start_;    // per pool: a candidate now, for this job
  std::vector<int64_t> wait_demand_;  // per pool: devices jobs chose to wait for this pass
  FairOrder order_;
  std::unordered_set<uint32_t> preempted_;  // victims chosen this pass
  // Per users' location: the round trip to each site (NaN: not yet), for
  // this pass.
  std::map<std::pair<float, float>, std::vector<double>> round_trips_;
  std::pair<float, float> round_trip_at_;          // the last location looked up,
  std::vector<double>* round_trip_row_ = nullptr;  // and its row (null: none)
};

}  // namespace stargate::sched
