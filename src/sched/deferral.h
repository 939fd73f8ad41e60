// File: deferral.h
// Carbon-aware deferral: a job marked deferrable, with a deadline, waits
// while the best place it could start now is clearly dirtier than the
// cleanest place-and-hour the forecast offers among the pools it accepts,
// and only while it can still finish by its deadline with a margin. This
// shifts flexible work in time (to a cleaner hour) and in space (to a
// cleaner site that is full now), never past a deadline it could meet.
#pragma once

#include <optional>

#include "core/scenario.h"
#include "sched/backfill.h"
#include "sched/cluster_state.h"
#include "sched/decisions.h"
#include "sched/job_request.h"
#include "sched/pool_orders.h"
#include "sched/site_score.h"

namespace stargate::sched {

// `best_now` is the candidate the job would start on now. A cleaner place
// only counts if the release calendar expects room there by its clean hour.
// Returns the Defer to issue, or nothing when the job should start.
// `orders` (up to date with `state`) lets it look only at pools whose
// forecast is clean enough to wait for.
std::optional<Defer> AdviseDeferral(const ClusterState& state, const JobRequest& req, const Candidate& best_now,
                                    const SchedulerSpec& spec, Time now, const Claims& claims,
                                    const PoolOrders& orders);

}  // namespace stargate::sched
