#include "sched/power_ramp.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "model/power.h"
#include "model/power_cap.h"

namespace stargate::sched {
namespace {
constexpr Time kNeverUsed = Time::FromNanos(INT64_MIN / 2);
}  // namespace

double GangRiseWatts(AcceleratorType type, int64_t devices, double utilisation, double power_cap, double pue) {
  const AcceleratorSpec& spec = Spec(type);
  const double per_device = model::DevicePower(spec, utilisation).value() - model::DevicePower(spec, 0.0).value() -
                            model::PowerCapEffect(spec, utilisation, power_cap).saved.value();
  return model::FacilityPower(Watts(std::max(0.0, per_device) * static_cast<double>(devices)), pue).value();
}

Rise GangRise(AcceleratorType type, int64_t devices, double utilisation, double power_cap, double pue) {
  Rise r;
  const double total = GangRiseWatts(type, devices, utilisation, power_cap, pue);
  // The floor: the same work under the lowest limit an agent sets.
  const double floor_cap = power_cap > 0 ? std::min(power_cap, model::kMinCapFraction) : model::kMinCapFraction;
  r.step_w = std::min(total, GangRiseWatts(type, devices, utilisation, floor_cap, pue));
  r.ramp_w = total - r.step_w;
  return r;
}

RampSlot RiseSeconds(const Rise& rise, double w_per_s) {
  RampSlot s;
  if (w_per_s <= 0) return s;
  s.hold = Duration::Seconds(static_cast<int64_t>(std::ceil(rise.step_w / w_per_s)));
  s.up = Duration::Seconds(static_cast<int64_t>(std::ceil(rise.ramp_w / w_per_s)));
  return s;
}

int64_t StepsOf(Duration up) { return std::max<int64_t>(1, up.nanos() / Duration::Seconds(1).nanos()); }

Rise DrawnAt(const Rise& rise, const RampSlot& slot, Duration since) {
  Rise d;
  if (since < slot.after) return d;
  d.step_w = rise.step_w;
  const Duration into = since - slot.after - slot.hold;
  if (into < Duration::Zero() || rise.ramp_w <= 0) return d;
  const int64_t ticks = StepsOf(slot.up);
  const int64_t done = std::min(ticks, into.nanos() / Duration::Seconds(1).nanos() + 1);
  d.ramp_w = rise.ramp_w * static_cast<double>(done) / static_cast<double>(ticks);
  return d;
}

RampSlot FallSeconds(const Rise& drawn, double w_per_s) { return RiseSeconds(drawn, w_per_s); }

Duration RampChannels::Fall(const std::string& site, const Rise& drawn, double w_per_s, Time now) {
  if (w_per_s <= 0 || drawn.total() <= 0) return Duration::Zero();
  const RampSlot f = FallSeconds(drawn, w_per_s);
  Time& falls_end = falls_end_.try_emplace(site, kNeverUsed).first->second;
  const Time begin = std::clamp(falls_end, now, now + kMaxFallWait);
  held_falls_ += begin > now ? 1 : 0;
  overdue_falls_ += falls_end > now + kMaxFallWait ? 1 : 0;
  // Its steps, the floor's hold, the release, and the rest after it.
  const Time end = begin + f.up + f.hold + f.hold;
  falls_end = std::max(falls_end, end);
  Time& free_at = free_at_.try_emplace(site, kNeverUsed).first->second;
  free_at = std::max(free_at, end);
  return begin - now;
}

void RampChannels::Reserve(const std::string& site, Time until) {
  Time& free_at = free_at_.try_emplace(site, kNeverUsed).first->second;
  free_at = std::max(free_at, until);
}

RampSlot RampChannels::Take(const std::string& site, const Rise& rise, double w_per_s, Time now) {
  RampSlot slot;
  if (w_per_s <= 0 || rise.total() <= 0) return slot;
  Time& free_at = free_at_.try_emplace(site, kNeverUsed).first->second;
  // Whole seconds: the drivers change the power once a second, each step
  // no larger than the rate. The launch step is as large as `hold`
  // seconds of the rate, so the channel rests that long on both sides of
  // it: any minute that holds the step then holds that many fewer steps.
  const RampSlot seconds = RiseSeconds(rise, w_per_s);
  slot.hold = seconds.hold;
  slot.up = seconds.up;
  const Time launch = std::max(now, free_at + slot.hold);
  slot.after = launch - now;
  free_at = launch + slot.hold + slot.up;
  return slot;
}

void RampChannels::Choreograph(const ClusterState& state, const Queue& queue, Time now, Decisions* decisions) {
  std::vector<std::pair<JobId, RampSlot>> repaired;  // this pass's slot per repaired gang
  for (Decision& d : decisions->items) {
    if (auto* repair = std::get_if<Repair>(&d)) {
      const auto req = std::find_if(queue.repairs().begin(), queue.repairs().end(),
                                    [&](const JobRequest& r) { return r.id == repair->job; });
      if (req == queue.repairs().end()) continue;
      const PoolState& pool = state.pool(state.PoolOf(repair->spare));
      const SiteState& site = state.site(pool.site);
      if (site.ramp_w_per_s <= 0) continue;
      auto done = std::find_if(repaired.begin(), repaired.end(), [&](const auto& p) { return p.first == repair->job; });
      if (done == repaired.end()) {
        const Rise rise = GangRise(pool.type, req->accelerators, req->utilisation, 0, site.pue);
        repaired.emplace_back(repair->job, Take(site.name, rise, site.ramp_w_per_s, now));
        done = std::prev(repaired.end());
      }
      repair->ramp_after = done->second.after;
      repair->ramp_hold = done->second.hold;
      repair->ramp_up = done->second.up;
      continue;
    }
    auto* start = std::get_if<Start>(&d);
    if (start == nullptr || !queue.Contains(start->job)) continue;
    const SiteState& site = state.site(start->site);
    // A share's device is shared: its limit is no one job's to ramp, and a
    // share's rise is a part of one device's.
    if (site.ramp_w_per_s <= 0 || start->share_milli > 0) continue;
    const int64_t devices = static_cast<int64_t>(start->nodes.size()) * start->per_node;
    const Rise rise = GangRise(state.pool(start->pool).type, devices, queue.at(start->job.value()).utilisation,
                               start->power_cap, site.pue);
    const RampSlot slot = Take(site.name, rise, site.ramp_w_per_s, now);
    start->ramp_after = slot.after;
    start->ramp_hold = slot.hold;
    start->ramp_up = slot.up;
    if (rise.total() > 0) {
      start->reason += fmt::format("; power ramp {:.3f} MW: launch in {:.0f} s, full {:.0f} s later",
                                   rise.total() / 1e6, slot.after.seconds(), (slot.hold + slot.up).seconds());
    }
  }
}

}  // namespace stargate::sched
