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

void ReleaseCalendar::Reset(const ClusterState& state) {
  cumulative_.resize(state.pools().size());
  built_.assign(state.pools().size(), 0);
}

Time ReleaseCalendar::EarliestFor(const ClusterState& state, PoolId p, int64_t need, const Claims& claims,
                                  Time now, int64_t* extra) {
  const PoolState& pool = state.pool(p);
  const int64_t avail = pool.free_devices - claims.OnPool(p) - static_cast<int64_t>(pool.hot_spares) * pool.per_node;
  if (avail >= need) {
    if (extra != nullptr) *extra = avail - need;
    return now;
  }
  auto& cum = cumulative_[p.value()];
  if (!built_[p.value()]) {
    built_[p.value()] = 1;
    cum.clear();
    for (const RunningGang& g : state.running(p)) cum.emplace_back(g.expected_end, g.devices);
    std::sort(cum.begin(), cum.end());
    int64_t sum = 0;
    for (auto& [end, devices] : cum) devices = (sum += devices);
  }
  // First entry whose cumulative release covers the shortfall.
  auto it = std::lower_bound(cum.begin(), cum.end(), need - avail,
                             [](const std::pair<Time, int64_t>& e, int64_t v) { return e.second < v; });
  if (it == cum.end()) return Time::Never();
  if (extra != nullptr) *extra = avail + it->second - need;
  return std::max(now, it->first);
}

Reservation Reserve(const ClusterState& state, const JobRequest& head, const Claims& claims, Time now,
                    ReleaseCalendar& calendar) {
  Reservation best;
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (!PoolAllows(state, p, head)) continue;
    const PoolState& pool = state.pool(p);
    const GangShape shape = ShapeFor(head.accelerators, pool.per_node);
    const int64_t need = static_cast<int64_t>(shape.nodes) * shape.per_node;
    if (need + static_cast<int64_t>(pool.hot_spares) * pool.per_node > pool.total_devices()) continue;
    int64_t extra = 0;
    const Time shadow = calendar.EarliestFor(state, p, need, claims, now, &extra);
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
