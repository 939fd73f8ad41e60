// File: placement.h
// Gang shape and node search inside one pool, shared by every policy.
#pragma once

#include <vector>

#include "sched/claims.h"
#include "sched/cluster_state.h"

namespace stargate::sched {

// How a gang of `devices` lays out on nodes of `per_node` devices: one node
// when it fits on one, otherwise whole nodes.
struct GangShape {
  int nodes = 1;
  int per_node = 1;
};
GangShape ShapeFor(int devices, int per_node);

// True if pool `p` allows `req` (accelerator type, jurisdiction, site up).
bool PoolAllows(const ClusterState& state, PoolId p, const JobRequest& req);

// Picks `shape.nodes` up nodes of pool `p` with >= shape.per_node free devices
// after `claims`, tightest fit first (fewest free devices), so whole nodes stay
// whole for big gangs. Returns empty when the pool cannot host the gang.
// Cost: O(nodes returned + claimed nodes skipped).
std::vector<NodeId> FindNodes(const ClusterState& state, PoolId p, GangShape shape,
                              const Claims& claims);

}  // namespace stargate::sched
