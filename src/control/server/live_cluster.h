// File: live_cluster.h
// The registered nodes as the scheduler sees them: one site per site name,
// one pool per (accelerator type, devices per node) in it, nodes in name
// order, with what the sites file says of each site (location, PUE, power
// cap). The control loop builds it for a pass and the live forecast
// (forecast.h) for its twin scenario, so both see one cluster.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "control/protocol/node_info.h"
#include "control/server/site_book.h"
#include "core/topology.h"

namespace stargate::control {

struct LiveCluster {
  std::vector<SiteSpec> sites;
  std::vector<std::string> node_names;  // by NodeId: sites, then pools, in order
  std::map<std::string, uint32_t> node_ids;
  std::map<std::string, uint32_t, std::less<>> site_ids;  // by name: its index in `sites`
};

// `sites` may be null (no --sites file).
LiveCluster BuildCluster(const std::map<std::string, NodeInfo>& nodes, int hot_spares, const SiteBook* sites);

}  // namespace stargate::control
