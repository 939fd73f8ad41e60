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

Time EarliestRoom(const ClusterState& state, PoolId p, int64_t need, const Claims& claims, Time now, int64_t* extra,
                  Time limit) {
  int64_t avail = claims.Unreserved(state, p);
  Time at = now;
  if (avail < need) {
    const auto covering = state.running(p).FirstCovering(need - avail);
    if (!covering || covering->entry.end > limit) return Time::Never();
    at = std::max(now, covering->entry.end);
    avail += covering->released;
  }
  if (extra != nullptr) *extra = avail - need;
  return at;
}

Reservation Reserve(const ClusterState& state, const JobRequest& head, const Claims& claims, Time now) {
  Reservation best;
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (!PoolAllows(state, p, head)) continue;
    const PoolState& pool = state.pool(p);
    const GangShape shape = ShapeFor(head, pool.per_node);
    const int64_t need = shape.devices();
    if (need + static_cast<int64_t>(pool.hot_spares) * pool.per_node > pool.total_devices()) continue;
    int64_t extra = 0;
    const Time shadow = EarliestRoom(state, p, need, claims, now, &extra);
    if (shadow == Time::Never()) continue;
    if (!best.valid || shadow < best.shadow) {
      best.valid = true;
      best.pool = p;
      best.shadow = shadow;
      best.extra = extra;
    }
  }
  return best;
}

}  // namespace stargate::sched
