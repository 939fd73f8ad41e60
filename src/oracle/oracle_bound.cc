#include "oracle/oracle_bound.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "model/power.h"
#include "model/power_cap.h"
#include "model/step_time.h"
#include "oracle/linear_program.h"
#include "sched/cluster_state.h"
#include "sched/placement.h"
#include "sched/request_of.h"
#include "twin/power_save.h"

namespace stargate::oracle {
namespace {

constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kJoulesPerMwh = 3.6e9;
constexpr int64_t kNsPerHour = Duration::Hours(1).nanos();

// Jobs the program cannot tell apart share a class: their work is pooled.
struct ClassKey {
  AcceleratorType ref;
  JobKind kind;
  std::vector<uint16_t> pools;  // allowed, ascending
  int64_t last_slot;            // the work is done by the end of this slot
  auto Tie() const { return std::tie(ref, kind, pools, last_slot); }
  bool operator<(const ClassKey& o) const { return Tie() < o.Tie(); }
};

struct ClassWork {
  int64_t first_slot = std::numeric_limits<int64_t>::max();
  std::map<int64_t, double> work;     // reference device-hours arriving per slot
  std::map<int64_t, double> devices;  // devices arriving per slot (its jobs' gangs)
  std::map<int64_t, double> due;      // work to be done by the end of each slot (before the class's last)
};

// One job's part of the program, independent of the time step.
struct JobWork {
  ClassKey key;  // last_slot holds the last hour until the step is known
  int64_t first_hour = 0;
  int64_t due_hour = 0;  // done by the end of this hour (BoundOptions::by_run_ends), else the class's last
  double work_h = 0;     // reference device-hours
  double devices = 0;
};

struct Setup {
  std::vector<double> span_h;  // length of each hour of the run (the last may be short)
  bool idle_off = false;       // power saving: an idle device may be off
  std::vector<JobWork> jobs;
};

// The gang packed as tightly as `pool` allows: the fewest nodes, NVLink
// domains, leaves and pods its devices fit in.
model::PlacementShape Packed(const sched::PoolState& pool, const JobSpec& spec, int devices) {
  model::PlacementShape shape;
  shape.devices = devices;
  shape.devices_per_node = std::min(devices, spec.per_node > 0 ? spec.per_node : pool.per_node);
  shape.nodes = (devices + shape.devices_per_node - 1) / std::max(1, shape.devices_per_node);
  auto blocks = [](int n, int per) { return (n + std::max(1, per) - 1) / std::max(1, per); };
  shape.domains = blocks(shape.nodes, pool.domain_nodes);
  shape.leaves = blocks(shape.nodes, pool.nodes_per_leaf);
  shape.pods = blocks(shape.leaves, pool.leaves_per_pod);
  return shape;
}

// The least reference device-hours the whole job takes in any of `pools`.
// A training job: its step-time model on the gang packed as tightly as
// the pool allows (a wider spread, the WAN of `spread: sites`, only adds
// exposed communication), on another type scaled back to the reference by
// peak throughput; so a pool charged this times its throughput factor
// never takes less than the job's packed run there. Other work: its
// duration times its devices.
double WholeWorkHours(const JobSpec& spec, AcceleratorType ref, const sched::ClusterState& state,
                      const std::vector<SiteSpec>& sites, const std::vector<uint16_t>& pools) {
  const int devices = std::max(1, spec.accelerator_count);
  if (spec.kind != JobKind::kTraining) return spec.duration.hours() * devices;
  double least = std::numeric_limits<double>::infinity();
  for (uint16_t p : pools) {
    const sched::PoolState& pool = state.pools()[p];
    const double rt = model::RelativeThroughput(pool.type, ref);
    const SiteSpec& site = sites[pool.site.value()];
    const model::StepEstimate est =
        model::TrainingStep(spec.training, Spec(pool.type), site.fabric, Packed(pool, spec, devices));
    if (est.total == Duration::Infinite() || rt <= 0) continue;
    least = std::min(least, est.total.hours() * devices * rt);
  }
  if (std::isfinite(least)) return least;
  // No pool has a figure for it: pure compute on the reference (the
  // step-time model only adds to it).
  const Duration pure = model::PureComputeTime(spec.training, Spec(ref), devices);
  return pure == Duration::Infinite() ? 0.0 : pure.hours() * devices;
}

Setup Prepare(const twin::TwinInputs& in, const twin::RunResult& run, const sched::ClusterState& state,
              const BoundOptions& options) {
  Setup s;
  const int64_t hours = std::max<int64_t>(1, (in.spec.duration.nanos() + kNsPerHour - 1) / kNsPerHour);
  s.span_h.assign(static_cast<size_t>(hours), 1.0);
  s.span_h.back() = (in.spec.duration.nanos() - (hours - 1) * kNsPerHour) / static_cast<double>(kNsPerHour);
  s.idle_off = in.spec.scheduler.power_save.enabled;
  for (const twin::JobRecord& rec : run.jobs) {
    if (rec.work_done <= 0 || rec.id >= in.jobs.size()) continue;
    const JobSpec& spec = in.jobs[rec.id];
    sched::JobContext context;
    context.utilisation = sched::UtilisationOf(spec.kind);
    const sched::JobRequest req = sched::RequestOf(spec, state, context);
    JobWork w;
    w.key.ref = req.reference;
    w.key.kind = spec.kind;
    for (size_t p = 0; p < state.pools().size(); ++p) {
      const sched::PoolState& pool = state.pools()[p];
      if (model::RelativeThroughput(pool.type, w.key.ref) <= 0) continue;
      // Where it last ran is allowed whatever the rules say: the bound
      // must never forbid what the run did.
      const bool ran_here = rec.site == static_cast<int>(pool.site.value()) && rec.accelerator == pool.type;
      const bool fits = spec.spread_sites || (pool.total_devices() >= spec.accelerator_count &&
                                              (spec.per_node <= 0 || pool.per_node >= spec.per_node));
      if (ran_here || (fits && sched::PoolAllows(state, PoolId(static_cast<uint16_t>(p)), req))) {
        w.key.pools.push_back(static_cast<uint16_t>(p));
      }
    }
    if (w.key.pools.empty()) continue;  // cannot happen for work that ran; nothing to bound it by
    w.first_hour = std::clamp<int64_t>(spec.submit.nanos() / kNsPerHour, 0, hours - 1);
    w.key.last_slot = hours - 1;
    // Its deadline binds only when the run met it: a run that missed it
    // must still be a schedule the program allows.
    if (spec.deadline != Time::Never() && !rec.sla_missed) {
      w.key.last_slot = std::clamp<int64_t>((spec.deadline.nanos() - 1) / kNsPerHour, w.first_hour, hours - 1);
    }
    w.due_hour = w.key.last_slot;
    if (options.by_run_ends && rec.end != Time::Never()) {
      w.due_hour =
          std::min(w.due_hour, std::clamp<int64_t>((rec.end.nanos() - 1) / kNsPerHour, w.first_hour, hours - 1));
    }
    w.work_h = rec.work_done * WholeWorkHours(spec, w.key.ref, state, in.spec.sites, w.key.pools);
    w.devices = std::max(1, spec.accelerator_count);
    if (w.work_h > 0) s.jobs.push_back(std::move(w));
  }
  return s;
}

std::map<ClassKey, ClassWork> Classes(const Setup& s, int64_t step) {
  std::map<ClassKey, ClassWork> classes;
  for (const JobWork& w : s.jobs) {
    ClassKey key = w.key;
    key.last_slot /= step;
    ClassWork& c = classes[key];
    const int64_t slot = w.first_hour / step;
    c.first_slot = std::min(c.first_slot, slot);
    c.work[slot] += w.work_h;
    c.devices[slot] += w.devices;
    if (w.due_hour / step < key.last_slot) c.due[w.due_hour / step] += w.work_h;
  }
  return classes;
}

// Columns of the program with `slots` slots over `pools` pools: each
// class's per pool and slot and its backlogs, and with power saving
// (`warm`) at most one per pool and slot that work may use.
int64_t ColumnsOf(const std::map<ClassKey, ClassWork>& classes, bool warm, int64_t pools, int64_t slots) {
  int64_t n = 0, used = 0;
  for (const auto& [key, c] : classes) {
    n += (key.last_slot - c.first_slot + 1) * static_cast<int64_t>(key.pools.size() + 1);
    used += (key.last_slot - c.first_slot + 1) * static_cast<int64_t>(key.pools.size());
  }
  return n + (warm ? std::min(used, pools * slots) : 0);
}

}  // namespace

StatusOr<twin::BoundFigures> OracleBound(const twin::TwinInputs& in, const twin::RunResult& run,
                                         const BoundOptions& options) {
  const sched::ClusterState state(in.spec.sites);
  if (run.sites.size() != in.spec.sites.size()) {
    return absl::InvalidArgumentError("the run's sites are not the scenario's");
  }
  const Setup setup = Prepare(in, run, state, options);
  const int64_t hours = static_cast<int64_t>(setup.span_h.size());
  for (const twin::SiteSeries& site : run.sites) {
    if (static_cast<int64_t>(site.carbon.size()) != hours || static_cast<int64_t>(site.price.size()) != hours) {
      return absl::InvalidArgumentError("the run's hourly series do not cover its horizon");
    }
  }
  auto up = [&](size_t site, int64_t h) {
    const std::vector<double>& u = run.sites[site].up;
    return u.empty() ? 1.0 : u[static_cast<size_t>(h)];
  };

  twin::BoundFigures b;
  b.sites.resize(run.sites.size());
  // What no schedule avoids: idle devices that stay powered (all of them;
  // with power saving, the warm reserve, which work may use instead).
  // `idle_w`: one idle device's facility watts.
  std::vector<int64_t> powered(state.pools().size());
  std::vector<double> idle_w(state.pools().size());
  for (size_t p = 0; p < powered.size(); ++p) {
    const sched::PoolState& pool = state.pools()[p];
    const SchedulerSpec::PowerSave& save = in.spec.scheduler.power_save;
    powered[p] = !setup.idle_off ? pool.total_devices()
                                 : twin::WarmDevices(save.warm, pool.num_nodes, pool.per_node, pool.hot_spares);
    const size_t site = pool.site.value();
    idle_w[p] = model::DevicePower(Spec(pool.type), 0).value() * state.site(pool.site).pue;
    for (int64_t h = 0; h < hours; ++h) {
      const double joules =
          idle_w[p] * static_cast<double>(powered[p]) * up(site, h) * setup.span_h[static_cast<size_t>(h)] * 3600.0;
      b.sites[site].tco2 += joules / kJoulesPerKwh * run.sites[site].carbon[static_cast<size_t>(h)] / 1e6;
      b.sites[site].cost_usd += joules / kJoulesPerMwh * run.sites[site].price[static_cast<size_t>(h)];
    }
  }
  for (const twin::BoundFigures::Site& site : b.sites) {
    b.fixed_tco2 += site.tco2;
    b.fixed_cost_usd += site.cost_usd;
  }

  int64_t step = 1;
  std::map<ClassKey, ClassWork> classes = Classes(setup, step);
  const auto num_pools = static_cast<int64_t>(state.pools().size());
  auto columns = [&] { return ColumnsOf(classes, setup.idle_off, num_pools, (hours + step - 1) / step); };
  while (columns() > options.max_columns && step < hours) {
    step *= 2;
    classes = Classes(setup, step);
  }
  if (columns() > options.max_columns) {
    return absl::FailedPreconditionError(
        fmt::format("the program needs {} columns even in one slot (at most {})", columns(), options.max_columns));
  }
  const int64_t slots = (hours + step - 1) / step;
  std::vector<double> slot_h(static_cast<size_t>(slots), 0.0);
  for (int64_t h = 0; h < hours; ++h) slot_h[static_cast<size_t>(h / step)] += setup.span_h[static_cast<size_t>(h)];
  // The slot's lowest carbon and price at each site: a slot coarser than an
  // hour loosens the bound, never breaks it.
  auto lowest = [&](size_t site, int64_t slot, bool price) {
    double v = std::numeric_limits<double>::infinity();
    for (int64_t h = slot * step; h < std::min(hours, (slot + 1) * step); ++h) {
      v = std::min(
          v, price ? run.sites[site].price[static_cast<size_t>(h)] : run.sites[site].carbon[static_cast<size_t>(h)]);
    }
    return v;
  };

  LinearProgram lp;
  std::vector<double> carbon_obj, cost_obj;
  // Per column, for the split by site: its site (-1 for a backlog) and
  // the pool's device-hours per unit.
  std::vector<std::pair<int, double>> where;
  auto column = [&](double carbon, double cost, double upper) {
    where.emplace_back(-1, 0.0);
    carbon_obj.push_back(carbon);
    cost_obj.push_back(cost);
    return lp.AddColumn(upper);
  };
  // Capacity rows, made when first used: device-hours of a pool in a slot.
  // With power saving, also the warm reserve's device-hours there, whose
  // idle draw (in the fixed part) work on them saves: a column `warm`, at
  // most those device-hours and at most the device-hours the slot's work
  // there holds, its saving at the slot's lowest carbon and price like the
  // work's own draw. In each hour a device at work draws at least its idle
  // draw, so the work's draw less the saving is never negative there, and
  // counting both at the slot's lowest value keeps it a bound (exact in
  // hourly slots).
  struct Capacity {
    int row = 0;
    double device_h = 0;
    int warm_row = -1;
  };
  std::map<std::pair<uint16_t, int64_t>, Capacity> capacity;
  auto capacity_of = [&](uint16_t p, int64_t slot) -> const Capacity& {
    auto [it, added] = capacity.try_emplace({p, slot});
    if (added) {
      const sched::PoolState& pool = state.pools()[p];
      const size_t site = pool.site.value();
      double up_h = 0;
      for (int64_t h = slot * step; h < std::min(hours, (slot + 1) * step); ++h) {
        up_h += up(site, h) * setup.span_h[static_cast<size_t>(h)];
      }
      const double device_h = static_cast<double>(pool.total_devices()) * up_h;
      it->second = Capacity{lp.AddRow(LinearProgram::Row::kAtMost, device_h), device_h};
      if (setup.idle_off && powered[p] > 0 && up_h > 0) {
        const double idle_j = idle_w[p] * 3600.0;
        const int warm =
            column(-idle_j / kJoulesPerKwh * lowest(site, slot, false) / 1e6,
                   -idle_j / kJoulesPerMwh * lowest(site, slot, true), static_cast<double>(powered[p]) * up_h);
        where[static_cast<size_t>(warm)] = {static_cast<int>(site), 0.0};
        it->second.warm_row = lp.AddRow(LinearProgram::Row::kAtMost, 0);
        lp.Set(it->second.warm_row, warm, 1.0);
      }
    }
    return it->second;
  };
  const SchedulerSpec::CarbonCap& cap = in.spec.scheduler.carbon_cap;
  for (const auto& [key, c] : classes) {
    // Per pool: device-hours one reference device-hour takes there, and the
    // facility joules of one of those device-hours beyond what it would
    // draw idle anyway.
    // `held`: the most device-hours one of them may hold there (a capped
    // run holds its devices longer), so the most warm-reserve idle draw it
    // may give back.
    std::vector<double> use(key.pools.size()), joules(key.pools.size()), held(key.pools.size());
    const double u = sched::UtilisationOf(key.kind);
    for (size_t i = 0; i < key.pools.size(); ++i) {
      const sched::PoolState& pool = state.pools()[key.pools[i]];
      const AcceleratorSpec& accel = Spec(pool.type);
      const double busy_w = model::DevicePower(accel, u).value();
      const double idle_w = setup.idle_off ? 0.0 : model::DevicePower(accel, 0).value();
      double w = busy_w - idle_w;
      double longest = 1;
      if (cap.enabled) {  // capped: less draw for longer, when that is less per unit of work
        const model::CapEffect e = model::PowerCapEffect(accel, u, cap.tdp_fraction);
        w = std::min(w, (busy_w - e.saved.value() - idle_w) * e.slowdown);
        longest = std::max(1.0, e.slowdown);
      }
      use[i] = 1.0 / model::RelativeThroughput(pool.type, key.ref);
      held[i] = use[i] * longest;
      joules[i] = std::max(0.0, w) * state.site(pool.site).pue * 3600.0 * use[i];
    }
    double devices = 0, total_work = 0;
    for (const auto& [slot, w] : c.work) total_work += w;
    // Work arrived and not yet due: at most that is carried past a slot
    // (the jobs' own due slots, pooled: a relaxation of each job's).
    double open_work = 0;
    int backlog = -1;  // the column carrying work from the slot before
    for (int64_t t = c.first_slot; t <= key.last_slot; ++t) {
      const auto arriving = c.work.find(t);
      if (arriving != c.work.end()) open_work += arriving->second;
      if (const auto due = c.due.find(t); due != c.due.end()) open_work -= due->second;
      const int balance = lp.AddRow(LinearProgram::Row::kEqual, arriving == c.work.end() ? 0.0 : arriving->second);
      if (const auto d = c.devices.find(t); d != c.devices.end()) devices += d->second;
      // At once, the class runs on no more devices than its jobs have.
      const double parallel_h = devices * slot_h[static_cast<size_t>(t)];
      const int parallel = lp.AddRow(LinearProgram::Row::kAtMost, parallel_h);
      for (size_t i = 0; i < key.pools.size(); ++i) {
        const size_t site = state.pools()[key.pools[i]].site.value();
        const Capacity& room = capacity_of(key.pools[i], t);
        // The tightest limit its rows imply (the duality bound needs one).
        const double upper = std::min({total_work, room.device_h / use[i], parallel_h / use[i]});
        const int x = column(joules[i] / kJoulesPerKwh * lowest(site, t, false) / 1e6,
                             joules[i] / kJoulesPerMwh * lowest(site, t, true), upper);
        where[static_cast<size_t>(x)] = {static_cast<int>(site), use[i]};
        lp.Set(balance, x, 1.0);
        lp.Set(parallel, x, use[i]);
        lp.Set(room.row, x, use[i]);
        if (room.warm_row >= 0) lp.Set(room.warm_row, x, -held[i]);
      }
      if (backlog >= 0) lp.Set(balance, backlog, -1.0);
      if (t < key.last_slot) {  // nothing is carried past the last slot: all of it is done
        backlog = column(0, 0, std::max(0.0, std::min(total_work, open_work)));
        lp.Set(balance, backlog, 1.0);
      }
    }
  }
  b.slot_h = static_cast<double>(step);
  b.classes = static_cast<int64_t>(classes.size());
  b.rows = lp.rows();
  b.columns = lp.columns();
  b.tco2 = b.fixed_tco2;
  b.cost_usd = b.fixed_cost_usd;
  b.proven = true;  // with no work to place, the idle draw is exact
  if (lp.columns() > 0) {
    StatusOr<std::vector<LinearProgram::Minimum>> best = lp.MinimiseEach({carbon_obj, cost_obj});
    if (!best.ok()) {
      return absl::FailedPreconditionError(fmt::format("oracle bound: {}", std::string(best.status().message())));
    }
    b.proven = (*best)[0].by_duality && (*best)[1].by_duality;
    b.tco2 += (*best)[0].value;
    b.cost_usd += (*best)[1].value;
    // Where the optimum does the work: the least-tCO2 solution's device-
    // hours and tonnes, the least-cost one's dollars.
    for (size_t j = 0; j < where.size(); ++j) {
      const auto [site, use] = where[j];
      if (site < 0) continue;
      // The solver may leave a hair below zero.
      const double least_tco2 = std::max(0.0, (*best)[0].x[j]), least_cost = std::max(0.0, (*best)[1].x[j]);
      twin::BoundFigures::Site& at = b.sites[static_cast<size_t>(site)];
      at.busy_device_h += least_tco2 * use;
      at.tco2 += least_tco2 * carbon_obj[j];
      at.cost_usd += least_cost * cost_obj[j];
    }
  }
  b.computed = true;
  return b;
}

}  // namespace stargate::oracle
