#include "sched/preemption.h"

#include <algorithm>
#include <utility>

#include "sched/placement.h"

namespace stargate::sched {

std::optional<PreemptionPlan> PlanPreemption(const ClusterState& state, const JobRequest& req, const Claims& claims,
                                             Time now, const std::unordered_set<uint32_t>& taken) {
  std::optional<PreemptionPlan> best;
  std::vector<std::pair<double, const RunningGang*>> pool_victims;
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (!PoolAllows(state, p, req)) continue;
    const PoolState& pool = state.pool(p);
    const int64_t need = ShapeFor(req, pool.per_node).devices();
    int64_t room = claims.Unreserved(state, p);
    // Devices are there but the job still could not start (fragments, the
    // power cap, a reservation): stopping gangs by device count would not
    // reliably help.
    if (room >= need) continue;
    int64_t draining = 0;
    pool_victims.clear();
    for (const ReleaseEntry& e : state.running(p)) {
      const RunningGang* g = state.Running(e.job);
      if (g == nullptr) continue;
      if (g->draining) {
        draining += g->devices;  // already on its way out
      } else if (g->devices > 0 && g->priority < req.priority && !taken.count(g->job.value())) {
        // (A share of a device, devices 0, is no victim: stopping it frees
        // no device while its slot's other shares run.)
        const double cost = static_cast<double>(g->devices) * g->LostIfStoppedAt(now).seconds();
        pool_victims.emplace_back(cost, g);
      }
    }
    room += draining;
    if (draining > 0 && room >= need) {  // the draining gangs are enough: wait for them, stop nobody
      return PreemptionPlan{p, {}, 0.0};
    }
    std::sort(pool_victims.begin(), pool_victims.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second->job < b.second->job;
    });
    PreemptionPlan plan{p, {}, 0.0};
    for (const auto& [cost, g] : pool_victims) {
      if (room >= need) break;
      plan.victims.push_back(g->job);
      plan.lost_device_s += cost;
      room += g->devices;
    }
    if (room < need) continue;  // even stopping every eligible gang is not enough
    if (!best.has_value() || plan.lost_device_s < best->lost_device_s) best = std::move(plan);
  }
  return best;
}

}  // namespace stargate::sched
