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
                                    const SchedulerSpec& spec, Time now, const Claims& claims) {
  if (!spec.defer || !req.deferrable || req.resumed || req.deadline == Time::Never()) return std::nullopt;
  double cleanest = std::numeric_limits<double>::infinity();
  Time cleanest_at = now;
  double slowest_s = 0;  // the run could end up on the slowest acceptable pool
  for (size_t i = 0; i < state.pools().size(); ++i) {
    const PoolId p(static_cast<uint16_t>(i));
    if (!PoolAllows(state, p, req)) continue;
    const PoolState& pool = state.pool(p);
    if (pool.total_devices() < req.accelerators) continue;
    slowest_s = std::max(slowest_s, req.estimate.seconds() / model::RelativeThroughput(pool.type, req.reference));
    const SiteSignals& sig = state.site(pool.site).signals;
    if (sig.carbon_min_ahead >= cleanest) continue;
    const Time clean_at = std::max(now, sig.carbon_min_at);
    const GangShape shape = ShapeFor(req, pool.per_node);
    const Time room_by = std::max(clean_at, now + kRecheck);
    const Time room_at = EarliestRoom(state, p, shape.devices(), claims, now, nullptr, room_by);
    if (room_at == Time::Never()) continue;  // no room in time: not an option
    cleanest = sig.carbon_min_ahead;
    cleanest_at = clean_at;
  }
  const SiteState& here = state.site(state.pool(best_now.pool).site);
  const double intensity_now = here.signals.carbon;
  if (!(intensity_now > (1.0 + spec.defer_threshold) * cleanest)) return std::nullopt;
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
