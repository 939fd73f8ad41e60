// File: preemption.h
// Checkpoint-aware preemption: when a job cannot start and would wait long,
// stop lower-priority running gangs to make room, choosing the victims that
// lose the least work (devices x compute since their last durable
// checkpoint, RunningGang::LostIfStoppedAt). Victims are not stopped at
// once: the driver warns them (SIGTERM, then a grace period, as Kubernetes
// and Slurm's GraceTime do) so they can write a checkpoint first, and
// marks them draining; their devices come back at the end of the warning.
//
// Counting is by devices, as in backfill: victims of whole-node gangs free
// whole nodes; if fragments still keep the job out after they drain, the
// next pass preempts more, never a gang of equal or higher priority.
#pragma once

#include <optional>
#include <unordered_set>
#include <vector>

#include "sched/claims.h"
#include "sched/cluster_state.h"
#include "sched/job_request.h"

namespace stargate::sched {

struct PreemptionPlan {
  PoolId pool;
  std::vector<JobId> victims;  // cheapest first; empty = draining gangs already make room
  double lost_device_s = 0;    // sum over victims of devices x lost compute
};

// The cheapest plan over the pools `req` accepts, or nullopt when no pool
// can make room from gangs of lower priority that are not yet draining and
// not in `taken` (victims chosen earlier in the pass). Hot spares are kept.
// Cost: O(running gangs in the accepted pools).
std::optional<PreemptionPlan> PlanPreemption(const ClusterState& state, const JobRequest& req, const Claims& claims,
                                             Time now, const std::unordered_set<uint32_t>& taken);

}  // namespace stargate::sched
