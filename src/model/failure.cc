#include "model/failure.h"

#include <algorithm>
#include <iterator>

namespace stargate::model {
namespace {

// The Llama 3 snapshot (Dubey et al. 2024, §3.3.4 and Table 5).
constexpr double kSnapshotYears = 54.0 / 365.0;
constexpr double kSnapshotDevices = 16384;
constexpr double kSnapshotNodes = 2048;
constexpr double kHoursPerYear = 365.0 * 24.0;

struct Row {
  const char* name;
  FailureScope scope;
  int count;        // interruptions in the 54-day snapshot
  Duration repair;  // ESTIMATE: time the unit is out of service
};

// Repair times are ESTIMATES (the paper gives none): how long the unit stays
// out of service, not how long the job takes to restart.
constexpr Row kRows[] = {
    // Board swap: drain, replace, burn-in, return to service.
    {"faulty_gpu", FailureScope::kAccelerator, 148, Duration::Hours(48)},
    {"gpu_hbm3", FailureScope::kAccelerator, 72, Duration::Hours(48)},               // HBM is on-package
    {"gpu_sram", FailureScope::kAccelerator, 19, Duration::Hours(24)},               // reset + diagnostics
    {"gpu_system_processor", FailureScope::kAccelerator, 17, Duration::Hours(2)},    // reboot
    {"silent_data_corruption", FailureScope::kAccelerator, 6, Duration::Hours(48)},  // find + swap
    {"gpu_thermal", FailureScope::kAccelerator, 6, Duration::Hours(8)},              // cooling fix, reseat
    {"software_bug", FailureScope::kNode, 54, Duration::Minutes(30)},                // restart
    {"network_switch_cable", FailureScope::kNode, 35, Duration::Hours(6)},           // reseat/replace
    {"host_maintenance", FailureScope::kNode, 32, Duration::Hours(24)},              // unplanned work
    {"nic", FailureScope::kNode, 7, Duration::Hours(8)},                             // card swap, one shift
    {"nccl_watchdog", FailureScope::kNode, 7, Duration::Minutes(30)},                // restart
    {"ssd", FailureScope::kNode, 3, Duration::Hours(8)},                             // drive swap + reimage
    {"psu", FailureScope::kNode, 3, Duration::Hours(4)},                             // hot-swap part
    {"chassis", FailureScope::kNode, 2, Duration::Hours(48)},                        // server replacement
    {"io_board", FailureScope::kNode, 2, Duration::Hours(24)},                       // board swap
    {"dependency", FailureScope::kNode, 2, Duration::Hours(2)},                      // external service back
    {"cpu", FailureScope::kNode, 2, Duration::Hours(48)},                            // motherboard-level
    {"dram", FailureScope::kNode, 2, Duration::Hours(8)},                            // DIMM swap
};

}  // namespace

std::vector<FailureComponent> LlamaThreeComponents() {
  std::vector<FailureComponent> out;
  out.reserve(std::size(kRows));
  for (const Row& r : kRows) {
    const double units = r.scope == FailureScope::kAccelerator ? kSnapshotDevices : kSnapshotNodes;
    out.push_back({r.name, r.scope, r.count / (units * kSnapshotYears), r.repair});
  }
  return out;
}

double FailuresPerHour(const std::vector<FailureComponent>& components, int64_t devices, int64_t nodes, int64_t sites,
                       double rate_scale) {
  double per_year = 0;
  for (const FailureComponent& c : components) {
    int64_t units = 0;
    switch (c.scope) {
      case FailureScope::kAccelerator:
        units = devices;
        break;
      case FailureScope::kNode:
        units = nodes;
        break;
      case FailureScope::kSite:
        units = sites;
        break;
    }
    per_year += c.rate_per_year * static_cast<double>(std::max<int64_t>(units, 0));
  }
  return per_year * rate_scale / kHoursPerYear;
}

Duration MeanTimeBetweenFailures(const std::vector<FailureComponent>& components, int64_t devices, int64_t nodes,
                                 double rate_scale) {
  const double rate = FailuresPerHour(components, devices, nodes, 0, rate_scale);
  return rate > 0 ? Duration::FromSeconds(3600.0 / rate) : Duration::Infinite();
}

double PosteriorRate(int64_t failures, double exposure_hours, double prior_rate, double prior_events) {
  const double f = static_cast<double>(std::max<int64_t>(0, failures));
  return (f + prior_events) / (std::max(0.0, exposure_hours) + prior_events / prior_rate);
}

}  // namespace stargate::model
