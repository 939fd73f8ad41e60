#include "control/server/forecast.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "control/server/live_cluster.h"
#include "core/job_file_parser.h"
#include "core/rng.h"
#include "core/site_file.h"
#include "sched/scheduler.h"
#include "twin/engine.h"
#include "twin/scenario_export.h"

namespace stargate::control {
namespace {

constexpr double kHoursPerYear = 8766;
// A site's failure rate is counted over at least this much node time: a
// node lost in the first hours of a server's life is not a rate of one an
// hour.
constexpr double kMinExposureNodeHours = 1000;

// Nearest rank over `values`, Never (later than any time) included.
Quantiles QuantilesOf(std::vector<Time> values) {
  std::sort(values.begin(), values.end());
  Quantiles q;
  const double at[3] = {0.1, 0.5, 0.9};
  for (size_t i = 0; i < 3; ++i) {
    const size_t rank = static_cast<size_t>(std::ceil(at[i] * static_cast<double>(values.size())));
    q[i] = values[std::clamp<size_t>(rank, 1, values.size()) - 1];
  }
  return q;
}

Status Bad(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(fmt::format("what_if.{}: {}", field, problem));
}

// New nodes, named <site>/what-if-<i>-<k>, of the site's region and
// jurisdiction (those of a node already there), alive.
Status AddNodes(const WhatIf& w, ForecastSnapshot* s) {
  int64_t total = 0;  // a what-if is any caller's: its size is bounded as the fleet's would be
  for (const WhatIf::AddNodes& a : w.add_nodes) total += std::max(0, a.count);
  if (total > 100'000) return Bad("add_nodes", "at most 100000 nodes in all");
  for (size_t i = 0; i < w.add_nodes.size(); ++i) {
    const WhatIf::AddNodes& a = w.add_nodes[i];
    const std::string field = fmt::format("add_nodes[{}]", i);
    if (a.site.empty()) return Bad(field + ".site", "give the site");
    if (a.count < 1 || a.count > 100'000) return Bad(field + ".count", "expected 1 to 100000 nodes");
    if (a.per_node < 1 || a.per_node > 64) return Bad(field + ".accelerators", "expected 1 to 64 devices per node");
    NodeInfo n;
    n.site = a.site;
    for (const auto& [name, other] : s->nodes) {
      if (other.site != a.site) continue;
      n.region = other.region;
      n.jurisdiction = other.jurisdiction;
      break;
    }
    n.address = "what-if";
    n.accelerator = a.type;
    n.accelerators = a.per_node;
    for (int k = 0; k < a.count; ++k) {
      n.name = fmt::format("{}/what-if-{}-{:06}", a.site, i, k);
      s->nodes[n.name] = n;
      s->alive.insert(n.name);
    }
  }
  return Status();
}

Status ChangePolicy(const WhatIf& w, ForecastSnapshot* s) {
  if (!w.policy.empty()) {
    if (!sched::MakeScheduler(w.policy, s->scheduler).ok()) {
      return Bad("policy", fmt::format("unknown policy '{}' (known: fifo, stargate)", w.policy));
    }
    s->policy = w.policy;
  }
  for (const auto& [name, value] : w.weights) {
    if (!(value >= 0 && value <= 1000)) return Bad("weights." + name, "expected 0 to 1000");
    SchedulerSpec& p = s->scheduler;
    double* field = name == "time"      ? &p.weight_time
                    : name == "carbon"  ? &p.weight_carbon
                    : name == "cost"    ? &p.weight_cost
                    : name == "latency" ? &p.weight_latency
                    : name == "queue"   ? &p.weight_queue
                                        : nullptr;
    if (field == nullptr) return Bad("weights." + name, "unknown weight (known: time, carbon, cost, latency, queue)");
    *field = value;
  }
  return Status();
}

// A site's carbon or price set to the spike's value over its hours.
Status Spikes(const WhatIf& w, twin::TwinInputs* in) {
  for (size_t i = 0; i < w.spikes.size(); ++i) {
    const WhatIf::Spike& x = w.spikes[i];
    const std::string field = fmt::format("spikes[{}]", i);
    size_t site = 0;
    while (site < in->spec.sites.size() && in->spec.sites[site].name != x.site) ++site;
    if (site == in->spec.sites.size()) return Bad(field + ".site", fmt::format("no site named '{}'", x.site));
    const SignalRange range = x.carbon ? kCarbonRange : kPriceRange;
    if (!(x.value >= range.min && x.value <= range.max)) {
      return Bad(field + ".value", fmt::format("expected {} to {}", range.min, range.max));
    }
    if (x.from < Duration::Zero() || x.to <= x.from) return Bad(field + ".to", "expected 0 <= from < to");
    if (x.to > Duration::Days(30)) return Bad(field + ".to", "expected a time within 30 days");
    HourValues& values = (x.carbon ? in->carbon : in->price)[site].values;
    std::vector<double> v = values.ToVector();  // the store may be shared
    const int64_t hour = Duration::Hours(1).nanos();
    const int64_t first = x.from.nanos() / hour, end = (x.to.nanos() + hour - 1) / hour;
    for (int64_t h = first; h < end && h < static_cast<int64_t>(v.size()); ++h) v[static_cast<size_t>(h)] = x.value;
    values = std::move(v);
  }
  return Status();
}

// A site's nodes, or one node, out of service from the drain's time.
Status Drains(const WhatIf& w, const LiveCluster& c, const std::map<std::string, NodeInfo>& nodes, Duration horizon,
              twin::TwinInputs* in) {
  std::map<uint32_t, Duration> first;  // per node its earliest drain: never more entries than nodes
  for (size_t i = 0; i < w.drains.size(); ++i) {
    const WhatIf::Drain& d = w.drains[i];
    const std::string field = fmt::format("drains[{}]", i);
    if (d.at < Duration::Zero() || d.at >= horizon) return Bad(field + ".at", "expected a time within the horizon");
    size_t found = 0;
    for (uint32_t id = 0; id < c.node_names.size(); ++id) {
      const std::string& name = c.node_names[id];
      if (name != d.target && nodes.at(name).site != d.target) continue;
      auto [it, fresh] = first.try_emplace(id, d.at);
      if (!fresh) it->second = std::min(it->second, d.at);
      ++found;
    }
    if (found == 0) return Bad(field + ".target", fmt::format("no site or node named '{}'", d.target));
  }
  for (const auto& [id, at] : first) in->drains.push_back(twin::NodeDrain{at, id});
  return Status();
}

// The twin takes its jobs in submit order: sorts them (stably), and their
// ids and the running jobs' indices with them.
void SortBySubmit(twin::TwinInputs& in, std::vector<uint64_t>* ids) {
  std::vector<uint32_t> order(in.jobs.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return in.jobs[a].submit < in.jobs[b].submit; });
  std::vector<uint32_t> where(order.size());
  std::vector<JobSpec> jobs;
  std::vector<uint64_t> sorted_ids;
  jobs.reserve(order.size());
  for (uint32_t i = 0; i < order.size(); ++i) {
    where[order[i]] = i;
    jobs.push_back(std::move(in.jobs[order[i]]));
    sorted_ids.push_back((*ids)[order[i]]);
  }
  in.jobs = std::move(jobs);
  *ids = std::move(sorted_ids);
  for (twin::RunningAtStart& r : in.running) r.job = where[r.job];
}

// A server job as the twin runs it, its `submit` already from now:
//  - a job file's training run gives no model size for the twin's
//    step-time model (it would take no time): it runs for its time, as a
//    fine-tune does (the same gang of GPUs; the twin's fine-tune draws a
//    little less);
//  - its deadline from now, and one already missed by the time it is in
//    the queue just after it arrives (a scenario's deadline follows its
//    submit).
void AsTwinJob(Time now, JobSpec* spec) {
  if (spec->kind == JobKind::kTraining && spec->training.params <= 0) spec->kind = JobKind::kFineTune;
  if (spec->deadline != Time::Never()) {
    spec->deadline = std::max(Time::Epoch() + (spec->deadline - now), spec->submit + Duration::Nanos(1));
  }
}

}  // namespace

StatusOr<twin::TwinInputs> ForecastScenario(const ForecastSnapshot& snapshot, Duration horizon, const WhatIf& w,
                                            std::vector<uint64_t>* job_ids) {
  if (w.drains.size() > 1000) return Bad("drains", "at most 1000");
  if (w.spikes.size() > 1000) return Bad("spikes", "at most 1000");
  if (w.add_nodes.size() > 1000) return Bad("add_nodes", "at most 1000 entries");
  ForecastSnapshot s;  // what the what-if changes of the snapshot: nodes and the policy
  const ForecastSnapshot* base = &snapshot;
  if (!w.add_nodes.empty() || !w.policy.empty() || !w.weights.empty()) {
    s.now = snapshot.now;
    s.nodes = snapshot.nodes;
    s.alive = snapshot.alive;
    s.policy = snapshot.policy;
    s.scheduler = snapshot.scheduler;
    SG_RETURN_IF_ERROR(AddNodes(w, &s));
    SG_RETURN_IF_ERROR(ChangePolicy(w, &s));
    base = &s;
  }
  const std::map<std::string, NodeInfo>& nodes = base->nodes;
  const std::set<std::string>& alive = base->alive;
  const LiveCluster c = BuildCluster(nodes, snapshot.hot_spares, snapshot.sites.get());
  twin::TwinInputs in;
  in.spec.name = "forecast";
  in.spec.description =
      fmt::format("the live network at {} ms (Unix), {} h ahead", snapshot.now.millis(), horizon.hours());
  in.spec.seed = 1;
  in.spec.duration = horizon;
  in.spec.policy = base->policy;
  in.spec.scheduler = base->scheduler;
  in.spec.failures.enabled = false;  // only the rates measured here (SiteSpec::node_failures_per_year)
  in.spec.failures.gang_repair = snapshot.gang_repair;
  in.spec.sites = c.sites;
  // Hour by hour from now, past the horizon by the scheduler's look-ahead.
  const int64_t hours = (horizon.nanos() + Duration::Hours(1).nanos() - 1) / Duration::Hours(1).nanos() + 48;
  for (SiteSpec& site : in.spec.sites) {
    if (auto h = snapshot.health.find(site.name); h != snapshot.health.end() && h->second.failures > 0) {
      site.node_failures_per_year = static_cast<double>(h->second.failures) /
                                    std::max(h->second.node_hours, kMinExposureNodeHours) * kHoursPerYear;
    }
    std::vector<double> carbon, price;
    carbon.reserve(static_cast<size_t>(hours));
    price.reserve(static_cast<size_t>(hours));
    for (int64_t h = 0; h < hours; ++h) {
      const sched::SiteSignals g = snapshot.sites != nullptr
                                       ? snapshot.sites->GridAt(site.name, snapshot.now + Duration::Hours(h)).signals
                                       : sched::SiteSignals{};
      carbon.push_back(g.carbon);
      price.push_back(g.price);
    }
    in.carbon.push_back(HourlySeries{std::move(carbon)});
    in.price.push_back(HourlySeries{std::move(price)});
  }
  // Silent nodes are down for the whole horizon.
  std::map<std::string, uint32_t> site_first;  // the site's first node id
  for (uint32_t id = 0; id < c.node_names.size(); ++id) site_first.emplace(nodes.at(c.node_names[id]).site, id);
  for (uint32_t id = 0; id < c.node_names.size(); ++id) {
    if (alive.count(c.node_names[id])) continue;
    const std::string& site = nodes.at(c.node_names[id]).site;
    in.spec.failures.scripted.push_back(FailureSpec::Scripted{
        Duration::Zero(), site, static_cast<int>(id - site_first.at(site)), horizon + Duration::Hours(1)});
  }
  // The queue in its order, then the running jobs; all there at time 0,
  // but a job the server deferred (to a cleaner hour) arrives when it
  // comes back to the queue, as there: deciding afresh now, with the
  // forecast window moved on, would put it later than the server will.
  std::vector<const JobRecord*> order;
  for (const JobRecord& r : snapshot.jobs) {
    if (r.state == JobState::kPending || r.state == JobState::kRunning) order.push_back(&r);
  }
  std::stable_sort(order.begin(), order.end(), [](const JobRecord* a, const JobRecord* b) {
    const Time qa = a->queued > Time::Epoch() ? a->queued : a->submitted;
    const Time qb = b->queued > Time::Epoch() ? b->queued : b->submitted;
    return std::tie(qa, a->id) < std::tie(qb, b->id);
  });
  job_ids->clear();
  std::map<std::string, int> free;  // devices not yet claimed by a running job, per node
  DeviceTally held;                 // what those kept so far hold (a shared device once)
  for (const JobRecord* r : order) {
    JobSpec spec = r->spec.spec;
    spec.submit = Time::Epoch();
    if (r->state == JobState::kPending && r->deferred_until > snapshot.now) {
      spec.submit = Time::Epoch() + (r->deferred_until - snapshot.now);
    }
    AsTwinJob(snapshot.now, &spec);
    // Runs for what the run-time model predicts; scheduled on what the
    // server schedules it with (its file's estimate, or for `estimate:
    // auto` the prediction).
    if (auto rt = snapshot.run_times.find(r->id); rt != snapshot.run_times.end() && spec.kind != JobKind::kTraining) {
      spec.estimate = r->spec.estimate_auto ? rt->second.run_time : r->spec.estimate;
      spec.duration = rt->second.run_time;
    }
    const Duration runs_for = spec.duration;
    const uint32_t j = static_cast<uint32_t>(in.jobs.size());
    in.jobs.push_back(std::move(spec));
    job_ids->push_back(r->id);
    // Running on live nodes it holds: it goes on there. Stopping, under
    // repair, or on a silent node: back in the queue.
    if (r->state != JobState::kRunning || r->stopping || r->repairing || r->nodes.empty()) continue;
    twin::RunningAtStart run;
    run.job = j;
    run.per_node = r->spec.spec.per_node;
    run.power_cap = r->power_cap;
    if (r->spec.spec.share_milli > 0) run.share_slot = r->share_slot;
    // Its nodes live, each once, with room: a stale record may claim
    // devices another job holds, and is then queued work.
    bool whole = run.per_node > 0;
    for (const std::string& n : r->nodes) {
      auto id = c.node_ids.find(n);
      whole = whole && id != c.node_ids.end() && alive.count(n) > 0 &&
              free.try_emplace(n, nodes.at(n).accelerators).first->second >= held.Peek(n, *r) &&
              std::find(run.nodes.begin(), run.nodes.end(), id->second) == run.nodes.end();
      if (!whole) break;
      run.nodes.push_back(id->second);
    }
    if (!whole) continue;
    for (const std::string& n : r->nodes) free[n] -= held.Add(n, *r);
    const double run_s = std::max(1.0, runs_for.seconds());
    // Past what it should take it is taken to be nearly done.
    run.remaining = std::max(0.05, 1.0 - (snapshot.now - r->started).seconds() / run_s);
    // Its last checkpoint, as the server reckons it (every interval of
    // this attempt since its start, as for preemption's cost): what it did
    // since is lost if a failure stops it before the next. None kept: all
    // it did.
    const Duration ran = std::max(Duration::Zero(), snapshot.now - r->started);
    run.since_checkpoint = r->spec.spec.checkpoint.enabled && r->checkpoint_interval > Duration::Zero()
                               ? Duration::Nanos(ran.nanos() % r->checkpoint_interval.nanos())
                               : ran;
    in.running.push_back(std::move(run));
  }
  SG_RETURN_IF_ERROR(Spikes(w, &in));
  SG_RETURN_IF_ERROR(Drains(w, c, nodes, horizon, &in));
  if (!w.submit.empty()) {
    StatusOr<JobFile> f = ParseJobFile(w.submit, w.submit_filename);
    if (!f.ok()) return f.status();
    SetSubmitted(*f, snapshot.now);
    JobSpec spec = f->spec;
    spec.submit = Time::Epoch();
    AsTwinJob(snapshot.now, &spec);
    uint64_t last = 0;
    for (const JobRecord& r : snapshot.jobs) last = std::max(last, r.id);
    in.jobs.push_back(std::move(spec));
    job_ids->push_back(last + 1);
  }
  SortBySubmit(in, job_ids);
  return in;
}

namespace {

// A pending job the model gives a chance of failing early fails in that
// share of the runs, RunTimeModel::kEarly after it starts (its devices
// free again; a rerun is not foreseen).
struct EarlyFailures {
  std::vector<std::pair<size_t, double>> may_fail;  // twin job index, chance
  std::vector<Duration> runs_for;                   // every job's predicted run
};

EarlyFailures MayFailEarly(const twin::TwinInputs& in, const std::vector<uint64_t>& ids, const ForecastSnapshot& s) {
  std::set<size_t> going_on;
  for (const twin::RunningAtStart& r : in.running) going_on.insert(r.job);
  EarlyFailures e;
  for (size_t j = 0; j < ids.size(); ++j) {
    e.runs_for.push_back(in.jobs[j].duration);
    auto rt = s.run_times.find(ids[j]);
    if (rt != s.run_times.end() && rt->second.fail_early > 0 && !going_on.count(j) &&
        in.jobs[j].kind != JobKind::kTraining) {
      e.may_fail.emplace_back(j, rt->second.fail_early);
    }
  }
  return e;
}

// The runs of seed `seed`: who fails early.
void DrawEarlyFailures(const EarlyFailures& e, uint64_t seed, twin::TwinInputs* in) {
  Rng draws(seed ^ 0x6661696c6561726cull);  // "failearl"
  for (const auto& [j, p] : e.may_fail) {
    in->jobs[j].duration = draws.Uniform() < p ? std::min(e.runs_for[j], RunTimeModel::kEarly) : e.runs_for[j];
  }
}

Status CheckOptions(const ForecastOptions& o) {
  if (o.horizon <= Duration::Zero() || o.horizon > ForecastOptions::kMaxHorizon) {
    return absl::InvalidArgumentError("horizon: expected a duration above 0 and at most 7d");
  }
  if (o.seeds < 1 || o.seeds > ForecastOptions::kMaxSeeds) {
    return absl::InvalidArgumentError(fmt::format("seeds: expected 1 to {}", ForecastOptions::kMaxSeeds));
  }
  if (o.seeds * o.horizon.hours() > ForecastOptions::kMaxSeedHours) {
    return absl::InvalidArgumentError(
        fmt::format("seeds: {} seeds of {:.0f} h is more than {} seed-hours; ask for fewer seeds or a shorter horizon",
                    o.seeds, o.horizon.hours(), ForecastOptions::kMaxSeedHours));
  }
  return Status();
}

}  // namespace

StatusOr<std::string> ExportForecast(const ForecastSnapshot& s, const ForecastOptions& o, const WhatIf& what_if) {
  SG_RETURN_IF_ERROR(CheckOptions(o));
  std::vector<uint64_t> ids;
  SG_ASSIGN_OR_RETURN(twin::TwinInputs in, ForecastScenario(s, o.horizon, what_if, &ids));
  in.spec.seed = o.first_seed;
  DrawEarlyFailures(MayFailEarly(in, ids, s), in.spec.seed, &in);
  for (size_t j = 0; j < ids.size(); ++j) {
    JobSpec& spec = in.jobs[j];
    spec.name = fmt::format("{}#{}", spec.name, ids[j]);  // names are unique in a scenario
  }
  return twin::ExportScenario(in);
}

StatusOr<Forecast> RunForecast(const ForecastSnapshot& s, const ForecastOptions& o, const WhatIf& what_if) {
  SG_RETURN_IF_ERROR(CheckOptions(o));
  std::vector<uint64_t> ids;
  SG_ASSIGN_OR_RETURN(twin::TwinInputs in, ForecastScenario(s, o.horizon, what_if, &ids));
  std::map<uint64_t, const JobRecord*> records;
  for (const JobRecord& r : s.jobs) records[r.id] = &r;
  const size_t n = ids.size();
  std::vector<std::vector<Time>> starts(n), finishes(n);
  std::vector<std::map<int, int>> sites_seen(n);
  std::vector<double> interruptions(n, 0), co2(n, 0);
  std::set<size_t> going_on;  // running now, on their nodes
  for (const twin::RunningAtStart& r : in.running) going_on.insert(r.job);
  Forecast f;
  f.now = s.now;
  f.horizon = o.horizon;
  f.seeds = o.seeds;
  f.policy = in.spec.policy;
  f.sites.resize(in.spec.sites.size());
  auto real = [&](Time t) { return t == Time::Never() ? t : s.now + (t - Time::Epoch()); };
  const EarlyFailures early = MayFailEarly(in, ids, s);
  for (int seed = 0; seed < o.seeds; ++seed) {
    in.spec.seed = o.first_seed + static_cast<uint64_t>(seed);
    DrawEarlyFailures(early, in.spec.seed, &in);
    SG_ASSIGN_OR_RETURN(std::unique_ptr<sched::Scheduler> scheduler,
                        sched::MakeScheduler(in.spec.policy, in.spec.scheduler));
    twin::Engine engine(in, std::move(scheduler));
    engine.set_audit(false);
    const twin::RunResult r = engine.Run();
    for (size_t j = 0; j < n && j < r.jobs.size(); ++j) {
      const twin::JobRecord& jr = r.jobs[j];
      starts[j].push_back(real(jr.first_start));
      finishes[j].push_back(real(jr.end));
      if (jr.site >= 0) ++sites_seen[j][jr.site];
      interruptions[j] += jr.restarts;
      co2[j] += jr.co2_kg;
    }
    for (size_t i = 0; i < f.sites.size() && i < r.sites.size(); ++i) {
      const twin::SiteSeries& ss = r.sites[i];
      SiteForecast& sf = f.sites[i];
      sf.name = in.spec.sites[i].name;
      sf.accelerators = ss.accelerators;
      sf.power_cap_mw = ss.power_cap_mw;
      sf.node_failures_per_year = in.spec.sites[i].node_failures_per_year;
      sf.mean_mw += ss.energy_mwh / std::max(1e-9, o.horizon.hours()) / o.seeds;
      sf.peak_mw = std::max(sf.peak_mw, ss.peak_mw);
      double util = 0;
      for (double u : ss.utilisation) util += u;
      if (!ss.utilisation.empty()) sf.utilisation += util / static_cast<double>(ss.utilisation.size()) / o.seeds;
      sf.tco2 += ss.tco2 / o.seeds;
    }
    f.goodput += r.summary.goodput / o.seeds;
    f.useful_device_h += r.summary.useful_device_h / o.seeds;
    f.tco2 += r.summary.tco2 / o.seeds;
  }
  for (size_t j = 0; j < n; ++j) {
    JobForecast jf;
    jf.id = ids[j];
    jf.name = in.jobs[j].name;
    jf.tenant = in.jobs[j].tenant;
    auto rec = records.find(ids[j]);
    jf.added = rec == records.end();
    jf.state = jf.added ? JobState::kPending : rec->second->state;
    jf.started =
        static_cast<int>(std::count_if(starts[j].begin(), starts[j].end(), [](Time t) { return t != Time::Never(); }));
    jf.finished = static_cast<int>(
        std::count_if(finishes[j].begin(), finishes[j].end(), [](Time t) { return t != Time::Never(); }));
    jf.start = QuantilesOf(starts[j]);
    jf.finish = QuantilesOf(finishes[j]);
    if (going_on.count(j)) jf.start = {rec->second->started, rec->second->started, rec->second->started};
    for (const auto& [site, count] : sites_seen[j]) {
      if (count > jf.site_share * o.seeds) {
        jf.site = in.spec.sites[static_cast<size_t>(site)].name;
        jf.site_share = static_cast<double>(count) / o.seeds;
      }
    }
    if (!jf.added) {
      if (auto rt = s.run_times.find(jf.id); rt != s.run_times.end() && in.jobs[j].kind != JobKind::kTraining) {
        jf.run_time = rt->second.run_time;
        jf.run_time_from = rt->second.from;
        jf.fail_early = rt->second.fail_early;
      } else {
        jf.run_time = rec->second->spec.estimate;
        jf.run_time_from = "the job file";
      }
    }
    jf.interruptions = interruptions[j] / o.seeds;
    jf.co2_kg = co2[j] / o.seeds;
    f.jobs.push_back(std::move(jf));
  }
  std::sort(f.jobs.begin(), f.jobs.end(), [](const JobForecast& a, const JobForecast& b) { return a.id < b.id; });
  return f;
}

ForecastDiff Diff(const Forecast& baseline, const Forecast& what_if) {
  ForecastDiff d;
  d.goodput_before = baseline.goodput;
  d.goodput_after = what_if.goodput;
  d.tco2_before = baseline.tco2;
  d.tco2_after = what_if.tco2;
  std::map<uint64_t, const JobForecast*> before;
  for (const JobForecast& j : baseline.jobs) before[j.id] = &j;
  for (const JobForecast& a : what_if.jobs) {
    auto b = before.find(a.id);
    ForecastDiff::Job x;
    x.id = a.id;
    x.name = a.name;
    x.tenant = a.tenant;
    x.added = a.added || b == before.end();
    x.start_after = a.start[1];
    x.finish_after = a.finish[1];
    x.site_after = a.site;
    x.co2_kg_after = a.co2_kg;
    if (!x.added) {
      x.start_before = b->second->start[1];
      x.finish_before = b->second->finish[1];
      x.site_before = b->second->site;
      x.co2_kg_before = b->second->co2_kg;
      if (x.start_before == x.start_after && x.finish_before == x.finish_after && x.site_before == x.site_after) {
        continue;
      }
    }
    d.jobs.push_back(std::move(x));
  }
  std::map<std::string, ForecastDiff::Site> sites;
  for (const bool after : {false, true}) {
    for (const SiteForecast& s : (after ? what_if : baseline).sites) {
      ForecastDiff::Site& x = sites[s.name];
      x.name = s.name;
      (after ? x.tco2_after : x.tco2_before) = s.tco2;
      (after ? x.mean_mw_after : x.mean_mw_before) = s.mean_mw;
      (after ? x.utilisation_after : x.utilisation_before) = s.utilisation;
    }
  }
  for (auto& [name, x] : sites) d.sites.push_back(std::move(x));
  return d;
}

}  // namespace stargate::control
