// File: stargate_policy.h
// The network-wide policy set ("stargate"): one pass that, for each job in
// priority-then-submit order,
//   1. filters pools by accelerator type, data residency (jurisdiction),
//      free capacity (keeping each site's hot spares) and the site's power
//      cap (the job's estimated extra draw must fit under it);
//   2. scores the survivors by estimated run time (heterogeneity-aware),
//      emissions and energy cost (site_score.h), meeting them best first
//      without weighing every pool (candidate_search.h), and places the
//      gang in the best one that has the nodes, topology-first (FindGangNodes: one
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
//      (preemption.h) and reserves the room they leave. Every other
//      urgent job that cannot start (preemption on, priority above 0) may
//      stop gangs for itself too, and holds its own reservation for the
//      pass, so backfill behind it does not take the room its victims
//      leave (or that frees up for it) and make it preempt again.
// Jobs are taken by priority, then weighted fair share across tenants
// (fair_order.h), then submit.
// Gang-repair requests are served before any of this (PlaceRepairs), and
// may use the hot spares. A pass ends after `backfill_depth` jobs it could
// not start (deep passes, at most once per `backfill_interval` of `now`) or
// `queue_depth` (the passes in between), so a deep backlog costs a pass a
// bounded amount.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/scenario.h"
#include "sched/backfill.h"
#include "sched/candidate_search.h"
#include "sched/claims.h"
#include "sched/fair_order.h"
#include "sched/pool_orders.h"
#include "sched/scheduler.h"
#include "sched/site_score.h"
#include "sched/touched_values.h"

namespace stargate::sched {

class StargatePolicy final : public Scheduler {
 public:
  explicit StargatePolicy(SchedulerSpec spec) : spec_(std::move(spec)) {
    orders_.BoundRoundTrips(spec_.weight_latency > 0);
    // Every search has a plane, down which the pools worth waiting for are met.
    orders_.KeepListDues(false);
  }
  std::string name() const override { return "stargate"; }
  Decisions Schedule(const ClusterState& state, const Queue& queue, Time now) override;
  bool UsesTenantOrder() const override { return spec_.fair_share; }
  bool HonoursPowerCaps() const override { return spec_.power_cap; }

 private:
  // What a pool is to the job being placed (the filters of step 1, and
  // the wait of step 2's "worth waiting for"), for the candidate search.
  struct Judge final : PoolJudge {
    Judge(StargatePolicy& policy, const ClusterState& state, const JobRequest& req, Time now,
          const Reservation& reservation)
        : policy(policy), state(state), req(req), now(now), reservation(reservation) {}
    Verdict Now(PoolId p, Candidate* c) override;
    bool Later(PoolId p, Candidate* c) override;
    StargatePolicy& policy;
    const ClusterState& state;
    const JobRequest& req;
    Time now;
    const Reservation& reservation;
    double max_wait_s = 0;  // how long the job may still wait for a better pool
  };

  // Whether `req`'s candidates may be searched with bounds (else every
  // pool is looked at).
  bool Bounded(const ClusterState& state, const JobRequest& req) const;
  // Whether `req`'s search looks at type `type`: the job accepts it and
  // the network has it.
  bool Searches(const JobRequest& req, AcceleratorType type) const;
  // The least room (WakeIndex::Room) a pool of `type` needs for `req`.
  int64_t RoomNeededOn(const JobRequest& req, AcceleratorType type) const;
  // Whether a pool of one of `req`'s types has the room it needs now, by
  // the room index (WakeIndex::Room): false means it can start nowhere.
  bool AnyRoom(const JobRequest& req) const;
  // Starts the candidate search for the judge's job: bounded where the
  // bounds hold, else over every pool.
  void BeginSearch(const ClusterState& state, Judge* judge);
  // Whether a pool that is full now but frees up within the wait budget
  // beats every pool with room now (scored together; `best_now` is the
  // best of those by `now_norms`); if so, and no job holds a reservation
  // yet, reserves it for this job.
  bool WorthWaiting(const ClusterState& state, const ScoreNorms& now_norms, const Candidate& best_now, Judge* judge,
                    Reservation* reservation);
  // A `spread_sites` job: one node per site (PlaceSpread); false when it
  // cannot start now (a Reject is added when it never can).
  bool PlaceSpreadJob(const ClusterState& state, const JobRequest& req, Decisions& out);
  // Tells the pool orders pool `p`'s room after the claims, and when its
  // calendar next brings devices back (PoolOrders::SetRoom, SetDue), so
  // walks skip it while it is full.
  void UpdateRoom(const ClusterState& state, PoolId p);
  // UpdateRoom after this pass claimed devices in `p` (and again at the
  // next pass, when the claims are gone).
  void Claimed(const ClusterState& state, PoolId p);
  // At the start of a pass: the orders' grid keys, and the room and due of
  // every pool that changed since the last pass (of all pools for a state
  // this policy has not seen pass by pass). `repairs`: the repairs this
  // pass has claimed.
  void RefreshOrders(const ClusterState& state, Time now, const Decisions& repairs);
  // Tells the pool orders when pool `p` may next have room for a job that
  // waits, for each class of job size (PoolOrders::SetDue, DueDevices): no
  // earlier than its calendar's next release after now, nor than room for
  // that many devices past the pass's claims and the devices jobs this pass
  // chose to wait for there (so it is recounted for pools claimed or
  // waited for, next pass); never for the pool the pass's reservation
  // holds (reserved_).
  void UpdateDue(const ClusterState& state, PoolId p, Time now);
  // Preempts for blocked head `req` when a plan exists, and points the
  // reservation at the pool the victims leave.
  void MakeRoom(const ClusterState& state, const JobRequest& req, Time now, Reservation* reservation, Decisions& out);
  // An urgent job that is not the head holds `r` (its own) for the rest
  // of the pass: backfill must allow it, and its devices count as waited
  // for in the pool (wait_demand_).
  void Hold(const ClusterState& state, const JobRequest& req, const Reservation& r, Time now);
  // Whether every reservation held by urgent jobs other than the head
  // allows a job of `devices` and `runtime_s` to start now in `p`; Take
  // books one that started (Reservation::Allows, Take).
  bool HeldAllow(PoolId p, Time now, double runtime_s, int64_t devices) const;
  void TakeHeld(PoolId p, Time now, double runtime_s, int64_t devices);
  // RoundTripMs from `req`'s users to `site`, computed once for each users'
  // location and site (PoolOrders::RoundTrips).
  double RoundTrip(const ClusterState& state, SiteId site, const JobRequest& req);
  // PoolAllows (placement.h) with RoundTrip's cached round trips.
  bool Allows(const ClusterState& state, PoolId p, const JobRequest& req);
  // Devices jobs earlier in the pass chose to wait for in `p`, as a
  // fraction of the pool (the score's queue term).
  double QueueAt(const ClusterState& state, PoolId p) const;

  SchedulerSpec spec_;
  Time next_deep_pass_ = Time::FromNanos(INT64_MIN);  // see SchedulerSpec::backfill_interval
  size_t last_decisions_ = 0;                         // the last pass's, to size the next one's
  // Scratch reused across passes so a pass allocates little in steady state.
  Claims claims_;
  PoolOrders orders_;
  CandidateSearch search_;
  std::vector<CandidateSearch::TypeOrders> type_orders_;  // BeginSearch's scratch
  // RefreshOrders' bookkeeping: the state's changed pools, the pools this
  // pass claimed in and those jobs chose to wait for, each pool's next
  // release time as a min-heap (stale entries are skipped), and the last
  // pass.
  std::vector<PoolId> changed_, claimed_, waited_;
  std::priority_queue<std::pair<int64_t, uint16_t>, std::vector<std::pair<int64_t, uint16_t>>, std::greater<>>
      due_heap_;
  bool primed_ = false;
  Time last_now_;
  const ClusterState* last_state_ = nullptr;  // compared, never dereferenced
  uint64_t last_shape_id_ = 0;
  TouchedValues<double> site_claimed_w_;
  TouchedValues<int64_t> wait_demand_;  // per pool: devices jobs chose to wait for this pass
  std::optional<PoolId> reserved_;      // the pool this pass's reservation holds, once it does
  FairOrder order_;
  std::unordered_set<uint32_t> preempted_;               // victims chosen this pass
  std::vector<Reservation> held_;                        // Hold: this pass's, few
  TouchedValues<uint32_t> held_in_;                      // per pool: how many of held_ are there
  std::pair<float, float> round_trip_at_;                // the last users' location looked up,
  const std::vector<double>* round_trip_row_ = nullptr;  // and its round trips (null: none),
  uint64_t round_trip_cleared_ = 0;                      // valid while PoolOrders::places_cleared() is this
};

}  // namespace stargate::sched
