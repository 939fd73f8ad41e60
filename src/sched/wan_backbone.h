// File: wan_backbone.h
// A WAN described without a full mesh (issue 24): links between regions'
// hubs, a backbone. Two sites with no link of their own reach each other
// through their regions' hubs (ClusterState::WanBytesPerSec): each site's
// uplink to its hub, then the path between the hubs with the least
// latency (ties: the wider); what a transfer gets is the least bandwidth
// along the way. A network of 10,000 sites in 20 regions is then a few
// lines of links, not 50 million pairs. Pure; not thread-safe (each
// source hub's paths are worked out on first use after a change).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stargate::sched {

class WanBackbone {
 public:
  // A link between the hubs of regions `a` and `b` (a second link between
  // the same two replaces the first).
  void Link(const std::string& a, const std::string& b, double bytes_per_s, double latency_s);
  bool empty() const { return hub_.empty(); }
  // The bandwidth (bytes/s) of the least-latency path between the hubs of
  // regions `a` and `b` (infinite when a == b), or nullopt when either is
  // not on the backbone or no path joins them.
  std::optional<double> PathBytesPerSec(std::string_view a, std::string_view b) const;
  // That path's latency, one way, in seconds (nullopt as above).
  std::optional<double> PathLatency(std::string_view a, std::string_view b) const;

 private:
  struct Edge {
    uint32_t to;
    double bytes_per_s;
    int64_t latency_ns;
  };
  struct Path {
    int64_t latency_ns;  // max: no path
    double bytes_per_s;
  };
  std::optional<Path> PathBetween(std::string_view a, std::string_view b) const;
  // The chosen path from hub `s` to every hub.
  const std::vector<Path>& From(uint32_t s) const;

  std::map<std::string, uint32_t, std::less<>> hub_;
  std::vector<std::vector<Edge>> edges_;  // per hub
  // Per source hub, once asked for (empty: not yet): the path to each hub.
  mutable std::vector<std::vector<Path>> from_;
};

}  // namespace stargate::sched
