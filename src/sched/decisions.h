// File: decisions.h
// The scheduler's output: plain values the drivers apply. See the seam in
// docs/architecture.md.
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
};
// Stop running `job` to make room: warn it now (so it can write a
// checkpoint) and stop it `warning` later, then requeue it.
struct Preempt {
  JobId job;
  Duration warning;
  std::string reason;
};
struct Defer {
  JobId job;
  Time until;
  std::string reason;
};
struct Repair {
  JobId job;
  NodeId failed;
  NodeId spare;
};
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
