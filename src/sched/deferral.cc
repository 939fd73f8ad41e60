#include "sched/deferral.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "model/step_time.h"
#include "sched/placement.h"

namespace stargate::sched {
namespace {

// Re-check a job waiting for room at a cleaner site this often.
constexpr Duration kRecheck = Duration::Minutes(30);

}  // namespace

std::optional<Defer> AdviseDeferral(const ClusterState& state, const JobRequest& req, const Candidate& best_now,
                                    const SchedulerSpec& spec, Time now, const Claims& claims,
                                    const PoolOrders& orders) {
  if (!spec.defer || !req.deferrable || req.resumed || req.deadline == Time::Never()) return std::nullopt;
  const SiteState& here = state.site(state.pool(best_now.pool).site);
  const double intensity_now = here.signals.carbon;
  // The cleanest place-and-hour the job accepts with room by then: pools
  // from the cleanest forecast up, so the first that qualifies is it (ties
  // in pool order), and once the forecast is not clean enough to wait for
  // nothing further on is.
  double cleanest = std::numeric_limits<double>::infinity();
  Time cleanest_at = now;
  for (size_t i = 0; i < orders.All().size(); ++i) {
    const auto [p, min_ahead] = orders.MinAheadAt(i);
    if (!(intensity_now > (1.0 + spec.defer_threshold) * min_ahead)) return std::nullopt;
    if (!PoolAllows(state, p, req)) continue;
    const PoolState& pool = state.pool(p);
    if (pool.total_devices() < req.accelerators) continue;
    const Time clean_at = std::max(now, state.site(pool.site).signals.carbon_min_at);
    const GangShape shape = ShapeFor(req, pool.per_node);
    const Time room_by = std::max(clean_at, now + kRecheck);
    const Time room_at = EarliestRoom(state, p, shape.devices(), claims, now, nullptr, room_by);
    if (room_at == Time::Never()) continue;  // no room in time: not an option
    cleanest = min_ahead;
    cleanest_at = clean_at;
    break;
  }
  if (cleanest == std::numeric_limits<double>::infinity()) return std::nullopt;
  // The run could end up on the slowest type it accepts.
  double slowest_s = 0;
  for (int t = 0; t < kNumAcceleratorTypes; ++t) {
    const auto type = static_cast<AcceleratorType>(t);
    if ((req.accel_mask & MaskOf(type)) == 0) continue;
    for (PoolId p : orders.OfType(type)) {
      if (!PoolAllows(state, p, req) || state.pool(p).total_devices() < req.accelerators) continue;
      slowest_s = std::max(slowest_s, req.estimate.seconds() / model::RelativeThroughput(type, req.reference));
      break;
    }
  }
  const Time latest_start = req.deadline - Duration::FromSeconds(slowest_s * (1.0 + spec.defer_margin));
  if (now >= latest_start) return std::nullopt;
  // Wait for the clean hour, or, when the clean place is another site that
  // is full now, look again shortly.
  const Time until = std::min(latest_start, cleanest_at > now ? cleanest_at : now + kRecheck);
  return Defer{req.id, until,
               fmt::format("deferred: {} at {:.0f} g/kWh now; {:.0f} g/kWh expected in {:.1f} h", here.name,
                           intensity_now, cleanest, (until - now).seconds() / 3600.0)};
}

}  // namespace stargate::sched
