#include "sched/backfill.h"

#include <algorithm>

#include "sched/placement.h"

namespace stargate::sched {

bool Reservation::Allows(PoolId p, Time now, double runtime_s, int64_t devices) const {
  if (!valid || p != pool) return true;
  if (now + Duration::FromSeconds(runtime_s) <= shadow) return true;
  return devices <= extra;
}

void Reservation::Take(PoolId p, Time now, double runtime_s, int64_t devices) {
  if (!valid || p != pool) return;
  if (now + Duration::FromSeconds(runtime_s) <= shadow) return;
  extra -= devices;
}

Reservation Reserve(const ClusterState& state, const JobRequest& head, const Claims& claims, Time now,
                    std::vector<std::pair<Time, int64_t>>& scratch) {
  Reservation best;
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (!PoolAllows(state, p, head)) continue;
    const PoolState& pool = state.pool(p);
    const GangShape shape = ShapeFor(head.accelerators, pool.per_node);
    const int64_t need = static_cast<int64_t>(shape.nodes) * shape.per_node;
    if (need + static_cast<int64_t>(pool.hot_spares) * pool.per_node > pool.total_devices()) continue;
    int64_t avail = pool.free_devices - claims.OnPool(p) - static_cast<int64_t>(pool.hot_spares) * pool.per_node;
    Time shadow = now;
    if (avail < need) {
      scratch.clear();
      for (const RunningGang& g : state.running(p)) scratch.emplace_back(g.expected_end, g.devices);
      std::sort(scratch.begin(), scratch.end());
      bool found = false;
      for (const auto& [end, devices] : scratch) {
        avail += devices;
        if (avail >= need) {
          shadow = std::max(now, end);
          found = true;
          break;
        }
      }
      if (!found) continue;  // down nodes: not within the known calendar
    }
    if (!best.valid || shadow < best.shadow) {
      best.valid = true;
      best.pool = p;
      best.shadow = shadow;
      best.extra = avail - need;
    }
  }
  return best;
}

}  // namespace stargate::sched
