// File: decisions.h
// The scheduler's output: plain values the drivers apply, and the one
// contract both drivers (twin/engine.cc, control/server/reconciler.cc)
// honour, so what the twin shows is what a server does with the same
// inputs. See the seam in docs/architecture.md.
//
// Every decision names a job the driver queued (from the single
// job-spec-to-request conversion, sched/request_of.h). For each, a driver
// must:
//
//   Start    run the job's gang on exactly `nodes` (`per_node` devices on
//            each, all in `pool` of `site`; for a share, its thousandths
//            of one device in slot `share_slot`, packed with the slot's
//            other shares on one device), as one new attempt; limit its
//            devices to `power_cap` x TDP when non-zero (the twin scales
//            the gang's power and speed; an agent runs nvidia-smi -pl and
//            reports whether the limit holds, and a limit that does not is
//            counted as none); at a site with a power ramp limit, launch
//            and raise the gang's power as `ramp_*` say, and take a
//            stopped gang's power (one held for a repair too) down its
//            rise with a holding load, telling the channel
//            (RampChannels::Fall) (sched/power_ramp.h); record `reason`
//            in the audit trail ("place").
//            It reports back the attempt's end: success, failure, or a
//            lost node (a Repair or a requeue follows).
//   Preempt  warn the running gang now (SIGTERM: time to checkpoint), stop
//            it `warning` later (SIGKILL), then requeue it: the attempt
//            ends as a preemption, not a failure (no retry is spent), and
//            resumes from its last checkpoint. Audited ("preempt").
//   Defer    take the job out of the queue until `until`, then offer it
//            again (it may be deferred again); `reason` says why (the
//            carbon now and the cleaner hour expected). Audited ("defer").
//   Repair   in the gang held for repair, replace `failed` by `spare` (same
//            pool) and restart the gang in place from its last checkpoint,
//            the surviving nodes kept, its power ramped as a Start's.
//            Audited ("repair").
//   Reject   final: the job can never run on this cluster (no pool of an
//            allowed type, size or jurisdiction); it leaves the queue and
//            fails with `reason`. Audited ("reject"). The server first
//            waits its reject grace from the job's submission (nodes still
//            joining a new cluster; 0 in the twin, which knows its whole
//            topology), and a server that has just restarted holds it.
//
// A decision about a job no longer queued (cancelled meanwhile) is
// ignored. Both drivers feed the scheduler the same grid signals
// (sched/grid_signals.h). tests/integration/conformance_test.cc runs one
// scenario through both and requires identical decision logs.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "core/ids.h"
#include "core/units.h"

namespace stargate::sched {

// Run `job` on `nodes` (all in one pool of `site`), `per_node` devices each.
struct Start {
  JobId job;
  SiteId site;
  PoolId pool;
  std::vector<NodeId> nodes;
  int per_node = 0;
  std::string reason;    // why here (audit trail); may be empty in bulk runs
  double power_cap = 0;  // device limit as a fraction of TDP (0 = none)
  // At a site with a power ramp limit (sched/power_ramp.h): the gang's
  // nodes wait idle `ramp_after`, it launches at its devices' lowest power
  // limit and stays there `ramp_hold`, then its limit rises evenly to full
  // over `ramp_up`. All zero: launch now at full power.
  Duration ramp_after;
  Duration ramp_hold;
  Duration ramp_up;
  // A share of one device (JobRequest::share_milli): `share_milli`
  // thousandths of slot `share_slot` of its one node, with `per_node` 1
  // (ClusterState::AddShare opens the slot, taking a device, when no share
  // uses it yet). 0: whole devices.
  int share_milli = 0;
  int share_slot = 0;
};
// Stop running `job` to make room: warn it now (so it can write a
// checkpoint) and stop it `warning` later, then requeue it.
struct Preempt {
  JobId job;
  Duration warning;
  std::string reason;
};
// Out of the queue until `until` (a cleaner hour), for `reason`.
struct Defer {
  JobId job;
  Time until;
  std::string reason;
};
// Restart the gang in place with `spare` for its lost `failed` node.
struct Repair {
  JobId job;
  NodeId failed;
  NodeId spare;
  // The restarted gang's power ramp, as a Start's (sched/power_ramp.h).
  Duration ramp_after;
  Duration ramp_hold;
  Duration ramp_up;
};
// Final: the job can never run here; it fails with `reason`.
struct Reject {
  JobId job;
  std::string reason;
};

using Decision = std::variant<Start, Preempt, Defer, Repair, Reject>;

struct Decisions {
  std::vector<Decision> items;
  bool empty() const { return items.empty(); }
};

}  // namespace stargate::sched
