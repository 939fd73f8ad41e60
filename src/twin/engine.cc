#include "twin/engine.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "model/checkpoint.h"
#include "model/failure.h"
#include "model/geo.h"
#include "model/placement_shape.h"
#include "model/power.h"
#include "model/power_cap.h"
#include "model/step_time.h"
#include "sched/grid_signals.h"
#include "sched/site_score.h"

namespace stargate::twin {
namespace {

constexpr double kHoursPerYear = 8760.0;
constexpr double kNsPerHour = 3.6e12;

// Checkpoint cost for non-training work, whose state size is unknown.
constexpr Duration kDefaultCheckpointWrite = Duration::Seconds(30);

}  // namespace

Engine::Engine(const TwinInputs& inputs, std::unique_ptr<sched::Scheduler> scheduler)
    : in_(inputs),
      scheduler_(std::move(scheduler)),
      state_(inputs.spec.sites),
      rng_(inputs.spec.seed),
      jobs_on_node_(state_.num_nodes()) {
  if (scheduler_->UsesTenantOrder()) queue_.KeepTenantOrder();
  const auto& sites = in_.spec.sites;
  const int64_t hours =
      std::max<int64_t>(1, (in_.spec.duration.nanos() + Duration::Hours(1).nanos() - 1) / Duration::Hours(1).nanos());
  meters_.assign(sites.size(), SiteMeter(hours));
  ramp_step_at_.assign(sites.size(), Time::Never());
  for (const SiteSpec& site : sites) ramps_.emplace_back(site.power_ramp.RateWattsPerSecond());
  for (size_t s = 0; s < sites.size(); ++s) {
    carbon_integral_.emplace_back(in_.carbon[s], hours);
    price_integral_.emplace_back(in_.price[s], hours);
  }
  jobs_.resize(in_.jobs.size());
  uint32_t largest_pool = 0;
  for (const auto& p : state_.pools()) largest_pool = std::max(largest_pool, p.num_nodes);
  mark_domain_.assign(largest_pool, 0);
  mark_leaf_.assign(largest_pool, 0);
  mark_pod_.assign(largest_pool, 0);
  pool_util_sum_.assign(state_.pools().size(), 0.0);
  pool_cut_w_.assign(state_.pools().size(), 0.0);
  if (in_.spec.scheduler.power_save.enabled) {
    for (const auto& pool : state_.pools()) {
      savers_.emplace_back(
          WarmDevices(in_.spec.scheduler.power_save.warm, pool.num_nodes, pool.per_node, pool.hot_spares));
    }
  }
  for (const WanLinkSpec& w : in_.spec.wan) {  // checkpoint copies and data moves (the parser checked the names)
    if (w.regions) {
      // The backbone routes by latency: a link's own, else its length
      // between the regions' centres over fibre.
      double latency_s = w.latency.seconds();
      double lat_a = 0, lon_a = 0, lat_b = 0, lon_b = 0;
      if (latency_s <= 0 && state_.PlaceCoordinates(w.a, &lat_a, &lon_a) &&
          state_.PlaceCoordinates(w.b, &lat_b, &lon_b)) {
        latency_s = model::FiberRouteLatency(model::HaversineKm(lat_a, lon_a, lat_b, lon_b)).seconds();
      }
      state_.LinkRegions(w.a, w.b, w.bandwidth.value(), latency_s);
      continue;
    }
    const std::optional<SiteId> a = state_.FindSite(w.a), b = state_.FindSite(w.b);
    if (a && b) state_.SetWanLink(*a, *b, w.bandwidth.value(), w.latency.seconds());
  }
  pool_fail_rate_.assign(state_.pools().size(), 0.0);
  site_fail_rate_.assign(sites.size(), 0.0);
  site_failures_.assign(sites.size(), 0);
  site_down_.assign(sites.size(), 0);
  drained_.assign(state_.num_nodes(), false);

  const double scale = in_.spec.failures.rate_scale;
  for (size_t p = 0; p < state_.pools().size(); ++p) {
    const auto& pool = state_.pools()[p];
    double per_hour = 0;
    for (const auto& c : in_.failures) {
      if (c.scope == FailureScope::kAccelerator) per_hour += c.rate_per_year * pool.total_devices();
      if (c.scope == FailureScope::kNode) per_hour += c.rate_per_year * pool.num_nodes;
    }
    pool_fail_rate_[p] = per_hour * scale / kHoursPerYear / kNsPerHour;
    // The site's measured rate is a measurement: not scaled.
    pool_fail_rate_[p] += sites[pool.site.value()].node_failures_per_year * pool.num_nodes / kHoursPerYear / kNsPerHour;
  }
  for (size_t s = 0; s < sites.size(); ++s) {
    double per_hour = 0;
    for (const auto& c : in_.failures) {
      if (c.scope == FailureScope::kSite) per_hour += c.rate_per_year;
    }
    site_fail_rate_[s] = per_hour * scale / kHoursPerYear / kNsPerHour;
  }

  // Each job's placement asks, resolved once per distinct ask (resolving
  // costs a pass over the sites), so the hot path never touches strings;
  // jobs asking alike (a workload group) share one entry.
  using Ask = std::tuple<std::vector<std::string>, std::vector<std::string>, std::string, bool, sched::AcceleratorMask>;
  std::map<Ask, uint32_t> seen;
  placement_of_.resize(in_.jobs.size());
  for (size_t j = 0; j < in_.jobs.size(); ++j) {
    const JobSpec& spec = in_.jobs[j];
    Ask ask{spec.jurisdictions, spec.regions, spec.near, spec.max_rtt > Duration::Zero(),
            sched::MaskOfTypes(spec.accelerators)};
    auto [it, added] = seen.try_emplace(std::move(ask), static_cast<uint32_t>(placements_.size()));
    if (added) placements_.push_back(sched::ResolvePlacement(spec, state_));
    placement_of_[j] = it->second;
    jobs_[j].utilisation = sched::UtilisationOf(in_.jobs[j].kind);
  }
  // Run-time estimates the scheduler scores and backfills with: the given
  // duration, or for training the pure compute time 6ND / (devices x peak x
  // MFU) on the reference accelerator (communication comes on placement).
  estimate_.resize(in_.jobs.size());
  for (size_t j = 0; j < in_.jobs.size(); ++j) {
    const JobSpec& spec = in_.jobs[j];
    estimate_[j] = spec.estimate > Duration::Zero() ? spec.estimate : spec.duration;
    if (spec.kind != JobKind::kTraining) continue;
    estimate_[j] = model::PureComputeTime(spec.training, Spec(sched::ReferenceOf(spec)), spec.accelerator_count);
  }
  // Tenants as dense ids, in first-seen order (deterministic for a seed),
  // with their fair-share weights.
  std::unordered_map<std::string, TenantId> tenant_ids;
  tenant_.resize(in_.jobs.size());
  for (size_t j = 0; j < in_.jobs.size(); ++j) {
    // TenantId has 65,535 values; any tenants past that share the last one.
    const auto next = static_cast<uint16_t>(std::min<size_t>(tenant_ids.size(), 65534));
    tenant_[j] = tenant_ids.try_emplace(in_.jobs[j].tenant, TenantId(next)).first->second;
  }
  for (const auto& w : in_.spec.scheduler.tenants) {
    auto it = tenant_ids.find(w.tenant);
    if (it != tenant_ids.end()) state_.SetTenantWeight(it->second, w.weight);
  }
  for (size_t s = 0; s < sites.size(); ++s) RefreshSitePower(static_cast<uint32_t>(s), Time::Epoch());
}

void Engine::RefreshSitePower(uint32_t site, Time now) {
  SiteMeter& meter = meters_[site];
  meter.AdvanceTo(now);
  const auto& ss = state_.site(SiteId(static_cast<uint16_t>(site)));
  double it_w = 0;
  int64_t busy = 0;
  if (site_down_[site] == 0) {
    for (PoolId p : ss.pools) {
      const auto& pool = state_.pool(p);
      const double util = pool.busy_devices > 0 ? pool_util_sum_[p.value()] / pool.busy_devices : 0.0;
      // With power saving only busy and still-powered idle devices draw.
      const int64_t powered = savers_.empty()
                                  ? pool.total_devices()
                                  : std::min(pool.total_devices(), pool.busy_devices + savers_[p.value()].on_idle());
      it_w += model::PoolPower(Spec(pool.type), powered, pool.busy_devices, util).value() - pool_cut_w_[p.value()];
      busy += pool.busy_devices;
    }
  }
  const double facility_w =
      site_down_[site] == 0 ? model::FacilityPower(Watts(it_w), ss.pue).value() + ramps_[site].offset_w() : 0.0;
  meter.Set(std::max(0.0, facility_w), busy, site_down_[site] == 0);
  sched::SiteSignals signals = ss.signals;
  signals.facility_w = meter.facility_w();
  state_.SetSignals(SiteId(static_cast<uint16_t>(site)), signals);
}

sched::Rise Engine::RiseOf(uint32_t j) const {
  const JobState& js = jobs_[j];
  return sched::GangRise(state_.pools()[js.pool].type, static_cast<int64_t>(js.nodes.size()) * js.per_node,
                         js.utilisation, js.power_cap, state_.site(state_.pools()[js.pool].site).pue);
}

void Engine::PlanRise(uint32_t j, const sched::RampSlot& slot, Time now) {
  const uint32_t site = state_.pools()[jobs_[j].pool].site.value();
  if (!Choreographed(site) || !slot.ramped()) return;
  ramps_[site].Plan(j, now, slot, RiseOf(j));
  jobs_[j].ramp_wait = slot.Lost();
  ++ramped_starts_;
  ramp_wait_s_ += slot.Lost().seconds();
  StepRamp(site, now);
}

void Engine::HoldFall(uint32_t j, uint32_t site, Time now) {
  const sched::Rise drawn = ramps_[site].Stop(j, RiseOf(j), now);
  const sched::SiteState& ss = state_.site(SiteId(static_cast<uint16_t>(site)));
  ramps_[site].DelayFall(j, ramp_channels_.Fall(ss.name, drawn, ss.ramp_w_per_s, now));
  StepRamp(site, now);
}

void Engine::StepRamp(uint32_t site, Time now) {
  const Time next = ramps_[site].Advance(now);
  RefreshSitePower(site, now);
  if (next != Time::Never() && next < ramp_step_at_[site]) {
    ramp_step_at_[site] = next;
    events_.Push(next, EventType::kRampStep, site);
  }
}

void Engine::FreedDevices(uint32_t p, int64_t devices, Time now) {
  if (savers_.empty() || devices <= 0) return;
  savers_[p].Freed(now, devices);
  events_.Push(now + in_.spec.scheduler.power_save.idle_after, EventType::kPowerSweep, p);
}

void Engine::TakeDevices(uint32_t p, int64_t devices, uint32_t j) {
  if (savers_.empty()) return;
  if (savers_[p].Take(devices) > 0) jobs_[j].booting = true;
}

void Engine::PushGridSignals(Time now) {
  const int64_t hour = now.nanos() / Duration::Hours(1).nanos();
  if (hour == signals_hour_) return;
  signals_hour_ = hour;
  if (staged_from_ < 0 || hour < staged_from_ || hour >= staged_from_ + kStagedHours) StageGridSignals(hour);
  const size_t n = in_.spec.sites.size();
  const StagedSignals* row = staged_.data() + static_cast<size_t>(hour - staged_from_) * n;
  const Time hour_start = Time::Epoch() + Duration::Hours(hour);
  for (size_t s = 0; s < n; ++s) {
    const SiteId id(static_cast<uint16_t>(s));
    sched::SiteSignals signals = state_.site(id).signals;
    signals.carbon = row[s].carbon;
    signals.price = row[s].price;
    signals.carbon_ahead = row[s].ahead;
    signals.carbon_min_ahead = row[s].min_ahead;
    signals.carbon_min_at = row[s].min_at == hour_start ? now : row[s].min_at;
    state_.SetSignals(id, signals);
  }
}

void Engine::StageGridSignals(int64_t hour) {
  // Hour by hour across the sites, each site's window (its own array, 70
  // KB a year) missed the cache: at 10,000 sites the push was a sixth of
  // a year's run. Site by site, a block of hours reads each series once,
  // in order, and each hour then reads this one array in order.
  //
  // The figures are SetGridSignals' at the hour's start, which are those
  // at any time within the hour: the series are hourly, and the forecast
  // models look back whole hours or days (grid_signals.h), except that a
  // window whose least is now's own value is "now".
  const size_t n = in_.spec.sites.size();
  staged_from_ = hour;
  staged_.resize(static_cast<size_t>(kStagedHours) * n);
  // Each site's series are their own arrays, and the loop waited on memory
  // at the first hours it read of each: the hours the site kAhead on will
  // read (to the end of the last hour's forecast window) are fetched
  // meanwhile. (At 10,000 sites, 7.7% of a run down to 4.5%.)
  constexpr size_t kAhead = 4;
  const int64_t last = hour + kStagedHours + in_.spec.scheduler.carbon_forecast.nanos() / Duration::Hours(1).nanos();
  for (size_t s = 0; s < n; ++s) {
    if (s + kAhead < n) {
      for (const HourValues* v : {&in_.carbon[s + kAhead].values, &in_.price[s + kAhead].values}) {
        const int64_t end = std::min(last + 1, static_cast<int64_t>(v->size()));
        for (int64_t h = std::max<int64_t>(hour, 0); h < end; h += 8) __builtin_prefetch(v->begin() + h, 0, 3);
      }
    }
    const auto carbon = [&](Time t) { return in_.carbon[s].At(t); };
    const auto price = [&](Time t) { return in_.price[s].At(t); };
    for (int64_t k = 0; k < kStagedHours; ++k) {
      const Time at = Time::Epoch() + Duration::Hours(hour + k);
      sched::SiteSignals g;
      sched::SetGridSignals(carbon, price, at, in_.spec.scheduler.carbon_forecast, in_.spec.scheduler.forecast_model,
                            &g);
      staged_[static_cast<size_t>(k) * n + s] =
          StagedSignals{g.carbon, g.price, g.carbon_ahead, g.carbon_min_ahead, g.carbon_min_at};
    }
  }
}

void Engine::Arrive(uint32_t j, Time now) {
  JobState& js = jobs_[j];
  js.arrived = true;
  js.pending_since = now;
  queue_.Push(RequestFor(j));
  dirty_ = true;
}

void Engine::StartRunning(const RunningAtStart& r) {
  const Time t0 = Time::Epoch();
  if (r.job >= jobs_.size() || r.nodes.empty() || jobs_[r.job].arrived) return;
  // Only a consistent claim (its nodes up, in one pool, each once, with
  // room): anything else (a stale record) arrives as queued work instead.
  const uint32_t nodes = state_.num_nodes();
  if (r.per_node < 1 || std::any_of(r.nodes.begin(), r.nodes.end(), [&](uint32_t n) { return n >= nodes; })) return;
  const PoolId pool = state_.PoolOf(NodeId(r.nodes[0]));
  std::vector<uint32_t> sorted = r.nodes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return;
  const JobSpec& spec = in_.jobs[r.job];
  if (spec.share_milli > 0) {  // its slot, open with room for it, or a free device to open it on
    const NodeId n(r.nodes[0]);
    const int used = r.share_slot >= 0 && r.share_slot < 256 ? state_.ShareUsed(n, r.share_slot) : -1;
    if (r.nodes.size() != 1 || r.per_node != 1 || used < 0 || !state_.IsUp(n) ||
        (used > 0 ? used + spec.share_milli > sched::ClusterState::kWholeShare : state_.FreeOn(n) < 1)) {
      return;
    }
  }
  for (uint32_t n : r.nodes) {
    if (state_.PoolOf(NodeId(n)) != pool || !state_.IsUp(NodeId(n))) return;
    if (spec.share_milli == 0 && state_.FreeOn(NodeId(n)) < r.per_node) return;
  }
  // ... and the job's own: its size, and an accelerator it accepts (a
  // hand-written scenario's `running:` may say otherwise).
  const AcceleratorType type = state_.pools()[pool.value()].type;
  if (int64_t{spec.accelerator_count} != static_cast<int64_t>(r.nodes.size()) * r.per_node) return;
  if (spec.per_node > 0 && spec.per_node != r.per_node) return;
  const bool accepted = spec.accelerators.empty() ? type != AcceleratorType::kCpu
                                                  : std::find(spec.accelerators.begin(), spec.accelerators.end(),
                                                              type) != spec.accelerators.end();
  if (!accepted) return;
  JobState& js = jobs_[r.job];
  js.arrived = true;
  js.pending_since = t0;
  js.remaining = std::clamp(r.remaining, 0.0, 1.0);
  js.start_remaining = js.remaining;
  js.head = std::max(Duration::Zero(), r.since_checkpoint);
  sched::Start s;
  s.job = JobId(r.job);
  s.pool = pool;
  s.site = state_.pools()[pool.value()].site;
  for (uint32_t n : r.nodes) s.nodes.push_back(NodeId(n));
  s.per_node = r.per_node;
  s.power_cap = r.power_cap;
  if (spec.share_milli > 0) {
    s.share_milli = spec.share_milli;
    s.share_slot = r.share_slot;
  }
  s.reason = "running when the run began";
  StartJob(s, t0);
}

sched::JobRequest Engine::RequestFor(uint32_t j) const {
  const JobState& js = jobs_[j];
  sched::JobContext context;
  context.id = JobId(j);
  context.tenant = tenant_[j];
  context.estimate = Duration::FromSeconds(estimate_[j].seconds() * std::max(0.0, js.remaining));
  context.resumed = js.first_start != Time::Never();
  context.queued_at = js.pending_since;
  context.utilisation = js.utilisation;
  sched::JobRequest req = sched::RequestOf(in_.jobs[j], placements_[placement_of_[j]], context);
  if (!in_.jobs[j].inputs.empty()) req.data = sched::ResolveData(in_.jobs[j].inputs, state_);
  // A job that resumes from its newest checkpoint in a live site's store:
  // a site without it is charged the staging StartJob spends (the server
  // charges the same from its replicator's view of the stores).
  if (in_.jobs[j].checkpoint.enabled && js.ckpt_site >= 0 && js.remaining < 1.0 && site_down_[js.ckpt_site] == 0) {
    const SiteId at(static_cast<uint16_t>(js.ckpt_site));
    req.data.push_back(sched::DataNeed{"checkpoint", CheckpointBytesOf(j), {at}, /*checkpoint=*/true});
  }
  if (js.holding) {  // a gang repair: spares for the failed nodes only
    for (uint32_t n : js.failed) req.repair.push_back(NodeId(n));
    req.repair_pool = PoolId(js.pool);
    req.per_node = js.per_node;
  }
  return req;
}

void Engine::RunSchedulerPass(Time now) {
  ++passes_;
  PushGridSignals(now);
  sched::Decisions decisions = scheduler_->Schedule(state_, queue_, now);
  ramp_channels_.Choreograph(state_, queue_, now, &decisions);
  for (auto& d : decisions.items) {
    if (auto* start = std::get_if<sched::Start>(&d)) {
      StartJob(*start, now);
    } else if (auto* repair = std::get_if<sched::Repair>(&d)) {
      ApplyRepair(*repair, now);
    } else if (auto* defer = std::get_if<sched::Defer>(&d)) {
      // Out of the queue until `until`, so waiting jobs cost passes nothing.
      const uint32_t j = defer->job.value();
      queue_.Erase(defer->job);
      Audit(j, now, AuditAction::kDefer, -1, std::move(defer->reason));
      ++deferrals_;
      events_.Push(std::max(defer->until, now + Duration::Nanos(1)), EventType::kJobWake, j, jobs_[j].epoch);
    } else if (auto* reject = std::get_if<sched::Reject>(&d)) {
      JobState& js = jobs_[reject->job.value()];
      queue_.Erase(reject->job);
      js.outcome = JobOutcome::kRejected;
      Audit(reject->job.value(), now, AuditAction::kReject, -1, std::move(reject->reason));
    } else if (auto* preempt = std::get_if<sched::Preempt>(&d)) {
      const uint32_t j = preempt->job.value();
      if (WarnJob(j, preempt->warning, now)) {
        Audit(j, now, AuditAction::kPreempt, state_.pools()[jobs_[j].pool].site.value(), std::move(preempt->reason));
      }
    }
  }
}

sched::RunningGang Engine::GangOf(uint32_t j, Time end) const {
  const JobState& js = jobs_[j];
  sched::RunningGang g;
  g.job = JobId(j);
  g.pool = PoolId(js.pool);
  // A share's device comes back only with its slot's last share: the
  // calendar does not count it.
  g.devices = js.share_milli > 0 ? 0 : static_cast<int64_t>(js.nodes.size()) * js.per_node;
  g.share = js.share_milli / 1000.0;
  if (js.share_milli > 0) {
    g.share_node = NodeId(js.nodes[0]);
    g.share_slot = js.share_slot;
  }
  g.expected_end = end;
  g.tenant = tenant_[j];
  g.priority = in_.jobs[j].priority;
  // Checkpoints become durable every interval + write after the restart
  // (and the async lag).
  g.checkpoint_origin = js.seg_start + js.seg.restart - js.seg.head;
  g.checkpoint_lag = js.seg.lag;
  g.checkpoint_period = js.seg.interval > Duration::Zero() ? js.seg.interval + js.seg.write : Duration::Zero();
  g.draining = js.warned_at != Time::Never();
  return g;
}

bool Engine::WarnJob(uint32_t j, Duration warning, Time now) {
  JobState& js = jobs_[j];
  if (js.outcome != JobOutcome::kRunning || js.warned_at != Time::Never()) return false;
  js.warned_at = now;
  const Time stop = now + warning;
  const Time natural_end = js.seg_start + js.seg.Wall();
  // Draining either way, so no later pass picks it again; back at `stop`,
  // or at its natural end if that comes first (then nothing is stopped).
  state_.AddRunning(GangOf(j, std::min(stop, natural_end)));
  if (natural_end > stop) events_.Push(stop, EventType::kJobPreempt, j, js.epoch);
  return true;
}

void Engine::Audit(uint32_t j, Time now, AuditAction action, int site, std::string detail) {
  JobState& js = jobs_[j];
  if (!audit_on_) {
    if (!detail.empty()) js.reason = std::move(detail);
    return;
  }
  if (!detail.empty() && action != AuditAction::kRepair) js.reason = detail;
  const int64_t last = js.last_audit;
  if (action == AuditAction::kDefer && last >= 0 && audit_[last].action == AuditAction::kDefer) {
    AuditRecord& again = audit_[last];  // the job's latest record: deferred once more
    ++again.count;
    again.last = now;
    again.detail = std::move(detail);
    return;
  }
  js.last_audit = static_cast<int64_t>(audit_.size());
  audit_.push_back(AuditRecord{now, j, action, site, std::move(detail), 1, now});
}

void Engine::StopPreempted(uint32_t j, Time now) {
  JobState& js = jobs_[j];
  const Duration saved = js.seg.SavedOnStop(js.warned_at - js.seg_start, now - js.warned_at);
  Account(j, now, saved, /*finished=*/false);
  ++preemptions_;
  BackToPending(j, now);
  ReleaseNodes(j, now);
  queue_.Push(RequestFor(j));
}

void Engine::BackToPending(uint32_t j, Time now) {
  JobState& js = jobs_[j];
  ++js.restarts;
  ++js.epoch;  // the pending finish event is now stale
  js.outcome = JobOutcome::kPending;
  js.pending_since = now;
}

void Engine::ReleaseGang(uint32_t j, Time now) {
  JobState& js = jobs_[j];
  ReleaseNodes(j, now);
  js.failed.clear();
  js.holding = false;
  js.booting = false;  // it gave back the devices that were booting
}

void Engine::StartJob(const sched::Start& s, Time now) {
  const uint32_t j = s.job.value();
  JobState& js = jobs_[j];
  queue_.Erase(s.job);
  Audit(j, now, AuditAction::kStart, s.site.value(), s.reason);
  js.per_node = s.per_node;
  js.pool = s.pool.value();
  js.share_milli = static_cast<int16_t>(s.share_milli);
  js.share_slot = static_cast<uint8_t>(s.share_slot);
  js.nodes.clear();
  js.nodes.reserve(s.nodes.size());
  int64_t taken = 0;  // devices taken from the free ones
  for (NodeId n : s.nodes) {
    if (s.share_milli > 0) {
      taken += state_.AddShare(n, s.share_slot, s.share_milli) ? 1 : 0;
    } else {
      state_.Allocate(n, s.per_node);
      taken += s.per_node;
    }
    js.nodes.push_back(n.value());
    jobs_on_node_.Add(n.value(), j);
  }
  // A power cap holds for the whole placement (repairs included).
  const model::CapEffect cap = model::PowerCapEffect(Spec(state_.pools()[js.pool].type), js.utilisation, s.power_cap);
  js.cut_w = cap.saved.value();
  js.power_cap = s.power_cap;
  js.slowdown = cap.slowdown;
  if (js.slowdown > 1.0) ++capped_starts_;
  AddDraw(j, Drawn(js));
  TakeDevices(js.pool, taken, j);
  PlanRise(j, sched::RampSlot{s.ramp_after, s.ramp_hold, s.ramp_up}, now);
  js.shape_stale = true;
  js.resumed_in_place = false;
  BeginSegment(j, now);
}

void Engine::ApplyRepair(const sched::Repair& r, Time now) {
  const uint32_t j = r.job.value();
  JobState& js = jobs_[j];
  auto slot = std::find(js.failed.begin(), js.failed.end(), r.failed.value());
  if (!js.holding || slot == js.failed.end()) return;  // stale: the gang was requeued
  BookHold(j, now);
  js.failed.erase(slot);
  state_.Allocate(r.spare, js.per_node);
  TakeDevices(js.pool, js.per_node, j);
  js.nodes.push_back(r.spare.value());
  jobs_on_node_.Add(r.spare.value(), j);
  SwapInShape(j, r.failed.value(), r.spare.value());
  if (audit_on_) {  // the trail only: jobs.csv keeps the reason the job was placed for
    Audit(j, now, AuditAction::kRepair, state_.pools()[js.pool].site.value(),
          fmt::format("node {} replaced by spare {} in place", r.failed.value(), r.spare.value()));
  }
  ++gang_repairs_;
  if (!js.failed.empty()) {  // still short of nodes: keep asking
    queue_.Push(RequestFor(j));
    RefreshSitePower(state_.pools()[js.pool].site.value(), now);
    return;
  }
  queue_.Erase(r.job);
  js.holding = false;
  // The gang computes again: its devices, idle while it was held, draw again.
  AddDraw(j, Drawn(js));
  PlanRise(j, sched::RampSlot{r.ramp_after, r.ramp_hold, r.ramp_up}, now);
  js.resumed_in_place = true;
  BeginSegment(j, now);
}

bool Engine::HoldsIn(uint32_t j, uint32_t begin, uint32_t end, uint32_t skip) const {
  for (uint32_t n = begin; n < end; ++n) {
    if (n != skip && jobs_on_node_.Has(n, j)) return true;
  }
  return false;
}

// A recount costs O(gang) with three divisions per node; on a year of a
// 10 GW network that was most of the run. A swap only changes the blocks of
// the two nodes involved, so scan those (a domain, a leaf, at worst a pod).
void Engine::SwapInShape(uint32_t j, uint32_t out, uint32_t in) {
  JobState& js = jobs_[j];
  if (js.shape_stale || js.nodes.size() < 2) {
    js.shape_stale = true;
    return;
  }
  const auto& pool = state_.pools()[js.pool];
  const uint32_t base = pool.first_node;
  // A node outside the pool (a gang spread over sites): recount instead.
  auto inside = [&](uint32_t n) { return n >= base && n - base < pool.num_nodes; };
  if (!inside(out) || !inside(in)) {
    js.shape_stale = true;
    return;
  }
  auto update = [&](uint32_t block, int* count) {
    const uint32_t b_out = (out - base) / block, b_in = (in - base) / block;
    if (b_out == b_in) return;
    auto begin = [&](uint32_t b) { return base + b * block; };
    auto end = [&](uint32_t b) { return base + std::min(pool.num_nodes, (b + 1) * block); };
    if (!HoldsIn(j, begin(b_out), end(b_out), out)) --*count;
    if (!HoldsIn(j, begin(b_in), end(b_in), in)) ++*count;
  };
  update(static_cast<uint32_t>(pool.domain_nodes), &js.shape.domains);
  update(static_cast<uint32_t>(pool.nodes_per_leaf), &js.shape.leaves);
  // In 64 bits: a fabric may give 1e7 x 1e7 (an int product would wrap, even to 0).
  update(static_cast<uint32_t>(std::min<int64_t>(int64_t{pool.nodes_per_leaf} * pool.leaves_per_pod, UINT32_MAX)),
         &js.shape.pods);
}

void Engine::SpreadOverSites(const std::vector<uint32_t>& nodes, model::PlacementShape* shape) const {
  std::vector<uint16_t> sites;
  for (uint32_t n : nodes) sites.push_back(state_.pool(state_.PoolOf(NodeId(n))).site.value());
  std::sort(sites.begin(), sites.end());
  sites.erase(std::unique(sites.begin(), sites.end()), sites.end());
  shape->sites = static_cast<int>(sites.size());
  if (sites.size() < 2) return;
  // Every outer ring of the all-reduce passes each site: the largest
  // latency and the narrowest bandwidth among its pairs bound it (a ring
  // may need neither pair, and they may be two pairs: this errs slow).
  double latency_s = 0, bytes_per_s = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < sites.size(); ++i) {
    for (size_t k = i + 1; k < sites.size(); ++k) {
      const SiteId a(sites[i]), b(sites[k]);
      latency_s = std::max(latency_s, state_.WanLatency(a, b));
      bytes_per_s = std::min(bytes_per_s, state_.WanBytesPerSec(a, b));
    }
  }
  shape->wan_latency = Duration::FromSeconds(latency_s);
  shape->wan_bandwidth = BytesPerSec(bytes_per_s);
}

// Starts a run segment of job `j` on the nodes it holds.
void Engine::BeginSegment(uint32_t j, Time now) {
  const JobSpec& spec = in_.jobs[j];
  JobState& js = jobs_[j];
  const auto& pool = state_.pools()[js.pool];
  const SiteId site_id = pool.site;
  const AcceleratorSpec& accel = Spec(pool.type);
  const SiteSpec& site = in_.spec.sites[site_id.value()];

  // Where the gang landed decides its communication cost.
  model::PlacementShape& shape = js.shape;
  if (js.shape_stale) {
    js.shape_stale = false;
    shape = model::PlacementShape{};
    shape.nodes = static_cast<int>(js.nodes.size());
    shape.devices_per_node = js.per_node;
    shape.devices = shape.nodes * js.per_node;
    if (js.nodes.size() > 1) {
      // Count distinct domains, leaves and pods in O(nodes) with generation
      // marks (indices are pool-local and below the pool's node count).
      const uint32_t gen = ++mark_generation_;
      int domains = 0, leaves = 0, pods = 0;
      bool outside = false;
      for (uint32_t n : js.nodes) {
        // A gang spread over sites (`spread: sites`) has nodes outside its
        // first pool: each such node is a domain, leaf and pod of its own
        // (it talks over the WAN). Indexing them as this pool's would
        // write outside the marks.
        if (n < pool.first_node || n - pool.first_node >= pool.num_nodes) {
          ++domains, ++leaves, ++pods;
          outside = true;
          continue;
        }
        const uint32_t local = n - pool.first_node;
        const uint32_t leaf = local / pool.nodes_per_leaf;
        if (std::exchange(mark_domain_[local / pool.domain_nodes], gen) != gen) ++domains;
        if (std::exchange(mark_leaf_[leaf], gen) != gen) ++leaves;
        if (std::exchange(mark_pod_[leaf / pool.leaves_per_pod], gen) != gen) ++pods;
      }
      shape.domains = domains;
      shape.leaves = leaves;
      shape.pods = pods;
      if (outside) SpreadOverSites(js.nodes, &shape);
    }
  }

  const int devices = shape.devices;
  Duration write = kDefaultCheckpointWrite;
  Duration lag = Duration::Zero();
  if (spec.kind == JobKind::kTraining) {
    const model::StepEstimate est = model::TrainingStep(spec.training, accel, site.fabric, shape);
    js.place_total_s = est.total.seconds();
    // The job gets the site's storage bandwidth in proportion to its share
    // of the site's devices.
    const double share =
        std::min(1.0, static_cast<double>(devices) / std::max<int64_t>(1, state_.site(site_id).total_devices));
    const Bytes state = model::CheckpointBytes(spec.training);
    write = model::CheckpointWriteTime(state, BytesPerSec(site.storage_bandwidth.value() * share));
    if (spec.checkpoint.async) {  // stall for the host copy; persist in the background
      lag = write;
      write = model::SnapshotStallTime(state, devices);
    }
  } else {
    // Durations are measured on the job's first acceptable type (H100 when
    // any GPU will do), so a CPU-only job is not scaled against a GPU.
    js.place_total_s = spec.duration.seconds() / model::RelativeThroughput(pool.type, sched::ReferenceOf(spec));
  }
  if (spec.checkpoint.write > Duration::Zero()) write = spec.checkpoint.write;  // measured: it wins over the model
  js.place_total_s *= js.slowdown;  // a capped device does the same work slower
  Duration interval = Duration::Zero();
  if (spec.checkpoint.enabled) {
    interval = spec.checkpoint.interval;
    if (spec.checkpoint.daly && !in_.failures.empty()) {
      const Duration mtbf =
          model::MeanTimeBetweenFailures(in_.failures, devices, shape.nodes, in_.spec.failures.rate_scale);
      interval = model::DalyInterval(write, mtbf);
    }
    if (interval <= Duration::Zero()) interval = Duration::Hours(1);
  }

  const Duration repair_restart = in_.spec.failures.repair_restart;
  js.seg.restart = js.restarts == 0                                            ? Duration::Zero()
                   : js.resumed_in_place && repair_restart >= Duration::Zero() ? repair_restart
                                                                               : in_.spec.failures.restart;
  js.seg.restart += std::exchange(js.ramp_wait, Duration::Zero());
  if (js.booting) {  // switched-off devices boot before anything runs
    js.seg.restart += in_.spec.scheduler.power_save.boot;
    js.booting = false;
  }
  if (!spec.inputs.empty() && js.data_site != static_cast<int32_t>(site_id.value())) {
    // Its input data is brought here first (data gravity: the scheduler
    // charged the same time, sched::MoveSeconds).
    sched::JobRequest need;
    need.data = sched::ResolveData(spec.inputs, state_);
    const Duration move = Duration::FromSeconds(sched::MoveSeconds(state_, site_id, need));
    if (move > Duration::Zero()) {
      js.seg.restart += move;
      ++inputs_.moves;
      for (const sched::DataNeed& d : need.data) {
        if (std::find(d.at.begin(), d.at.end(), site_id) == d.at.end() && !d.at.empty()) inputs_.tb += d.bytes / 1e12;
      }
      inputs_.hours += move.hours();
    }
    js.data_site = static_cast<int32_t>(site_id.value());
  }
  if (spec.checkpoint.enabled) {
    // Its newest checkpoint is in another site's store: copied here first
    // (the server's staging), before the job computes again.
    const int here = static_cast<int>(site_id.value());
    if (js.ckpt_site >= 0 && js.ckpt_site != here && js.remaining < 1.0) {
      const Duration staging = CopyTime(j, js.ckpt_site, here);
      js.seg.restart += staging;
      ++ckpt_.restores;
      ckpt_.restore_tb += CheckpointBytesOf(j) / 1e12;
      ckpt_.staging_h += staging.hours();
    }
    js.ckpt_site = here;
  }
  js.seg.useful = Duration::FromSeconds(js.remaining * js.place_total_s);
  js.seg.interval = interval;
  js.seg.write = interval > Duration::Zero() ? write : Duration::Zero();
  js.seg.lag = interval > Duration::Zero() ? lag : Duration::Zero();
  // A job running when the run began: what it did since its last
  // checkpoint is at stake (at most what it did, and within one interval).
  const Duration done = Duration::FromSeconds((1 - js.remaining) * js.place_total_s);
  js.seg.head = std::min(std::exchange(js.head, Duration::Zero()), done);
  if (interval > Duration::Zero()) js.seg.head = std::min(js.seg.head, interval - Duration::Nanos(1));
  if (js.seg.restart > Duration::Zero()) js.seg.head = Duration::Zero();
  if (js.seg.interval > Duration::Zero() && js.seg.write > Duration::Zero() && js.seg.useful > js.seg.interval &&
      !Choreographed(site_id.value())) {
    // Its checkpoints stall the whole gang at once: each write drops the
    // site by the gang's draw and restores it when done (within a minute
    // when the write is shorter). Closed form, as the segment is; on a
    // choreographed site the gang holds its draw through the write.
    const double rise = RiseOf(j).total();
    meters_[site_id.value()].NoteSwing(rise, js.seg.write < Duration::Minutes(1) ? rise : 0.0);
  }
  js.seg_start = now;
  js.warned_at = Time::Never();
  js.outcome = JobOutcome::kRunning;
  js.wait += now - js.pending_since;
  if (js.first_start == Time::Never()) js.first_start = now;
  ++js.epoch;
  RefreshSitePower(site_id.value(), now);
  events_.Push(now + js.seg.Wall(), EventType::kJobFinish, j, js.epoch);
  state_.AddRunning(GangOf(j, now + js.seg.Wall()));
}

void Engine::AddDraw(uint32_t j, double devices) {
  const JobState& js = jobs_[j];
  pool_util_sum_[js.pool] += devices * js.utilisation;
  pool_cut_w_[js.pool] += devices * js.cut_w;
}

void Engine::DoneWork(JobState& js, Duration useful) {
  if (js.place_total_s > 0) js.remaining = std::clamp(js.remaining - useful.seconds() / js.place_total_s, 0.0, 1.0);
}

// Books the segment that ends at `now` (finished or cut short).
void Engine::Account(uint32_t j, Time now, Duration useful, bool finished) {
  JobState& js = jobs_[j];
  const Duration elapsed = now - js.seg_start;
  const double devices = Drawn(js);
  // A negative `useful`: work done before the run began was lost (a
  // head): it was never counted here, so it only goes back to do.
  const Duration counted = std::max(useful, Duration::Zero());
  js.useful_wall_s += counted.seconds();
  js.useful_device_s += counted.seconds() * devices;
  js.allocated_device_s += elapsed.seconds() * devices;
  ChargeEnergy(j, js.seg_start, now, js.utilisation);
  if (const CheckpointPolicy& cp = in_.jobs[j].checkpoint;
      cp.enabled && cp.replica_sites > 1 && js.seg.interval > Duration::Zero() && js.ckpt_site >= 0) {
    // Checkpoints go to the other replica sites one copy at a time, the
    // newest first (the agents' movers): at most one per copy time.
    if (const int replica = ReplicaSite(j, static_cast<uint32_t>(js.ckpt_site)); replica >= 0) {
      const Duration copy = CopyTime(j, js.ckpt_site, replica);
      const Duration every = std::max({js.seg.interval + js.seg.write, copy, cp.replica_every});
      const double copied = std::floor(elapsed.seconds() / every.seconds());
      ckpt_.replication_tb += copied * CheckpointBytesOf(j) * (cp.replica_sites - 1) / 1e12;
    }
  }
  DoneWork(js, useful);
  if (finished) js.remaining = 0;
}

void Engine::ReleaseNodes(uint32_t j, Time now) {
  JobState& js = jobs_[j];
  state_.RemoveRunning(JobId(j));
  int64_t freed = 0;  // devices back among the free ones
  for (uint32_t n : js.nodes) {
    if (js.share_milli > 0) {
      freed += state_.RemoveShare(NodeId(n), js.share_slot, js.share_milli) ? 1 : 0;
    } else {
      state_.Release(NodeId(n), js.per_node);
      freed += js.per_node;
    }
    jobs_on_node_.Remove(n, j);
  }
  const double devices = Drawn(js);
  const uint32_t site = state_.pools()[js.pool].site.value();
  // A gang held for a repair drew nothing since (InterruptJob).
  if (!js.holding) {
    // (A share was never ramped, as the server's: no fall either.)
    if (Choreographed(site) && site_down_[site] == 0 && !losing_site_ && js.share_milli == 0) HoldFall(j, site, now);
    AddDraw(j, -devices);
  }
  if (state_.pools()[js.pool].busy_devices == 0) {  // no drift
    pool_util_sum_[js.pool] = 0;
    pool_cut_w_[js.pool] = 0;
  }
  FreedDevices(js.pool, freed, now);
  js.nodes.clear();
  js.nodes.shrink_to_fit();
  RefreshSitePower(state_.pools()[js.pool].site.value(), now);
  dirty_ = true;
}

void Engine::FinishJob(uint32_t j, Time now) {
  Account(j, now, jobs_[j].seg.useful, /*finished=*/true);
  ReleaseNodes(j, now);
  JobState& js = jobs_[j];
  js.outcome = JobOutcome::kFinished;
  js.end = now;
}

void Engine::BookHold(uint32_t j, Time now) {
  JobState& js = jobs_[j];
  if (!js.holding) return;
  const double devices = Drawn(js);
  js.allocated_device_s += (now - js.hold_start).seconds() * devices;
  // Held, waiting for a spare, idle (at a choreographed site its agents'
  // holding load is the site's: twin/site_ramp.h).
  ChargeEnergy(j, js.hold_start, now, 0.0);
  js.hold_start = now;
}

void Engine::ChargeEnergy(uint32_t j, Time from, Time to, double utilisation) {
  JobState& js = jobs_[j];
  if (to <= from || js.nodes.empty()) return;
  const auto& pool = state_.pools()[js.pool];
  const uint32_t site = pool.site.value();
  const double devices = Drawn(js);
  const double cut = utilisation > 0 ? js.cut_w : 0.0;  // a held, idle gang draws under any cap
  const double watts =
      model::FacilityPower(Watts((model::DevicePower(Spec(pool.type), utilisation).value() - cut) * devices),
                           in_.spec.sites[site].pue)
          .value();
  js.energy_j += watts * (to - from).seconds();
  js.co2_g += watts / 3.6e6 * carbon_integral_[site].Between(from, to);    // W x g/kWh x s -> g
  js.cost_usd += watts / 3.6e9 * price_integral_[site].Between(from, to);  // W x $/MWh x s -> $
}

void Engine::InterruptJob(uint32_t j, Time now, uint32_t failed) {
  JobState& js = jobs_[j];
  state_.RemoveRunning(JobId(j));  // a repairing gang's end is unknown until it resumes
  if (js.outcome == JobOutcome::kRunning) {
    // A job warned of a preemption may have made its checkpoint durable.
    const Duration saved = js.warned_at == Time::Never()
                               ? js.seg.SavedBy(now - js.seg_start)
                               : js.seg.SavedOnStop(js.warned_at - js.seg_start, now - js.warned_at);
    Account(j, now, saved, /*finished=*/false);
    ++interruptions_;
    BackToPending(j, now);
  } else {
    BookHold(j, now);  // a repairing gang lost another node (or its site)
  }
  // A gang being preempted is not repaired: it was going to stop anyway.
  const bool repair =
      in_.spec.failures.gang_repair && failed != kNoNode && js.nodes.size() > 1 && js.warned_at == Time::Never();
  if (!repair) {
    ReleaseGang(j, now);
    queue_.Push(RequestFor(j));
    return;
  }
  // Gang repair: give up only the failed node and ask for a replacement.
  auto it = std::find(js.nodes.begin(), js.nodes.end(), failed);
  *it = js.nodes.back();
  js.nodes.pop_back();
  state_.Release(NodeId(failed), js.per_node);
  // Its devices count as idle and powered, as a released gang's do
  // (ReleaseGang): power saving switches them off after its idle time,
  // never below the warm reserve.
  FreedDevices(js.pool, js.per_node, now);
  jobs_on_node_.Remove(failed, j);
  if (!js.holding) {
    // The whole gang stops computing: the failed node's draw is gone, the
    // survivors' devices idle until it resumes (at a choreographed site
    // after a holding load's fall).
    AddDraw(j, -static_cast<double>(js.per_node));
    if (const uint32_t site = state_.pools()[js.pool].site.value(); Choreographed(site)) HoldFall(j, site, now);
    AddDraw(j, -Drawn(js));
  }
  // Swaps are tracked one at a time; two outstanding holes in one block
  // would be miscounted, so recount then.
  if (!js.failed.empty()) js.shape_stale = true;
  js.failed.push_back(failed);
  js.holding = true;
  js.hold_start = now;
  queue_.Push(RequestFor(j));
  RefreshSitePower(state_.pools()[js.pool].site.value(), now);
  dirty_ = true;
}

void Engine::FailNode(uint32_t node, Duration repair, Time now) {
  if (!state_.IsUp(NodeId(node))) return;  // already out: nothing more to break
  const std::vector<uint32_t> victims = jobs_on_node_.On(node);
  for (uint32_t j : victims) InterruptJob(j, now, node);
  state_.SetNodeUp(NodeId(node), false);
  events_.Push(now + repair, EventType::kNodeRepair, node);
}

uint32_t Engine::SiteNode(const std::string& site, int index) const {
  for (const auto& ss : state_.sites()) {
    if (ss.name != site) continue;
    for (PoolId p : ss.pools) {
      const auto& pool = state_.pool(p);
      if (index < static_cast<int>(pool.num_nodes)) return pool.first_node + static_cast<uint32_t>(index);
      index -= static_cast<int>(pool.num_nodes);
    }
  }
  return 0;  // the parser checked the site and the index
}

void Engine::ScheduleNextPoolFailure(uint32_t pool, Time now) {
  if (pool_fail_rate_[pool] <= 0) return;
  const double gap_ns = rng_.Exponential(1.0 / pool_fail_rate_[pool]);
  if (gap_ns > 9e18) return;
  events_.Push(now + Duration::Nanos(static_cast<int64_t>(gap_ns) + 1), EventType::kPoolFailure, pool);
}

void Engine::ScheduleNextSiteFailure(uint32_t site, Time now) {
  if (site_fail_rate_[site] <= 0) return;
  const double gap_ns = rng_.Exponential(1.0 / site_fail_rate_[site]);
  if (gap_ns > 9e18) return;
  events_.Push(now + Duration::Nanos(static_cast<int64_t>(gap_ns) + 1), EventType::kSiteFailure, site);
}

void Engine::OnPoolFailure(uint32_t p, Time now) {
  const auto& pool = state_.pools()[p];
  // Which component broke, weighted by its share of the pool's rate.
  double total = 0;
  for (const auto& c : in_.failures) {
    if (c.scope == FailureScope::kAccelerator) total += c.rate_per_year * pool.total_devices();
    if (c.scope == FailureScope::kNode) total += c.rate_per_year * pool.num_nodes;
  }
  // The site's measured failures (a node out `node_repair`), else a
  // component by its share (with no measured rate, the draw is as it
  // always was: a seed's run does not change).
  const SiteSpec& site = in_.spec.sites[pool.site.value()];
  const double measured = site.node_failures_per_year * pool.num_nodes;
  const double scaled = total * in_.spec.failures.rate_scale;
  double x = rng_.Uniform();
  const FailureComponent* hit = nullptr;
  Duration repair = site.node_repair;
  bool broke = measured > 0 && x * (scaled + measured) < measured;
  if (!broke) {
    x = measured > 0 ? (x * (scaled + measured) - measured) / in_.spec.failures.rate_scale : x * total;
    for (const auto& c : in_.failures) {
      double w = 0;
      if (c.scope == FailureScope::kAccelerator) w = c.rate_per_year * pool.total_devices();
      if (c.scope == FailureScope::kNode) w = c.rate_per_year * pool.num_nodes;
      if (w <= 0) continue;
      hit = &c;
      if (x < w) break;
      x -= w;
    }
    if (hit != nullptr) {
      broke = true;
      repair = hit->repair;
    }
  }
  // Every node of a pool has the same device count, so the failing unit's
  // node is uniform over the pool either way.
  const uint32_t node = pool.first_node + static_cast<uint32_t>(rng_.Below(pool.num_nodes));
  ++failures_;
  ++site_failures_[pool.site.value()];
  if (broke && site_down_[pool.site.value()] == 0) FailNode(node, repair, now);
  ScheduleNextPoolFailure(p, now);
}

double Engine::CheckpointBytesOf(uint32_t j) const {
  const JobSpec& spec = in_.jobs[j];
  return spec.kind == JobKind::kTraining ? model::CheckpointBytes(spec.training).value() : 0.0;
}

Duration Engine::CopyTime(uint32_t j, int a, int b) const {
  const double bytes = CheckpointBytesOf(j);
  if (bytes <= 0 || a == b) return Duration::Zero();
  const SiteId from(static_cast<uint16_t>(a)), to(static_cast<uint16_t>(b));
  return Duration::FromSeconds(state_.WanLatency(from, to) + bytes / state_.WanBytesPerSec(from, to));
}

int Engine::ReplicaSite(uint32_t j, uint32_t site) const {
  const JobSpec& spec = in_.jobs[j];
  if (spec.checkpoint.replica_sites < 2) return -1;
  const auto& sites = in_.spec.sites;
  const SiteSpec& from = sites[site];
  int best = -1;
  double best_km = 0;
  for (size_t s = 0; s < sites.size(); ++s) {
    if (s == site || site_down_[s] > 0) continue;
    if (!JurisdictionAllowed(spec.jurisdictions, sites[s].jurisdiction)) continue;
    const double km = model::HaversineKm(from.latitude, from.longitude, sites[s].latitude, sites[s].longitude);
    if (best < 0 || km < best_km) {
      best = static_cast<int>(s);
      best_km = km;
    }
  }
  return best;
}

void Engine::LoseSite(uint32_t j, uint32_t site, Duration repair, Time now) {
  JobState& js = jobs_[j];
  const JobSpec& spec = in_.jobs[j];
  if (js.outcome != JobOutcome::kRunning || !spec.checkpoint.enabled || js.ckpt_site != static_cast<int32_t>(site) ||
      js.warned_at != Time::Never()) {
    InterruptJob(j, now, kNoNode);
    return;
  }
  ++ckpt_.site_losses;
  const Duration elapsed = now - js.seg_start;
  const Duration saved_here = js.seg.SavedBy(elapsed);
  // Work of earlier segments: all of it in the site's checkpoints.
  const Duration before = Duration::FromSeconds((1 - js.remaining) * js.place_total_s);
  const int replica = ReplicaSite(j, site);
  Duration saved_there = Duration::Zero() - before;  // no replica: from its start
  if (replica >= 0) {
    // A copy behind: a checkpoint is there a copy time after it is
    // durable. When checkpoints come more often than copies go (back to
    // back, or `every`), each copy takes the newest at its start: the last
    // to arrive is then on average half a copy period older again.
    const Duration copy = CopyTime(j, static_cast<int>(site), replica);
    const Duration every = std::max(copy, spec.checkpoint.replica_every);
    const Duration lag = every <= js.seg.interval ? copy : copy + every / 2;
    saved_there = std::min(saved_here, elapsed > lag ? js.seg.SavedBy(elapsed - lag) : Duration::Zero());
  }
  const Duration at_stake = saved_here - saved_there;
  const Duration wait = spec.checkpoint.site_wait >= Duration::Zero() ? spec.checkpoint.site_wait : at_stake;
  state_.RemoveRunning(JobId(j));
  Time back;
  if (repair <= wait) {  // the site is back first: resume from its own store
    ++ckpt_.waited;
    ckpt_.waited_h += repair.hours();
    Account(j, now, saved_here, /*finished=*/false);
    back = now + repair;
  } else {
    ckpt_.waited_h += wait.hours();
    Account(j, now, saved_there, /*finished=*/false);
    if (saved_there < Duration::Zero()) {  // the earlier work counted as useful is lost
      const double devices = Drawn(js);
      js.useful_wall_s = std::max(0.0, js.useful_wall_s - before.seconds());
      js.useful_device_s = std::max(0.0, js.useful_device_s - before.seconds() * devices);
    }
    ++(replica >= 0 ? ckpt_.from_replica : ckpt_.from_scratch);
    ckpt_.redone_h += at_stake.hours();
    js.ckpt_site = replica;
    back = now + wait;
  }
  ++interruptions_;
  BackToPending(j, now);
  ReleaseGang(j, now);
  if (back <= now) {
    queue_.Push(RequestFor(j));
  } else {
    events_.Push(back, EventType::kJobWake, j, js.epoch);
  }
}

void Engine::OnSiteFailure(uint32_t site, Time now) {
  Duration repair = Duration::Hours(4);
  for (const auto& c : in_.failures) {
    if (c.scope == FailureScope::kSite) repair = c.repair;
  }
  TakeSiteDown(site, repair, now);
  ScheduleNextSiteFailure(site, now);
}

void Engine::TakeSiteDown(uint32_t site, Duration repair, Time now) {
  ++failures_;
  ++site_failures_[site];
  // First in the queue: a job that waits for the site (LoseSite) wakes at
  // the same instant, and must find it up.
  events_.Push(now + repair, EventType::kSiteRepair, site);
  for (PoolId p : state_.site(SiteId(static_cast<uint16_t>(site))).pools) {
    const auto& pool = state_.pool(p);
    for (uint32_t i = 0; i < pool.num_nodes; ++i) {
      const uint32_t node = pool.first_node + i;
      if (!state_.IsUp(NodeId(node))) continue;
      const std::vector<uint32_t> victims = jobs_on_node_.On(node);
      losing_site_ = true;  // its gangs stop with it: nothing falls, nothing to wait for
      for (uint32_t j : victims) LoseSite(j, site, repair, now);
      losing_site_ = false;
      state_.SetNodeUp(NodeId(node), false);
    }
  }
  ++site_down_[site];
  ramps_[site].Clear(now);
  RefreshSitePower(site, now);
}

RunResult Engine::Run(const Progress& progress) {
  assert(scheduler_ != nullptr && "Engine::Run is once per engine");
  const Time horizon = Time::Epoch() + in_.spec.duration;
  for (uint32_t p = 0; p < pool_fail_rate_.size(); ++p) ScheduleNextPoolFailure(p, Time::Epoch());
  for (uint32_t s = 0; s < site_fail_rate_.size(); ++s) ScheduleNextSiteFailure(s, Time::Epoch());
  for (uint32_t i = 0; i < in_.spec.failures.scripted.size(); ++i) {
    events_.Push(Time::Epoch() + in_.spec.failures.scripted[i].at, EventType::kScriptedFailure, i);
  }

  // Jobs running when the run begins hold their nodes from time 0.
  for (const RunningAtStart& r : in_.running) StartRunning(r);
  for (const NodeDrain& d : in_.drains) events_.Push(Time::Epoch() + d.at, EventType::kNodeDrain, d.node);

  size_t next_arrival = 0;
  int last_tick = -1;
  for (;;) {
    const Time next_event = events_.empty() ? Time::Never() : events_.NextTime();
    const Time next_job = next_arrival < in_.jobs.size() ? in_.jobs[next_arrival].submit : Time::Never();
    const Time now = std::min(next_event, next_job);
    if (now >= horizon || now == Time::Never()) break;
    // Everything that happens at `now` first, then one scheduling pass.
    while (next_arrival < in_.jobs.size() && in_.jobs[next_arrival].submit == now) {
      const uint32_t j = static_cast<uint32_t>(next_arrival++);
      if (!jobs_[j].arrived) Arrive(j, now);  // (one running at the start has)
      ++events_processed_;
    }
    while (!events_.empty() && events_.NextTime() == now) {
      const Event e = events_.Pop();
      ++events_processed_;
      switch (e.type) {
        case EventType::kJobFinish:
          if (jobs_[e.a].epoch == e.b && jobs_[e.a].outcome == JobOutcome::kRunning) FinishJob(e.a, now);
          break;
        case EventType::kPoolFailure:
          OnPoolFailure(e.a, now);
          break;
        case EventType::kJobWake:
          if (jobs_[e.a].epoch == e.b && jobs_[e.a].outcome == JobOutcome::kPending && !queue_.Contains(JobId(e.a))) {
            queue_.Push(RequestFor(e.a));
            dirty_ = true;
          }
          break;
        case EventType::kJobPreempt:
          if (jobs_[e.a].epoch == e.b && jobs_[e.a].outcome == JobOutcome::kRunning) StopPreempted(e.a, now);
          break;
        case EventType::kPowerSweep:
          savers_[e.a].Sweep(now, in_.spec.scheduler.power_save.idle_after);
          RefreshSitePower(state_.pools()[e.a].site.value(), now);
          break;
        case EventType::kSiteFailure:
          OnSiteFailure(e.a, now);
          break;
        case EventType::kScriptedFailure: {
          const FailureSpec::Scripted& x = in_.spec.failures.scripted[e.a];
          if (x.node == FailureSpec::Scripted::kWholeSite) {
            for (uint32_t i = 0; i < in_.spec.sites.size(); ++i) {
              if (in_.spec.sites[i].name == x.site) TakeSiteDown(i, x.repair, now);
            }
          } else {
            FailNode(SiteNode(x.site, x.node), x.repair, now);
          }
          break;
        }
        case EventType::kRampStep:
          if (ramp_step_at_[e.a] == now) {
            ramp_step_at_[e.a] = Time::Never();
            StepRamp(e.a, now);
          }
          break;
        case EventType::kNodeDrain:
          if (e.a < drained_.size()) {
            drained_[e.a] = true;
            state_.SetNodeUp(NodeId(e.a), false);  // what runs there goes on (Release restores its count)
            dirty_ = true;
          }
          break;
        case EventType::kNodeRepair:
          if (!drained_[e.a] && site_down_[state_.pools()[state_.PoolOf(NodeId(e.a)).value()].site.value()] == 0) {
            state_.SetNodeUp(NodeId(e.a), true);
            dirty_ = true;
          }
          break;
        case EventType::kSiteRepair: {
          if (--site_down_[e.a] > 0) break;
          for (PoolId p : state_.site(SiteId(static_cast<uint16_t>(e.a))).pools) {
            const auto& pool = state_.pool(p);
            for (uint32_t i = 0; i < pool.num_nodes; ++i) {
              if (!drained_[pool.first_node + i]) state_.SetNodeUp(NodeId(pool.first_node + i), true);
            }
          }
          RefreshSitePower(e.a, now);
          dirty_ = true;
          break;
        }
      }
    }
    if (dirty_) {
      dirty_ = false;
      RunSchedulerPass(now);
    }
    if (progress) {
      const int tick = static_cast<int>(200.0 * now.seconds() / horizon.seconds());
      if (tick != last_tick) {
        last_tick = tick;
        progress(static_cast<double>(tick) / 200.0);
      }
    }
  }
  if (progress) progress(1.0);
  return Collect(horizon);
}

}  // namespace stargate::twin

namespace stargate::twin {
namespace {

Percentiles Summarise(std::vector<double>& v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  auto rank = [&](double q) {  // nearest rank
    const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  return p;
}

}  // namespace

RunResult Engine::Collect(Time horizon) {
  RunResult r;
  Summary& s = r.summary;
  s.scenario = in_.spec.name;
  s.seed = in_.spec.seed;
  s.policy = scheduler_->name();
  scheduler_.reset();  // the run is over (Run: once per engine)
  std::vector<StagedSignals>().swap(staged_);
  s.simulated_days = in_.spec.duration.hours() / 24.0;
  s.accelerators = state_.total_devices();
  s.nodes = state_.num_nodes();
  s.jobs_total = static_cast<int64_t>(in_.jobs.size());
  s.events = events_processed_;
  s.scheduler_passes = passes_;
  s.interruptions = interruptions_;
  s.gang_repairs = gang_repairs_;
  s.deferrals = deferrals_;
  s.preemptions = preemptions_;
  s.power_capped_starts = capped_starts_;
  s.ramped_starts = ramped_starts_;
  s.held_falls = ramp_channels_.held_falls();
  s.overdue_falls = ramp_channels_.overdue_falls();
  s.ramp_wait_h = ramp_wait_s_ / 3600.0;
  s.failures = failures_;
  s.checkpoints = ckpt_;
  s.inputs = inputs_;

  // Close the books at the horizon: running jobs count the work done so far.
  std::vector<double> jct_h, wait_h, recorded_h, replayed_h;
  double useful = 0, allocated = 0, ettr_useful = 0, ettr_wall = 0;
  r.jobs.reserve(in_.jobs.size());
  for (size_t j = 0; j < in_.jobs.size(); ++j) {
    JobState& js = jobs_[j];
    const JobSpec& spec = in_.jobs[j];
    if (js.outcome == JobOutcome::kRunning) {
      const Duration elapsed = horizon - js.seg_start;
      const double devices = Drawn(js);
      const Duration done = js.seg.DoneBy(elapsed);
      DoneWork(js, done);
      js.useful_wall_s += done.seconds();
      js.useful_device_s += done.seconds() * devices;
      js.allocated_device_s += elapsed.seconds() * devices;
      ChargeEnergy(static_cast<uint32_t>(j), js.seg_start, horizon, js.utilisation);
    } else if (js.outcome == JobOutcome::kPending && js.arrived) {
      js.wait += horizon - js.pending_since;
      BookHold(static_cast<uint32_t>(j), horizon);
    }
    useful += js.useful_device_s;
    allocated += js.allocated_device_s;
    if (spec.kind == JobKind::kTraining && js.first_start != Time::Never()) {
      const Time stop = js.end == Time::Never() ? horizon : js.end;
      ettr_useful += js.useful_wall_s;
      ettr_wall += (stop - js.first_start).seconds();
    }
    switch (js.outcome) {
      case JobOutcome::kFinished:
        ++s.jobs_finished;
        jct_h.push_back((js.end - spec.submit).hours());
        break;
      case JobOutcome::kRunning:
        ++s.jobs_running;
        break;
      case JobOutcome::kPending:
        ++s.jobs_pending;
        break;
      case JobOutcome::kRejected:
        ++s.jobs_rejected;
        break;
    }
    if (js.first_start != Time::Never()) wait_h.push_back(js.wait.hours());
    if (js.first_start != Time::Never() && spec.recorded_wait >= Duration::Zero()) {
      recorded_h.push_back(spec.recorded_wait.hours());
      replayed_h.push_back(js.wait.hours());
    }

    JobRecord rec;
    rec.id = static_cast<uint32_t>(j);
    rec.name = spec.name;
    rec.tenant = spec.tenant;
    rec.kind = spec.kind;
    rec.accelerators = spec.accelerator_count;
    if (js.first_start != Time::Never()) {
      const auto& pool = state_.pools()[js.pool];
      rec.accelerator = pool.type;
      rec.site = pool.site.value();
      rec.nodes = (spec.accelerator_count + pool.per_node - 1) / pool.per_node;
    }
    rec.submit = spec.submit;
    rec.first_start = js.first_start;
    rec.end = js.end;
    rec.wait = js.wait;
    rec.restarts = js.restarts;
    rec.useful_device_s = js.useful_device_s;
    rec.work_done = std::max(0.0, js.start_remaining - js.remaining);
    rec.allocated_device_s = js.allocated_device_s;
    rec.checkpoint_interval = js.seg.interval;
    rec.energy_kwh = js.energy_j / 3.6e6;
    rec.co2_kg = js.co2_g / 1e3;
    rec.cost_usd = js.cost_usd;
    s.workload_energy_mwh += js.energy_j / kJoulesPerMwh;
    s.workload_tco2 += js.co2_g / 1e6;
    s.workload_cost_usd += js.cost_usd;
    KindSummary& ks = s.by_kind[static_cast<int>(spec.kind)];
    ++ks.jobs;
    ks.workload_tco2 += js.co2_g / 1e6;
    if (js.outcome == JobOutcome::kFinished) {
      ++ks.finished;
      ks.jct_mean_h += (js.end - spec.submit).hours();
    }
    if (js.first_start != Time::Never()) {
      ++ks.started;
      ks.wait_mean_h += js.wait.hours();
    }
    if (spec.deadline != Time::Never()) {
      rec.sla_missed = js.end == Time::Never() ? horizon > spec.deadline : js.end > spec.deadline;
      if (rec.sla_missed) ++s.sla_misses;
    }
    rec.outcome = js.outcome;
    rec.reason = std::move(js.reason);
    r.jobs.push_back(std::move(rec));
  }
  s.jct_h = Summarise(jct_h);
  for (KindSummary& ks : s.by_kind) {  // sums -> means
    if (ks.finished > 0) ks.jct_mean_h /= static_cast<double>(ks.finished);
    if (ks.started > 0) ks.wait_mean_h /= static_cast<double>(ks.started);
  }
  s.wait_h = Summarise(wait_h);
  s.replay.jobs = static_cast<int64_t>(recorded_h.size());
  s.replay.recorded_wait_h = Summarise(recorded_h);
  s.replay.twin_wait_h = Summarise(replayed_h);
  s.goodput = allocated > 0 ? useful / allocated : 0;
  s.useful_device_h = useful / 3600.0;
  s.ettr = ettr_wall > 0 ? ettr_useful / ettr_wall : 0;

  double busy_total = 0;
  r.sites.reserve(in_.spec.sites.size());
  for (size_t i = 0; i < in_.spec.sites.size(); ++i) {
    SiteMeter& meter = meters_[i];
    meter.AdvanceTo(horizon);
    const auto& ss = state_.sites()[i];
    SiteSeries series;
    series.name = ss.name;
    series.jurisdiction = in_.spec.sites[i].jurisdiction;
    series.accelerators = ss.total_devices;
    series.power_cap_mw = ss.power_cap_w / 1e6;
    series.peak_mw = meter.peak_w() / 1e6;
    series.largest_step_mw = meter.swings().largest_step_w() / 1e6;
    series.largest_ramp_mw_per_min = meter.swings().largest_ramp_w() / 1e6;
    if (series.largest_step_mw > s.largest_step_mw) {
      s.largest_step_mw = series.largest_step_mw;
      s.largest_step_site = series.name;
    }
    s.largest_ramp_mw_per_min = std::max(s.largest_ramp_mw_per_min, series.largest_ramp_mw_per_min);
    ramps_[i].Advance(horizon);
    s.holding_mwh += ramps_[i].held_j() / 3.6e9;
    series.failures = site_failures_[i];
    const size_t hours = meter.energy_j().size();
    const double last_hour_s = horizon.seconds() - static_cast<double>(hours - 1) * 3600.0;
    // Exactly an hour's worth each (growth by push_back could leave twice
    // that held: a year of 10,000 sites is 88 million site-hours).
    series.utilisation.reserve(hours);
    series.facility_mw.reserve(hours);
    // The grid figures are the inputs' values hour by hour: shared when the
    // inputs hold exactly the run's hours, else read through At() (wrapped).
    const auto hourly = [&](const HourlySeries& in) -> HourValues {
      if (in.values.size() == hours) return in.values;
      std::vector<double> v(hours);
      for (size_t h = 0; h < hours; ++h) v[h] = in.At(Time::Epoch() + Duration::Hours(static_cast<int64_t>(h)));
      return v;
    };
    series.carbon = hourly(in_.carbon[i]);
    series.price = hourly(in_.price[i]);
    const bool ever_down = std::any_of(meter.down_s().begin(), meter.down_s().end(), [](double s) { return s > 0; });
    if (ever_down) series.up.reserve(hours);
    for (size_t h = 0; h < hours; ++h) {
      const double span_s = h + 1 == hours ? last_hour_s : 3600.0;
      const double e = meter.energy_j()[h];
      const double ci = series.carbon[h];
      const double price = series.price[h];
      series.utilisation.push_back(
          ss.total_devices > 0 && span_s > 0 ? meter.busy_device_s()[h] / (span_s * ss.total_devices) : 0.0);
      series.facility_mw.push_back(span_s > 0 ? e / span_s / 1e6 : 0.0);
      if (ever_down) series.up.push_back(span_s > 0 ? std::clamp(1.0 - meter.down_s()[h] / span_s, 0.0, 1.0) : 1.0);
      series.energy_mwh += e / kJoulesPerMwh;
      series.tco2 += (Joules(e) * GramsPerKwh(ci)).value() / 1e6;
      series.cost_usd += (Joules(e) * UsdPerMwh(price)).value();
      series.busy_device_h += meter.busy_device_s()[h] / 3600.0;
      busy_total += meter.busy_device_s()[h];
    }
    s.energy_mwh += series.energy_mwh;
    s.tco2 += series.tco2;
    s.cost_usd += series.cost_usd;
    s.peak_mw = std::max(s.peak_mw, series.peak_mw);
    meter.DropHours();  // read: the series hold what is kept
    r.sites.push_back(std::move(series));
  }
  const double capacity = static_cast<double>(state_.total_devices()) * horizon.seconds();
  s.utilisation = capacity > 0 ? busy_total / capacity : 0;
  r.audit = std::move(audit_);
  return r;
}

StatusOr<RunResult> RunTwin(const TwinInputs& inputs, const Engine::Progress& progress, bool audit) {
  auto scheduler = sched::MakeScheduler(inputs.spec.policy, inputs.spec.scheduler);
  if (!scheduler.ok()) return scheduler.status();
  Engine engine(inputs, std::move(scheduler).value());
  engine.set_audit(audit);
  return engine.Run(progress);
}

}  // namespace stargate::twin
