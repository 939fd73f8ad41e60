#include "twin/scenario_export.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <utility>
#include <vector>

namespace stargate::twin {
namespace {

// The largest unit that holds `d` exactly ("90m", "1500ms").
std::string Dur(Duration d) {
  const int64_t ns = d.nanos();
  struct Unit {
    int64_t nanos;
    const char* name;
  };
  for (const Unit u : {Unit{3'600'000'000'000, "h"}, Unit{60'000'000'000, "m"}, Unit{1'000'000'000, "s"},
                       Unit{1'000'000, "ms"}, Unit{1'000, "us"}}) {
    if (ns % u.nanos == 0) return fmt::format("{}{}", ns / u.nanos, u.name);
  }
  return fmt::format("{}ns", ns);
}

// The shortest text that reads back as the same double.
std::string Num(double x) { return fmt::format("{}", x); }

std::string_view FabricName(FabricKind k) {
  switch (k) {
    case FabricKind::kFatTree:
      return "fat_tree";
    case FabricKind::kRailOptimized:
      return "rail_optimized";
    case FabricKind::kNvlDomain:
      return "nvl_domain";
  }
  return "fat_tree";
}

std::string_view ScopeName(FailureScope s) {
  switch (s) {
    case FailureScope::kAccelerator:
      return "accelerator";
    case FailureScope::kNode:
      return "node";
    case FailureScope::kSite:
      return "site";
  }
  return "node";
}

void Series(YAML::Emitter& y, const char* key, const HourlySeries& s) {
  y << YAML::Key << key << YAML::Value << YAML::BeginMap << YAML::Key << "kind" << YAML::Value << "hourly";
  y << YAML::Key << "values" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (double v : s.values) y << Num(v);
  y << YAML::EndSeq << YAML::EndMap;
}

void Scheduler(YAML::Emitter& y, const SchedulerSpec& s) {
  y << YAML::Key << "scheduler" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "weights" << YAML::Value << YAML::Flow << YAML::BeginMap;
  y << YAML::Key << "time" << YAML::Value << Num(s.weight_time) << YAML::Key << "carbon" << YAML::Value
    << Num(s.weight_carbon) << YAML::Key << "cost" << YAML::Value << Num(s.weight_cost) << YAML::Key << "latency"
    << YAML::Value << Num(s.weight_latency) << YAML::Key << "queue" << YAML::Value << Num(s.weight_queue);
  y << YAML::EndMap;
  auto kv = [&y](const char* k, const std::string& v) { y << YAML::Key << k << YAML::Value << v; };
  auto flag = [&y](const char* k, bool v) { y << YAML::Key << k << YAML::Value << v; };
  kv("carbon_forecast", Dur(s.carbon_forecast));
  kv("forecast_model", std::string(Name(s.forecast_model)));
  flag("power_cap", s.power_cap);
  flag("backfill", s.backfill);
  kv("backfill_depth", std::to_string(s.backfill_depth));
  kv("backfill_interval", Dur(s.backfill_interval));
  kv("queue_depth", std::to_string(s.queue_depth));
  flag("topology", s.topology);
  flag("defer", s.defer);
  kv("defer_threshold", Num(s.defer_threshold));
  kv("defer_margin", Num(s.defer_margin));
  kv("wait_budget", Num(s.wait_budget));
  kv("wait_cap", Dur(s.wait_cap));
  kv("resume_wait_budget", Num(s.resume_wait_budget));
  kv("latency_scale", Dur(s.latency_scale));
  flag("fair_share", s.fair_share);
  if (!s.tenants.empty()) {
    y << YAML::Key << "tenants" << YAML::Value << YAML::BeginSeq;
    for (const auto& t : s.tenants) {
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << t.tenant << YAML::Key << "weight"
        << YAML::Value << Num(t.weight) << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  y << YAML::Key << "power_save" << YAML::Value << YAML::Flow << YAML::BeginMap;
  flag("enabled", s.power_save.enabled);
  kv("idle_after", Dur(s.power_save.idle_after));
  kv("boot", Dur(s.power_save.boot));
  kv("warm", Num(s.power_save.warm));
  y << YAML::EndMap;
  y << YAML::Key << "carbon_cap" << YAML::Value << YAML::Flow << YAML::BeginMap;
  flag("enabled", s.carbon_cap.enabled);
  kv("above", Num(s.carbon_cap.above_g_per_kwh));
  kv("tdp_fraction", Num(s.carbon_cap.tdp_fraction));
  y << YAML::EndMap;
  flag("preemption", s.preemption);
  kv("preempt_after", Dur(s.preempt_after));
  kv("preempt_warning", Dur(s.preempt_warning));
  y << YAML::EndMap;
}

void Site(YAML::Emitter& y, const SiteSpec& s, const HourlySeries& carbon, const HourlySeries& price) {
  auto kv = [&y](const char* k, const std::string& v) { y << YAML::Key << k << YAML::Value << v; };
  y << YAML::BeginMap;
  kv("name", s.name);
  if (!s.region.empty()) kv("region", s.region);
  if (!s.jurisdiction.empty()) kv("jurisdiction", s.jurisdiction);
  kv("latitude", Num(s.latitude));
  kv("longitude", Num(s.longitude));
  y << YAML::Key << "located" << YAML::Value << s.located;
  kv("power_cap", Num(s.power_cap.value()) + "W");
  kv("pue", Num(s.pue));
  kv("storage_bandwidth", Num(s.storage_bandwidth.value()) + "B/s");
  kv("hot_spares",
     std::to_string(std::min<int64_t>(s.hot_spares, NodeCount(s))));  // the server's is one figure for every site
  kv("node_failures_per_year", Num(s.node_failures_per_year));
  kv("node_repair", Dur(s.node_repair));
  Series(y, "carbon", carbon);
  Series(y, "price", price);
  y << YAML::Key << "pools" << YAML::Value << YAML::BeginSeq;
  for (const PoolSpec& p : s.pools) {
    y << YAML::Flow << YAML::BeginMap;
    kv("accelerator", std::string(Name(p.type)));
    kv("nodes", std::to_string(p.nodes));
    kv("accels_per_node", std::to_string(p.accels_per_node));
    kv("nodes_per_rack", std::to_string(p.nodes_per_rack));
    kv("domain_nodes", std::to_string(p.domain_nodes));
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  const FabricSpec& f = s.fabric;
  y << YAML::Key << "fabric" << YAML::Value << YAML::Flow << YAML::BeginMap;
  kv("kind", std::string(FabricName(f.kind)));
  kv("nodes_per_leaf", std::to_string(f.nodes_per_leaf));
  kv("leaves_per_pod", std::to_string(f.leaves_per_pod));
  kv("oversubscription", Num(f.oversubscription));
  kv("alpha_scale_up", Dur(f.alpha_scale_up));
  kv("alpha_leaf", Dur(f.alpha_leaf));
  kv("alpha_spine", Dur(f.alpha_spine));
  y << YAML::EndMap;
  y << YAML::EndMap;
}

// `places`: the sites and regions a `near` may name; another (a live job's
// place no site is in) means nothing to the scheduler and is left out,
// with its max_rtt, as the scheduler leaves it out.
void Job(YAML::Emitter& y, const JobSpec& j, const std::set<std::string>& places) {
  auto kv = [&y](const char* k, const std::string& v) { y << YAML::Key << k << YAML::Value << v; };
  y << YAML::BeginMap;
  kv("name", j.name);
  kv("tenant", j.tenant);
  kv("kind", std::string(Name(j.kind)));
  if (!j.accelerators.empty()) {
    y << YAML::Key << "accelerators" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (AcceleratorType t : j.accelerators) y << std::string(Name(t));
    y << YAML::EndSeq;
  }
  kv("count", std::to_string(j.accelerator_count));
  if (j.per_node > 0) kv("per_node", std::to_string(j.per_node));
  if (j.share_milli > 0) kv("share", Num(j.share_milli / 1000.0));
  if (j.spread_sites) kv("spread", "sites");
  kv("priority", std::to_string(j.priority));
  kv("submit", Dur(j.submit - Time::Epoch()));
  kv("duration", Dur(j.duration));
  if (j.estimate > Duration::Zero()) kv("estimate", Dur(j.estimate));
  if (j.kind == JobKind::kTraining) {
    const TrainingSpec& t = j.training;
    y << YAML::Key << "training" << YAML::Value << YAML::Flow << YAML::BeginMap;
    kv("params", Num(t.params));
    kv("tokens", Num(t.tokens));
    kv("tokens_per_step", Num(t.tokens_per_step));
    kv("mfu", Num(t.mfu));
    kv("state_bytes_per_param", Num(t.state_bytes_per_param) + "B");
    kv("tensor_parallel", std::to_string(t.tensor_parallel));
    kv("pipeline_parallel", std::to_string(t.pipeline_parallel));
    y << YAML::EndMap;
  }
  const CheckpointPolicy& c = j.checkpoint;
  y << YAML::Key << "checkpoint" << YAML::Value << YAML::Flow << YAML::BeginMap;
  y << YAML::Key << "enabled" << YAML::Value << c.enabled << YAML::Key << "daly" << YAML::Value << c.daly << YAML::Key
    << "async" << YAML::Value << c.async;
  kv("interval", Dur(c.interval));  // used under daly too when failures are off
  kv("write", Dur(c.write));
  if (c.replica_sites > 1) {
    y << YAML::Key << "replicas" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "sites" << YAML::Value
      << c.replica_sites << YAML::Key << "every" << YAML::Value << Dur(c.replica_every) << YAML::EndMap;
  }
  if (c.site_wait >= Duration::Zero()) kv("site_wait", Dur(c.site_wait));
  y << YAML::EndMap;
  // Near an unknown place with a hard round-trip limit, no site
  // qualifies (sched/request_of.cc): a region no site is in says the same.
  const bool nowhere = !j.near.empty() && !places.count(j.near) && j.max_rtt > Duration::Zero();
  const std::vector<std::string> nowhere_region = {"nowhere: near " + j.near + " (unknown) with a max_rtt"};
  const std::vector<std::string>* regions = nowhere ? &nowhere_region : &j.regions;
  for (const auto& [key, list] : {std::pair{"jurisdictions", &j.jurisdictions}, std::pair{"regions", regions}}) {
    if (list->empty()) continue;
    y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& x : *list) y << x;
    y << YAML::EndSeq;
  }
  if (!j.near.empty() && places.count(j.near)) {
    kv("near", j.near);
    if (j.max_rtt > Duration::Zero()) kv("max_rtt", Dur(j.max_rtt));
  }
  y << YAML::Key << "deferrable" << YAML::Value << j.deferrable;
  if (j.deadline != Time::Never()) kv("deadline", Dur(j.deadline - Time::Epoch()));
  y << YAML::EndMap;
}

// Global node id -> "site:index".
StatusOr<std::string> NodeRef(const ScenarioSpec& spec, uint32_t id) {
  uint32_t first = 0;
  for (const SiteSpec& s : spec.sites) {
    const auto n = static_cast<uint32_t>(NodeCount(s));
    if (id < first + n) return fmt::format("{}:{}", s.name, id - first);
    first += n;
  }
  return absl::InvalidArgumentError(fmt::format("node {} is in no site", id));
}

}  // namespace

StatusOr<std::string> ExportScenario(const TwinInputs& in) {
  const ScenarioSpec& s = in.spec;
  std::set<std::string> names;
  for (const JobSpec& j : in.jobs) {
    if (!names.insert(j.name).second) return absl::InvalidArgumentError(fmt::format("two jobs named {}", j.name));
  }
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << s.name;
  y << YAML::Key << "description" << YAML::Value << s.description;
  y << YAML::Key << "seed" << YAML::Value << std::to_string(s.seed);
  y << YAML::Key << "duration" << YAML::Value << Dur(s.duration);
  y << YAML::Key << "sample_interval" << YAML::Value << Dur(s.sample_interval);
  y << YAML::Key << "policy" << YAML::Value << s.policy;
  Scheduler(y, s.scheduler);
  y << YAML::Key << "sites" << YAML::Value << YAML::BeginSeq;
  for (size_t i = 0; i < s.sites.size(); ++i) {
    Site(y, s.sites[i], i < in.carbon.size() ? in.carbon[i] : HourlySeries{},
         i < in.price.size() ? in.price[i] : HourlySeries{});
  }
  y << YAML::EndSeq;
  if (!s.wan.empty()) {
    y << YAML::Key << "wan" << YAML::Value << YAML::BeginSeq;
    for (const WanLinkSpec& w : s.wan) {
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "a" << YAML::Value << w.a << YAML::Key << "b" << YAML::Value
        << w.b << YAML::Key << "bandwidth" << YAML::Value << Num(w.bandwidth.value()) + "B/s" << YAML::Key << "latency"
        << YAML::Value << Dur(w.latency) << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  y << YAML::Key << "workload" << YAML::Value << YAML::BeginMap << YAML::Key << "jobs" << YAML::Value << YAML::BeginSeq;
  std::set<std::string> places;
  for (const SiteSpec& site : s.sites) {
    places.insert(site.name);
    if (!site.region.empty()) places.insert(site.region);
  }
  for (const JobSpec& j : in.jobs) Job(y, j, places);
  y << YAML::EndSeq << YAML::EndMap;
  const FailureSpec& f = s.failures;
  y << YAML::Key << "failures" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "enabled" << YAML::Value << f.enabled;
  if (!in.failures.empty()) {  // expanded: a preset's components listed
    y << YAML::Key << "components" << YAML::Value << YAML::BeginSeq;
    for (const FailureComponent& c : in.failures) {
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c.name << YAML::Key << "scope"
        << YAML::Value << std::string(ScopeName(c.scope)) << YAML::Key << "rate_per_year" << YAML::Value
        << Num(c.rate_per_year) << YAML::Key << "repair" << YAML::Value << Dur(c.repair) << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  y << YAML::Key << "rate_scale" << YAML::Value << Num(f.rate_scale);
  y << YAML::Key << "restart" << YAML::Value << Dur(f.restart);
  y << YAML::Key << "gang_repair" << YAML::Value << f.gang_repair;
  if (f.repair_restart >= Duration::Zero()) y << YAML::Key << "repair_restart" << YAML::Value << Dur(f.repair_restart);
  if (!f.scripted.empty()) {
    y << YAML::Key << "scripted" << YAML::Value << YAML::BeginSeq;
    for (const FailureSpec::Scripted& x : f.scripted) {
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "at" << YAML::Value << Dur(x.at) << YAML::Key << "site"
        << YAML::Value << x.site << YAML::Key << "node" << YAML::Value
        << (x.node == FailureSpec::Scripted::kWholeSite ? std::string("all") : std::to_string(x.node)) << YAML::Key
        << "repair" << YAML::Value << Dur(x.repair) << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  y << YAML::EndMap;
  if (!in.running.empty()) {
    y << YAML::Key << "running" << YAML::Value << YAML::BeginSeq;
    for (const RunningAtStart& r : in.running) {
      if (r.job >= in.jobs.size()) return absl::InvalidArgumentError(fmt::format("running job {} of none", r.job));
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "job" << YAML::Value << in.jobs[r.job].name;
      y << YAML::Key << "nodes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (uint32_t n : r.nodes) {
        SG_ASSIGN_OR_RETURN(const std::string ref, NodeRef(s, n));
        y << ref;
      }
      y << YAML::EndSeq << YAML::Key << "per_node" << YAML::Value << std::to_string(r.per_node) << YAML::Key
        << "remaining" << YAML::Value << Num(r.remaining) << YAML::Key << "power_cap" << YAML::Value << Num(r.power_cap)
        << YAML::Key << "since_checkpoint" << YAML::Value << Dur(r.since_checkpoint);
      if (r.share_slot >= 0) y << YAML::Key << "share_slot" << YAML::Value << std::to_string(r.share_slot);
      y << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  if (!in.drains.empty()) {
    y << YAML::Key << "drains" << YAML::Value << YAML::BeginSeq;
    for (const NodeDrain& d : in.drains) {
      SG_ASSIGN_OR_RETURN(const std::string ref, NodeRef(s, d.node));
      const size_t colon = ref.rfind(':');
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "at" << YAML::Value << Dur(d.at) << YAML::Key << "site"
        << YAML::Value << ref.substr(0, colon) << YAML::Key << "node" << YAML::Value << ref.substr(colon + 1)
        << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  y << YAML::EndMap;
  if (!y.good()) return absl::InternalError(fmt::format("writing the scenario: {}", y.GetLastError()));
  return std::string(y.c_str()) + "\n";
}

}  // namespace stargate::twin
