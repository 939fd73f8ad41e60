// File: stargate_policy.h
// The network-wide policy set ("stargate"): one pass that, for each job in
// priority-then-submit order,
//   1. filters pools by accelerator type, data residency (jurisdiction),
//      free capacity (keeping each site's hot spares) and the site's power
//      cap (the job's estimated extra draw must fit under it);
//   2. scores the survivors by estimated run time (heterogeneity-aware),
//      emissions and energy cost (site_score.h) and places the gang in the
//      best one that has the nodes, recording why in Start::reason;
//   3. lets a deferrable job wait for a cleaner hour or site when that keeps
//      its deadline (deferral.h);
//   4. when the head cannot start, reserves capacity for it and backfills
//      later jobs around the reservation (backfill.h).
// Gang-repair requests are served before any of this (PlaceRepairs), and
// may use the hot spares.
#pragma once

#include <utility>
#include <vector>

#include "core/scenario.h"
#include "sched/claims.h"
#include "sched/scheduler.h"
#include "sched/site_score.h"

namespace stargate::sched {

class StargatePolicy final : public Scheduler {
 public:
  explicit StargatePolicy(SchedulerSpec spec) : spec_(std::move(spec)) {}
  std::string name() const override { return "stargate"; }
  Decisions Schedule(const ClusterState& state, const Queue& queue, Time now) override;

 private:
  SchedulerSpec spec_;
  // Scratch reused across passes so a pass allocates nothing in steady state.
  Claims claims_;
  std::vector<Candidate> candidates_;
  std::vector<double> site_claimed_w_;
  std::vector<std::pair<Time, int64_t>> calendar_;
};

}  // namespace stargate::sched
