#include "control/server/live_cluster.h"

#include <algorithm>
#include <utility>

namespace stargate::control {

LiveCluster BuildCluster(const std::map<std::string, NodeInfo>& nodes, int hot_spares, const SiteBook* sites) {
  std::map<std::string, std::map<std::pair<int, int>, std::vector<const NodeInfo*>>> by_site;
  std::map<std::string, const NodeInfo*> site_example;
  for (const auto& [name, n] : nodes) {
    by_site[n.site][{static_cast<int>(n.accelerator), n.accelerators}].push_back(&n);
    site_example.emplace(n.site, &n);
  }
  LiveCluster c;
  for (const auto& [site, pools] : by_site) {
    SiteSpec s;
    s.name = site;
    s.region = site_example[site]->region;
    s.jurisdiction = site_example[site]->jurisdiction;
    s.hot_spares = hot_spares;
    const SiteInfo* info = sites != nullptr ? sites->Find(site) : nullptr;
    s.located = info != nullptr && info->latitude.has_value();
    if (s.located) {
      s.latitude = *info->latitude;
      s.longitude = *info->longitude;
    }
    if (info != nullptr) {
      s.pue = info->pue;
      if (info->power_cap_w) s.power_cap = Watts(*info->power_cap_w);
      s.power_ramp = info->power_ramp;                               // choreographed starts (sched/power_ramp.h)
      if (info->wan_bandwidth) s.wan_uplink = *info->wan_bandwidth;  // data moves (data gravity)
      if (info->fabric) s.fabric = *info->fabric;
    }
    for (const auto& [key, members] : pools) {
      PoolSpec p;
      p.type = static_cast<AcceleratorType>(key.first);
      p.nodes = static_cast<int>(members.size());
      p.accels_per_node = std::max(1, key.second);
      p.nodes_per_rack = 1;
      p.domain_nodes = 1;
      s.pools.push_back(p);
      for (const NodeInfo* n : members) {
        c.node_ids[n->name] = static_cast<uint32_t>(c.node_names.size());
        c.node_names.push_back(n->name);
      }
    }
    c.site_ids[s.name] = static_cast<uint32_t>(c.sites.size());
    c.sites.push_back(std::move(s));
  }
  return c;
}

}  // namespace stargate::control
