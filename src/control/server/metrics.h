// File: metrics.h
// What `stargate server` exposes at GET /metrics, in the Prometheus text
// format (version 0.0.4): counters and histograms the server updates as it
// works (Metrics), and gauges read from the control plane at scrape time
// (RenderMetrics): jobs by state, nodes up and down, accelerators free and
// used and GPU power per site, each node's heartbeat age, the queue-wait
// and scheduler-pass histograms. Not thread-safe: the control plane
// updates and renders them under its lock, like everything they read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "control/server/checkpoint_replicator.h"
#include "control/server/site_book.h"
#include "core/site_file.h"
#include "core/units.h"

namespace stargate::control {

class JobRegistry;
class NodeRegistry;

// A cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
  void Observe(double v);
  // The _bucket, _sum and _count lines for metric `name`.
  std::string Render(const std::string& name) const;
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

struct Metrics {
  // Submit to first start (s): minutes-long waits are normal, days are not.
  Histogram queue_wait{{1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}};
  // One control-loop pass (Tick), wall time (s).
  Histogram scheduler_pass{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};
  uint64_t heartbeats = 0;         // agent heartbeats handled
  uint64_t registrations = 0;      // agent registrations accepted
  uint64_t refused = 0;            // agent calls refused: no proof of the node, or not its holder
  uint64_t stalls = 0;             // control-loop stalls credited to nodes (NodeRegistry::NotePass)
  int64_t long_polls = 0;          // heartbeats waiting in a long poll now
  uint64_t polls_turned_away = 0;  // heartbeats answered at once, max_long_polls being held
};

// The whole exposition at `now`: the counters and histograms of `metrics`,
// gauges from the registries and what --sites says of each site.
// `sites` may be null (no --sites file).
std::string RenderMetrics(JobRegistry& jobs, const NodeRegistry& nodes, const SiteBook* sites,
                          const std::map<std::string, SiteDraw>& draw, const Metrics& metrics, Time now);

// The checkpoint copies between sites (checkpoint_replicator.h): counters
// and the copies not done yet.
std::string RenderCheckpointMetrics(const ReplicatorCounters& c, int in_flight);

}  // namespace stargate::control
