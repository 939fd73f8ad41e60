// File: oracle_bound.h
// A lower bound on the emissions (and, separately, the energy cost) of a
// twin run's work: what any schedule, knowing the whole future, could
// have spent doing the same work on the same sites inside the same
// windows. The yardstick a policy's tCO2 is read against (issue 23;
// CarbonFlex, arXiv 2505.18357, reports its policy within 2.1% of such an
// oracle).
//
// The program is a time-indexed linear relaxation of scheduling:
//   - the work each job did in the run (JobRecord::work_done of its whole)
//     in reference device-hours: a training job's failure-free run time
//     by the step-time model with its gang packed as tightly as a pool
//     allows (compute and the exposed all-reduce; a wider spread only adds
//     to it), the least over its pools once scaled back to the reference
//     by peak throughput; any other job's duration times its devices; on
//     another type, scaled by peak throughput as the engine scales it;
//   - it may run in any slot from its submit to its deadline (to the
//     horizon when it has none, or when the run itself missed it), in any
//     pool its placement rules allow (sched::PoolAllows), split across
//     pools and slots at will, on at most its own device count at once;
//   - each pool gives its devices times the hours its site was up;
//   - a busy device draws DevicePower at its kind's utilisation (or under
//     the scenario's carbon cap when that draws less per unit of work);
//     idle devices draw their idle power unless the scenario switches
//     them off (power saving: then all but each pool's warm reserve,
//     twin::WarmDevices, which stays on busy or not, so its idle draw is
//     saved only where work runs on it), times the site's PUE; carbon and
//     price are the slot's lowest hourly values.
// Dropping gang shapes, queueing, failures, checkpoints, restarts, staging
// and boot times only loosens the program, so its optimum is at most what
// the run spent: a bound, not an estimate. Jobs alike (same reference
// type, kind, allowed pools and deadline slot) are pooled into one class
// with a backlog carried from slot to slot, which the relaxation allows
// exactly; the time step doubles until the program has at most
// `max_columns` columns.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "twin/inputs.h"
#include "twin/run_result.h"

namespace stargate::oracle {

struct BoundOptions {
  int64_t max_columns = 1'500'000;
  // Each job the run finished must be done by the hour the run finished
  // it (its deadline too, when earlier): the least any schedule could
  // spend giving every job at least the run's service. Its gap is what
  // the run's placement and timing left, not the time it could have
  // taken.
  bool by_run_ends = false;
};

// The bound for `run`, a run of `inputs`. FailedPrecondition when the
// program cannot be solved (it then says why).
StatusOr<twin::BoundFigures> OracleBound(const twin::TwinInputs& inputs, const twin::RunResult& run,
                                         const BoundOptions& options = {});

}  // namespace stargate::oracle
