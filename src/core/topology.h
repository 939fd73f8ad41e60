// File: topology.h
// Plain descriptions of the physical network a scenario declares: sites,
// their accelerator pools (racks and nodes of one accelerator type), the
// fabric inside a site, and WAN links between sites.
//
// Node numbering inside a pool is implicit and dense: node i of a pool sits in
// scale-up domain i / domain_nodes, rack i / nodes_per_rack and leaf
// i / fabric.nodes_per_leaf. Nothing per node is stored in the spec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/accelerator.h"
#include "core/series.h"
#include "core/units.h"

namespace stargate {

enum class FabricKind : uint8_t {
  kFatTree,        // leaf/spine Clos, optional oversubscription at the spine
  kRailOptimized,  // NIC k of every node on rail switch k; leaf = rail group
  kNvlDomain,      // NVL72-style: large NVLink domains, Clos between them
};

struct FabricSpec {
  FabricKind kind = FabricKind::kFatTree;
  int nodes_per_leaf = 32;                        // nodes under one leaf (or rail group)
  int leaves_per_pod = 32;                        // leaves sharing one spine block (pod)
  double oversubscription = 1.0;                  // leaf->spine, e.g. 7.0 for Meta's T1->T2
  Duration alpha_scale_up = Duration::Micros(1);  // NVLink hop latency
  Duration alpha_leaf = Duration::Micros(2);      // through one leaf
  Duration alpha_spine = Duration::Micros(4);     // up through the spine
};

struct PoolSpec {
  AcceleratorType type = AcceleratorType::kH100;
  int nodes = 0;
  int accels_per_node = 8;
  int nodes_per_rack = 4;
  int domain_nodes = 1;  // nodes per scale-up domain (18 for NVL72)
};

// How fast a site's facility power may move (0 = no limit): what its
// electrical plant and grid connection accept. NVIDIA's GB300 power
// smoothing exposes the same two knobs in hardware (a ramp-up rate limit
// and a power floor that ramps down; "How new GB300 NVL72 features provide
// steady power for AI", NVIDIA technical blog, 2025).
struct PowerRampLimit {
  double mw_per_s = 0;    // largest change within any second
  double mw_per_min = 0;  // largest change within any minute
  bool limited() const { return mw_per_s > 0 || mw_per_min > 0; }
  // The steady rate (W/s) that keeps both: a ramp in one-second steps of
  // this size changes the power by at most mw_per_s in a second and
  // mw_per_min in a minute. 0 = no limit.
  double RateWattsPerSecond() const {
    if (!limited()) return 0;
    const double per_s = mw_per_s > 0 ? mw_per_s * 1e6 : 1e300;
    const double per_min = mw_per_min > 0 ? mw_per_min * 1e6 / 60.0 : 1e300;
    return per_s < per_min ? per_s : per_min;
  }
};

struct SiteSpec {
  std::string name;
  std::string region;
  std::string jurisdiction;  // legal area for data residency, e.g. "US", "EU"
  double latitude = 0;
  double longitude = 0;
  // False for a real site whose operator gave no coordinates (`stargate
  // server --sites`): it is no distance from anywhere, so `near` neither
  // prefers nor avoids it and a `max_rtt` excludes it.
  bool located = true;
  Watts power_cap;            // facility budget; 0 = unlimited
  PowerRampLimit power_ramp;  // choreographed starts and stops (sched/power_ramp.h)
  double pue = 1.2;
  SeriesSpec carbon;  // gCO2/kWh
  SeriesSpec price;   // USD/MWh
  std::vector<PoolSpec> pools;
  FabricSpec fabric;
  BytesPerSec storage_bandwidth = GigabytesPerSec(100);  // checkpoint storage, site total
  // The site's WAN uplink for moving data in or out (0 = not given): a pair
  // of sites with no `wan` link between them moves data at the slower of
  // their uplinks (a server's `wan_bandwidth`, sites file).
  BytesPerSec wan_uplink = BytesPerSec(0);
  int hot_spares = 0;  // nodes held back for gang repair (scheduler issue)
  // Node failures measured at this site (per node per year), on top of the
  // scenario's failure components, each keeping the node out `node_repair`
  // (a live forecast's measured rates; 0 = none).
  double node_failures_per_year = 0;
  Duration node_repair = Duration::Hours(1);
};

// Every node of the site, over its pools (numbered 0... in pool order).
inline int64_t NodeCount(const SiteSpec& s) {
  int64_t n = 0;
  for (const PoolSpec& p : s.pools) n += p.nodes;
  return n;
}

struct WanLinkSpec {
  // Two sites, or (`regions`) two regions: a link between their hubs, the
  // backbone that sites without a link of their own reach each other over.
  std::string a;
  std::string b;
  BytesPerSec bandwidth = GigabitsPerSec(400);
  Duration latency = Duration::Zero();  // one way; zero = derive from distance
  bool regions = false;
};

}  // namespace stargate
