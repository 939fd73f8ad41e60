// File: test_cluster.h
// Shared setup for sched tests: a cluster of one site ("s", jurisdiction
// US) holding the given pools under a fabric of `nodes_per_leaf` nodes per
// leaf and `leaves_per_pod` leaves per pod.
#pragma once

#include <utility>
#include <vector>

#include "core/topology.h"
#include "sched/cluster_state.h"

namespace stargate::sched::testing {

inline ClusterState OneSite(std::vector<PoolSpec> pools, int nodes_per_leaf, int leaves_per_pod = 32) {
  SiteSpec site;
  site.name = "s";
  site.jurisdiction = "US";
  site.fabric.nodes_per_leaf = nodes_per_leaf;
  site.fabric.leaves_per_pod = leaves_per_pod;
  site.pools = std::move(pools);
  return ClusterState({site});
}

}  // namespace stargate::sched::testing
