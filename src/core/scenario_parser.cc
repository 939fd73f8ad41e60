#include "core/scenario_parser.h"

#include "core/data_input_parser.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <new>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/site_sets.h"
#include "core/yaml_util.h"

namespace stargate {
namespace {

using yaml_util::Cursor;
using yaml_util::DurationRange;
using yaml_util::EnumName;
using yaml_util::Fields;
using yaml_util::Range;

// ---- schema: the keys each map accepts (snake_case struct field names) ----

constexpr std::string_view kTopKeys[] = {"name",     "description", "seed",      "duration",  "sample_interval",
                                         "policy",   "compare",     "sites",     "site_sets", "wan",
                                         "workload", "failures",    "scheduler", "running",   "drains"};
constexpr std::string_view kSiteSetKeys[] = {"name", "count",  "nodes", "pool",   "regions",
                                             "pue",  "carbon", "price", "fabric", "seed"};
constexpr std::string_view kSiteSetRegionKeys[] = {"name",   "jurisdiction", "latitude", "longitude",
                                                   "weight", "carbon",       "price"};
constexpr std::string_view kPoolTemplateKeys[] = {"accelerator", "accels_per_node", "nodes_per_rack", "domain_nodes"};
constexpr std::string_view kRunningKeys[] = {"job",       "nodes",      "per_node",        "remaining",
                                             "power_cap", "share_slot", "since_checkpoint"};
constexpr std::string_view kDrainKeys[] = {"at", "site", "node"};
constexpr std::string_view kSiteKeys[] = {"name",        "region",    "jurisdiction",
                                          "latitude",    "longitude", "power_cap",
                                          "pue",         "carbon",    "price",
                                          "pools",       "fabric",    "storage_bandwidth",
                                          "hot_spares",  "located",   "node_failures_per_year",
                                          "node_repair", "power_ramp"};
constexpr std::string_view kSeriesKeys[] = {
    "kind",   "mean",  "daily_amplitude", "seasonal_amplitude", "peak_hour", "noise", "utc_offset_hours", "file",
    "column", "scale", "values"};
constexpr std::string_view kPoolKeys[] = {"accelerator", "nodes", "accels_per_node", "nodes_per_rack", "domain_nodes"};
constexpr std::string_view kFabricKeys[] = {"kind",           "nodes_per_leaf", "leaves_per_pod", "oversubscription",
                                            "alpha_scale_up", "alpha_leaf",     "alpha_spine"};
constexpr std::string_view kRampKeys[] = {"mw_per_s", "mw_per_min"};
constexpr std::string_view kWanKeys[] = {"a", "b", "bandwidth", "latency"};
constexpr std::string_view kWorkloadKeys[] = {"generators", "traces", "jobs"};
constexpr std::string_view kGeneratorKeys[] = {"name",
                                               "kind",
                                               "count",
                                               "start",
                                               "end",
                                               "sizes",
                                               "duration_median",
                                               "duration_sigma",
                                               "params_min",
                                               "params_max",
                                               "tokens_per_param",
                                               "mfu",
                                               "accelerators",
                                               "jurisdictions",
                                               "near",
                                               "max_rtt",
                                               "tenants",
                                               "priority",
                                               "checkpoint",
                                               "deferrable_fraction",
                                               "deadline_slack"};
constexpr std::string_view kSizeKeys[] = {"accelerators", "share", "weight"};
constexpr std::string_view kCheckpointKeys[] = {"enabled", "interval", "daly",     "async",
                                                "write",   "replicas", "site_wait"};
constexpr std::string_view kReplicaKeys[] = {"sites", "every"};
constexpr std::string_view kTraceKeys[] = {"format", "path", "job_table", "time_scale", "limit", "accelerators"};
constexpr std::string_view kJobKeys[] = {
    "name",       "tenant",   "kind",     "accelerators", "count",      "accelerator_count",
    "priority",   "submit",   "duration", "training",     "checkpoint", "jurisdictions",
    "deferrable", "deadline", "near",     "max_rtt",      "estimate",   "per_node",
    "spread",     "regions",  "inputs",   "share"};
constexpr std::string_view kTrainingKeys[] = {
    "params", "tokens", "tokens_per_step", "mfu", "state_bytes_per_param", "tensor_parallel", "pipeline_parallel"};
constexpr std::string_view kSchedulerKeys[] = {
    "weights",         "carbon_forecast",    "forecast_model", "power_cap",       "backfill",
    "backfill_depth",  "backfill_interval",  "queue_depth",    "topology",        "defer",
    "defer_threshold", "defer_margin",       "wait_budget",    "wait_cap",        "fair_share",
    "tenants",         "preemption",         "preempt_after",  "preempt_warning", "latency_scale",
    "power_save",      "resume_wait_budget", "carbon_cap",     "bounded_search"};
constexpr std::string_view kPowerSaveKeys[] = {"enabled", "idle_after", "boot", "warm"};
constexpr std::string_view kCarbonCapKeys[] = {"enabled", "above", "tdp_fraction"};
constexpr std::string_view kTenantWeightKeys[] = {"name", "weight"};
constexpr std::string_view kWeightKeys[] = {"time", "carbon", "cost", "latency", "queue"};
constexpr std::string_view kFailureKeys[] = {"enabled", "preset",      "components",     "rate_scale",
                                             "restart", "gang_repair", "repair_restart", "scripted"};
constexpr std::string_view kScriptedKeys[] = {"at", "site", "node", "repair"};
constexpr std::string_view kComponentKeys[] = {"name", "scope", "rate_per_year", "repair"};

constexpr EnumName<SeriesSpec::Kind> kSeriesKinds[] = {{"constant", SeriesSpec::Kind::kConstant},
                                                       {"diurnal", SeriesSpec::Kind::kDiurnal},
                                                       {"file", SeriesSpec::Kind::kFile},
                                                       {"hourly", SeriesSpec::Kind::kHourly}};
constexpr EnumName<ForecastModel> kForecastModels[] = {{"perfect", ForecastModel::kPerfect},
                                                       {"persistence", ForecastModel::kPersistence},
                                                       {"day_ago", ForecastModel::kDayAgo}};
constexpr EnumName<FabricKind> kFabricKinds[] = {{"fat_tree", FabricKind::kFatTree},
                                                 {"rail_optimized", FabricKind::kRailOptimized},
                                                 {"nvl_domain", FabricKind::kNvlDomain}};
constexpr EnumName<JobKind> kJobKinds[] = {{"training", JobKind::kTraining},
                                           {"finetune", JobKind::kFineTune},
                                           {"fine_tune", JobKind::kFineTune},
                                           {"batch", JobKind::kBatch},
                                           {"inference", JobKind::kInference}};
constexpr EnumName<TraceFormat> kTraceFormats[] = {
    {"philly", TraceFormat::kPhilly}, {"alibaba_pai", TraceFormat::kAlibabaPai}, {"helios", TraceFormat::kHelios},
    {"acme", TraceFormat::kAcme},     {"alibaba_openb", TraceFormat::kOpenb},    {"job_list", TraceFormat::kJobList}};
constexpr EnumName<FailureScope> kScopes[] = {
    {"accelerator", FailureScope::kAccelerator}, {"node", FailureScope::kNode}, {"site", FailureScope::kSite}};
constexpr std::string_view kPresets[] = {"llama3", "none"};

// ---- limits: reject absurd values before any arithmetic can overflow ----

constexpr double kMaxNodesPerPool = 10'000'000;
constexpr double kMaxAccelsPerNode = 1024;
constexpr int64_t kMaxAccelerators = 1'000'000'000;  // whole scenario; ids are 32-bit
constexpr size_t kMaxSites = 65534;                  // SiteId/PoolId are uint16, max = invalid
constexpr double kMaxCount = 1e9;
constexpr size_t kMaxTextBytes = size_t{64} << 20;

constexpr Range kFraction{0, 1};
constexpr Range kMfu{0, 1, /*min_open=*/true};
constexpr DurationRange kPositiveDuration{Duration::Zero(), /*min_open=*/true};
constexpr DurationRange kNonNegativeDuration{};
// Durations added to simulated times: ten years keeps every sum far from
// int64 nanosecond overflow.
constexpr DurationRange kBoundedDuration{Duration::Zero(), false, Duration::Days(3653)};

Time AtOffset(Duration d) { return Time::FromNanos(d.nanos()); }

// How many nodes the declared site `name` has; an error at `at` when no
// site has that name.
StatusOr<int64_t> SiteNodes(const Cursor& at, const std::vector<SiteSpec>& sites, const std::string& name) {
  auto known = std::find_if(sites.begin(), sites.end(), [&](const SiteSpec& s) { return s.name == name; });
  if (known == sites.end()) return at.Error(fmt::format("unknown site {}", Quoted(name)));
  return NodeCount(*known);
}

// Node `index` of a site of `nodes` (0-based over its pools in order).
Status CheckNodeIndex(const Cursor& at, const std::string& site, int64_t index, int64_t nodes) {
  if (index < nodes) return Status();
  return at.Error(fmt::format("site {} has {} node(s), numbered from 0", Quoted(site), nodes));
}

// ---- sites ----

StatusOr<SeriesSpec> ParseSeries(const Cursor& c, Range mean_range) {
  SeriesSpec s;
  if (c.IsScalar()) {  // shorthand: `carbon: 400` is a constant series
    SG_ASSIGN_OR_RETURN(s.mean, yaml_util::ReadNumber(c, mean_range));
    return s;
  }
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kSeriesKeys));
  const SeriesSpec::Kind implied = f.Has("file") ? SeriesSpec::Kind::kFile : s.kind;
  SG_ASSIGN_OR_RETURN(s.kind, f.Enum<SeriesSpec::Kind>("kind", implied, kSeriesKinds, "series kind"));
  SG_ASSIGN_OR_RETURN(s.mean, f.Number("mean", s.mean, mean_range));
  SG_ASSIGN_OR_RETURN(s.daily_amplitude, f.Number("daily_amplitude", s.daily_amplitude, kFraction));
  SG_ASSIGN_OR_RETURN(s.seasonal_amplitude, f.Number("seasonal_amplitude", s.seasonal_amplitude, kFraction));
  SG_ASSIGN_OR_RETURN(s.peak_hour, f.Int("peak_hour", s.peak_hour, Range{0, 23}));
  SG_ASSIGN_OR_RETURN(s.noise, f.Number("noise", s.noise, kFraction));
  SG_ASSIGN_OR_RETURN(s.utc_offset_hours, f.Int("utc_offset_hours", s.utc_offset_hours, Range{-12, 14}));
  SG_ASSIGN_OR_RETURN(s.file, f.String("file", s.file));
  SG_ASSIGN_OR_RETURN(s.column, f.Int("column", s.column, Range{0, 100000}));
  SG_ASSIGN_OR_RETURN(s.scale, f.Number("scale", s.scale, Range{0, 1e12, true}));
  if (s.kind == SeriesSpec::Kind::kFile && s.file.empty()) {
    return f.Has("file") ? f.Get("file")->Error("must name a CSV file") : f.Missing("file");
  }
  if (s.kind != SeriesSpec::Kind::kFile && f.Has("file")) {
    return f.Get("file")->Error("only used with kind: file");
  }
  if (auto values = f.Get("values")) {
    if (s.kind != SeriesSpec::Kind::kHourly) return values->Error("only used with kind: hourly");
    SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, values->Items());
    for (const Cursor& v : items) {
      SG_ASSIGN_OR_RETURN(const double x, yaml_util::ReadNumber(v, mean_range));
      s.values.push_back(x);
    }
  }
  if (s.kind == SeriesSpec::Kind::kHourly && s.values.empty()) {
    return f.Has("values") ? f.Get("values")->Error("needs at least one value") : f.Missing("values");
  }
  return s;
}

// A required, non-empty `name`.
StatusOr<std::string> RequireName(const Fields& f) {
  SG_ASSIGN_OR_RETURN(const Cursor name, f.Require("name"));
  SG_ASSIGN_OR_RETURN(std::string out, yaml_util::ReadString(name));
  if (out.empty()) return name.Error("must not be empty");
  return out;
}

// A site's grid: `carbon` and `price` series where given (prices do go
// negative on windy nights); *given says which were.
Status ParseGrid(const Fields& f, SeriesSpec* carbon, SeriesSpec* price, std::pair<bool, bool>* given = nullptr) {
  if (auto c = f.Get("carbon")) {
    SG_ASSIGN_OR_RETURN(*carbon, ParseSeries(*c, Range{0, 1e5}));
    if (given != nullptr) given->first = true;
  }
  if (auto p = f.Get("price")) {
    SG_ASSIGN_OR_RETURN(*price, ParseSeries(*p, Range{-1e6, 1e6}));
    if (given != nullptr) given->second = true;
  }
  return absl::OkStatus();
}

// A pool; a site set's `template` has no `nodes` (each site draws its own)
// and gets nodes = 1.
StatusOr<PoolSpec> ParsePool(const Cursor& c, bool template_only = false) {
  SG_ASSIGN_OR_RETURN(const Fields f, template_only ? c.Map(kPoolTemplateKeys) : c.Map(kPoolKeys));
  PoolSpec p;
  SG_ASSIGN_OR_RETURN(const Cursor acc, f.Require("accelerator"));
  SG_ASSIGN_OR_RETURN(p.type, yaml_util::ReadAccelerator(acc));
  p.nodes = 1;
  if (!template_only) {
    SG_ASSIGN_OR_RETURN(const Cursor nodes, f.Require("nodes"));
    SG_ASSIGN_OR_RETURN(const int64_t n, yaml_util::ReadInt(nodes, Range{1, kMaxNodesPerPool}));
    p.nodes = static_cast<int>(n);
  }
  const AcceleratorSpec& spec = Spec(p.type);
  SG_ASSIGN_OR_RETURN(p.accels_per_node, f.Int("accels_per_node", spec.default_per_node, Range{1, kMaxAccelsPerNode}));
  SG_ASSIGN_OR_RETURN(p.domain_nodes, f.Int("domain_nodes", spec.default_domain_nodes, Range{1, kMaxNodesPerPool}));
  // A scale-up domain larger than the default rack (GB200 NVL72: 18 trays)
  // is one rack, so the rack default grows with it.
  const int rack_default = std::max(PoolSpec{}.nodes_per_rack, p.domain_nodes);
  SG_ASSIGN_OR_RETURN(p.nodes_per_rack, f.Int("nodes_per_rack", rack_default, Range{1, kMaxNodesPerPool}));
  if (int64_t{p.nodes} * p.accels_per_node > kMaxAccelerators) {
    return c.Error(fmt::format("{} nodes x {} accelerators is more than {} accelerators", p.nodes, p.accels_per_node,
                               kMaxAccelerators));
  }
  return p;
}

StatusOr<FabricSpec> ParseFabric(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kFabricKeys));
  FabricSpec s;
  SG_ASSIGN_OR_RETURN(s.kind, f.Enum<FabricKind>("kind", s.kind, kFabricKinds, "fabric kind"));
  SG_ASSIGN_OR_RETURN(s.nodes_per_leaf, f.Int("nodes_per_leaf", s.nodes_per_leaf, Range{1, 1e7}));
  SG_ASSIGN_OR_RETURN(s.leaves_per_pod, f.Int("leaves_per_pod", s.leaves_per_pod, Range{1, 1e7}));
  SG_ASSIGN_OR_RETURN(s.oversubscription, f.Number("oversubscription", s.oversubscription, Range{0, 1000, true}));
  SG_ASSIGN_OR_RETURN(s.alpha_scale_up, f.Dur("alpha_scale_up", s.alpha_scale_up, kNonNegativeDuration));
  SG_ASSIGN_OR_RETURN(s.alpha_leaf, f.Dur("alpha_leaf", s.alpha_leaf, kNonNegativeDuration));
  SG_ASSIGN_OR_RETURN(s.alpha_spine, f.Dur("alpha_spine", s.alpha_spine, kNonNegativeDuration));
  return s;
}

StatusOr<std::vector<PoolSpec>> ParsePools(const Fields& site) {
  SG_ASSIGN_OR_RETURN(const Cursor c, site.Require("pools"));
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c.Items());
  if (items.empty()) return c.Error("a site needs at least one pool");
  if (items.size() > kMaxSites) return c.Error(fmt::format("more than {} pools", kMaxSites));
  std::vector<PoolSpec> pools;
  for (const Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(PoolSpec p, ParsePool(item));
    pools.push_back(p);
  }
  return pools;
}

// The scalar fields of a site; its name is required and non-empty.
Status ParseSiteScalars(const Fields& f, SiteSpec* s) {
  SG_ASSIGN_OR_RETURN(s->name, RequireName(f));
  SG_ASSIGN_OR_RETURN(s->region, f.String("region", s->region));
  SG_ASSIGN_OR_RETURN(s->jurisdiction, f.String("jurisdiction", s->jurisdiction));
  SG_ASSIGN_OR_RETURN(s->latitude, f.Number("latitude", s->latitude, Range{-90, 90}));
  SG_ASSIGN_OR_RETURN(s->longitude, f.Number("longitude", s->longitude, Range{-180, 180}));
  SG_ASSIGN_OR_RETURN(const double cap, f.Power("power_cap", s->power_cap.value(), Range{0, 1e15}));
  s->power_cap = Watts(cap);
  SG_ASSIGN_OR_RETURN(s->pue, f.Number("pue", s->pue, Range{1, 10}));
  SG_ASSIGN_OR_RETURN(const double bw,
                      f.Bandwidth("storage_bandwidth", s->storage_bandwidth.value(), Range{0, 1e18, true}));
  s->storage_bandwidth = BytesPerSec(bw);
  return absl::OkStatus();
}

StatusOr<SiteSpec> ParseSite(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kSiteKeys));
  SiteSpec s;
  SG_RETURN_IF_ERROR(ParseSiteScalars(f, &s));
  SG_RETURN_IF_ERROR(ParseGrid(f, &s.carbon, &s.price));
  SG_ASSIGN_OR_RETURN(s.pools, ParsePools(f));
  if (auto fabric = f.Get("fabric")) {
    SG_ASSIGN_OR_RETURN(s.fabric, ParseFabric(*fabric));
  }
  const int64_t nodes = NodeCount(s);
  SG_ASSIGN_OR_RETURN(s.hot_spares, f.Int("hot_spares", s.hot_spares, Range{0, kMaxNodesPerPool}));
  SG_ASSIGN_OR_RETURN(s.located, f.Bool("located", s.located));
  SG_ASSIGN_OR_RETURN(s.node_failures_per_year,
                      f.Number("node_failures_per_year", s.node_failures_per_year, Range{0, 1e6}));
  SG_ASSIGN_OR_RETURN(s.node_repair, f.Dur("node_repair", s.node_repair, kBoundedDuration));
  if (auto ramp = f.Get("power_ramp")) {
    SG_ASSIGN_OR_RETURN(s.power_ramp, ParsePowerRamp(*ramp));
  }
  if (s.hot_spares > nodes) {
    return f.Get("hot_spares")->Error(fmt::format("{} hot spares but the site has only {} nodes", s.hot_spares, nodes));
  }
  return s;
}

StatusOr<std::vector<SiteSpec>> ParseSites(const Fields& top) {
  if (!top.Has("sites") && top.Has("site_sets")) return std::vector<SiteSpec>{};
  SG_ASSIGN_OR_RETURN(const Cursor c, top.Require("sites"));
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c.Items());
  if (items.empty()) return c.Error("at least one site is required");
  if (items.size() > kMaxSites) return c.Error(fmt::format("more than {} sites", kMaxSites));
  std::vector<SiteSpec> sites;
  std::map<std::string, int> first_line;  // site name -> line it was declared on
  int64_t accelerators = 0;
  for (const Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(SiteSpec s, ParseSite(item));
    const auto [it, fresh] = first_line.emplace(s.name, item.mark().line + 1);
    if (!fresh) {
      // ParseSite succeeded, so the map has a name.
      SG_ASSIGN_OR_RETURN(const Fields f, item.Map(kSiteKeys));
      return f.Get("name")->Error(
          fmt::format("duplicate site name {} (first declared on line {})", Quoted(s.name), it->second));
    }
    for (const PoolSpec& p : s.pools) accelerators += int64_t{p.nodes} * p.accels_per_node;
    if (accelerators > kMaxAccelerators) {
      return item.Error(fmt::format("the scenario exceeds {} accelerators in total", kMaxAccelerators));
    }
    sites.push_back(std::move(s));
  }
  return sites;
}

// ---- site sets ----

// A number, or [low, high], within `r`.
StatusOr<std::pair<double, double>> ReadSpan(const Cursor& c, Range r) {
  if (c.IsScalar()) {
    SG_ASSIGN_OR_RETURN(const double x, yaml_util::ReadNumber(c, r));
    return std::make_pair(x, x);
  }
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c.Items());
  if (items.size() != 2) return c.Error("expected a number or [low, high]");
  SG_ASSIGN_OR_RETURN(const double lo, yaml_util::ReadNumber(items[0], r));
  SG_ASSIGN_OR_RETURN(const double hi, yaml_util::ReadNumber(items[1], r));
  if (hi < lo) return items[1].Error(fmt::format("high ({}) is below low ({})", hi, lo));
  return std::make_pair(lo, hi);
}

StatusOr<SiteSetRegion> ParseSiteSetRegion(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kSiteSetRegionKeys));
  SiteSetRegion r;
  SG_ASSIGN_OR_RETURN(r.name, RequireName(f));
  SG_ASSIGN_OR_RETURN(r.jurisdiction, f.String("jurisdiction", r.jurisdiction));
  SG_ASSIGN_OR_RETURN(const Cursor lat, f.Require("latitude"));
  SG_ASSIGN_OR_RETURN(std::tie(r.latitude_min, r.latitude_max), ReadSpan(lat, Range{-90, 90}));
  SG_ASSIGN_OR_RETURN(const Cursor lon, f.Require("longitude"));
  SG_ASSIGN_OR_RETURN(std::tie(r.longitude_min, r.longitude_max), ReadSpan(lon, Range{-180, 180}));
  SG_ASSIGN_OR_RETURN(r.weight, f.Number("weight", r.weight, Range{0, 1e12, true}));
  std::pair<bool, bool> given;
  SG_RETURN_IF_ERROR(ParseGrid(f, &r.carbon, &r.price, &given));
  r.has_carbon = given.first;
  r.has_price = given.second;
  return r;
}

StatusOr<SiteSetSpec> ParseSiteSet(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kSiteSetKeys));
  SiteSetSpec set;
  SG_ASSIGN_OR_RETURN(set.name, RequireName(f));
  SG_ASSIGN_OR_RETURN(const Cursor count, f.Require("count"));
  SG_ASSIGN_OR_RETURN(const int64_t n, yaml_util::ReadInt(count, Range{1, static_cast<double>(kMaxSites)}));
  set.count = static_cast<int>(n);
  SG_ASSIGN_OR_RETURN(const Cursor nodes, f.Require("nodes"));
  SG_ASSIGN_OR_RETURN(const auto span, ReadSpan(nodes, Range{1, kMaxNodesPerPool}));
  if (span.first != std::floor(span.first) || span.second != std::floor(span.second)) {
    return nodes.Error("node counts are whole numbers");
  }
  set.nodes_min = static_cast<int>(span.first);
  set.nodes_max = static_cast<int>(span.second);
  SG_ASSIGN_OR_RETURN(const Cursor pool, f.Require("pool"));
  SG_ASSIGN_OR_RETURN(set.pool, ParsePool(pool, /*template_only=*/true));
  if (int64_t{set.nodes_max} * set.pool.accels_per_node > kMaxAccelerators) {
    return nodes.Error(fmt::format("{} nodes x {} accelerators is more than {} accelerators", set.nodes_max,
                                   set.pool.accels_per_node, kMaxAccelerators));
  }
  SG_ASSIGN_OR_RETURN(const Cursor regions, f.Require("regions"));
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, regions.Items());
  if (items.empty()) return regions.Error("a site set needs at least one region");
  for (const Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(SiteSetRegion r, ParseSiteSetRegion(item));
    for (const SiteSetRegion& seen : set.regions) {
      if (seen.name == r.name) return item.Error(fmt::format("duplicate region {}", Quoted(r.name)));
    }
    set.regions.push_back(std::move(r));
  }
  SG_ASSIGN_OR_RETURN(set.pue, f.Number("pue", set.pue, Range{1, 10}));
  SG_RETURN_IF_ERROR(ParseGrid(f, &set.carbon, &set.price));
  if (auto fabric = f.Get("fabric")) {
    SG_ASSIGN_OR_RETURN(set.fabric, ParseFabric(*fabric));
  }
  if (auto seed = f.Get("seed")) {
    SG_ASSIGN_OR_RETURN(set.seed, yaml_util::ReadUint64(*seed));
  }
  return set;
}

// Appends the sites the `site_sets` generate to *sites, checking the
// whole: site and pool counts, unique names, total accelerators.
Status ParseSiteSets(const Cursor& c, std::vector<SiteSpec>* sites) {
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c.Items());
  std::vector<SiteSetSpec> sets;
  size_t total = sites->size();
  for (const Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(SiteSetSpec set, ParseSiteSet(item));
    for (const SiteSetSpec& seen : sets) {
      if (seen.name == set.name) return item.Error(fmt::format("duplicate site set {}", Quoted(set.name)));
    }
    total += static_cast<size_t>(set.count);
    if (total > kMaxSites) {
      return item.Error(fmt::format("more than {} sites with the generated ones", kMaxSites));
    }
    sets.push_back(std::move(set));
  }
  if (sets.empty()) return c.Error("give at least one site set (or leave `site_sets` out)");
  const size_t listed = sites->size();
  ExpandSiteSets(sets, sites);
  std::set<std::string_view> names;
  size_t pools = 0;
  int64_t accelerators = 0;
  // The listed sites, then each set's (a clash names the set that made it).
  for (size_t i = 0, k = 0, left = listed; i < sites->size(); ++i, --left) {
    while (left == 0) left = static_cast<size_t>(sets[k++].count);
    const SiteSpec& s = (*sites)[i];
    if (!names.insert(s.name).second) {
      return items[k - 1].Error(fmt::format("generated site {} has the name of another site", Quoted(s.name)));
    }
    pools += s.pools.size();
    for (const PoolSpec& p : s.pools) accelerators += int64_t{p.nodes} * p.accels_per_node;
  }
  if (pools > kMaxSites) return c.Error(fmt::format("more than {} pools with the generated sites", kMaxSites));
  if (accelerators > kMaxAccelerators) {
    return c.Error(fmt::format("the scenario exceeds {} accelerators in total", kMaxAccelerators));
  }
  return absl::OkStatus();
}

// ---- WAN ----

// A link's end: a site's name, else a region's. A name that is both (a
// site named after its region) takes the kind of the link's other end;
// named both at both ends, the link joins the sites.
struct LinkEnd {
  std::string name;
  bool region = false;
  bool either = false;  // a site's name and a region's
};

StatusOr<LinkEnd> ParseLinkEnd(const Cursor& c, std::span<const std::string_view> site_names,
                               std::span<const std::string_view> region_names) {
  SG_ASSIGN_OR_RETURN(std::string name, yaml_util::ReadString(c));
  const bool site = std::find(site_names.begin(), site_names.end(), name) != site_names.end();
  const bool region = std::find(region_names.begin(), region_names.end(), name) != region_names.end();
  if (site || region) return LinkEnd{name, !site, site && region};
  std::vector<std::string_view> known(site_names.begin(), site_names.end());
  known.insert(known.end(), region_names.begin(), region_names.end());
  return c.Error(yaml_util::UnknownName("site or region", name, known));
}

StatusOr<WanLinkSpec> ParseWanLink(const Cursor& c, std::span<const std::string_view> site_names,
                                   std::span<const std::string_view> region_names) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kWanKeys));
  WanLinkSpec w;
  SG_ASSIGN_OR_RETURN(const Cursor a, f.Require("a"));
  SG_ASSIGN_OR_RETURN(const Cursor b, f.Require("b"));
  SG_ASSIGN_OR_RETURN(LinkEnd end_a, ParseLinkEnd(a, site_names, region_names));
  SG_ASSIGN_OR_RETURN(LinkEnd end_b, ParseLinkEnd(b, site_names, region_names));
  if (end_a.either && !end_b.either) end_a.region = end_b.region;
  if (end_b.either && !end_a.either) end_b.region = end_a.region;
  if (end_a.region != end_b.region) {
    return b.Error(fmt::format("a link joins two sites or two regions (their hubs), not a site ({}) and a region ({})",
                               Quoted(end_a.region ? end_b.name : end_a.name),
                               Quoted(end_a.region ? end_a.name : end_b.name)));
  }
  w.a = end_a.name;
  w.b = end_b.name;
  w.regions = end_a.region;
  if (w.a == w.b) {
    return b.Error(
        fmt::format("a link needs two different {}, got {} twice", w.regions ? "regions" : "sites", Quoted(w.a)));
  }
  SG_ASSIGN_OR_RETURN(const double bw, f.Bandwidth("bandwidth", w.bandwidth.value(), Range{0, 1e18, true}));
  w.bandwidth = BytesPerSec(bw);
  SG_ASSIGN_OR_RETURN(w.latency, f.Dur("latency", w.latency, kNonNegativeDuration));
  return w;
}

StatusOr<std::vector<WanLinkSpec>> ParseWan(const Fields& top, const std::vector<SiteSpec>& sites) {
  std::vector<WanLinkSpec> links;
  auto c = top.Get("wan");
  if (!c) return links;
  std::vector<std::string_view> names, regions;
  for (const SiteSpec& s : sites) {
    names.push_back(s.name);
    if (!s.region.empty() && std::find(regions.begin(), regions.end(), s.region) == regions.end()) {
      regions.push_back(s.region);
    }
  }
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c->Items());
  std::set<std::pair<std::string, std::string>> seen;  // unordered pair, smaller name first
  for (const Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(WanLinkSpec w, ParseWanLink(item, names, regions));
    if (!seen.emplace(std::min(w.a, w.b), std::max(w.a, w.b)).second) {
      return item.Error(fmt::format("duplicate link between {} and {}", Quoted(w.a), Quoted(w.b)));
    }
    links.push_back(std::move(w));
  }
  return links;
}

// ---- workload ----

// `checkpoint:` as a map, or shorthand: `auto`, `true`/`false`, or an interval.
StatusOr<CheckpointPolicy> ParseCheckpoint(const Cursor& c) {
  CheckpointPolicy p;
  if (c.IsScalar()) {
    const std::string& text = c.node().Scalar();
    if (SameName(text, "auto")) {
      p.daly = true;
      return p;
    }
    if (StatusOr<bool> b = yaml_util::ReadBool(c); b.ok()) {
      p.enabled = *b;
      return p;
    }
    StatusOr<Duration> d = yaml_util::ReadDuration(c, kPositiveDuration);
    if (!d.ok()) {
      return c.Error(fmt::format("expected auto, true, false or an interval like 30m, got {}", Quoted(text)));
    }
    p.interval = *d;
    return p;
  }
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kCheckpointKeys));
  SG_ASSIGN_OR_RETURN(p.enabled, f.Bool("enabled", p.enabled));
  SG_ASSIGN_OR_RETURN(p.daly, f.Bool("daly", p.daly));
  SG_ASSIGN_OR_RETURN(p.async, f.Bool("async", p.async));
  SG_ASSIGN_OR_RETURN(p.write, f.Dur("write", p.write, kNonNegativeDuration));
  if (auto replicas = f.Get("replicas")) {  // as a job file's (docs/job-reference.md)
    SG_ASSIGN_OR_RETURN(const Fields r, replicas->Map(kReplicaKeys));
    SG_ASSIGN_OR_RETURN(p.replica_sites, r.Int("sites", 1, Range{1, kMaxReplicaSites}));
    SG_ASSIGN_OR_RETURN(p.replica_every, r.Dur("every", p.replica_every, kNonNegativeDuration));
  }
  if (auto wait = f.Get("site_wait");
      wait.has_value() && !(wait->IsScalar() && SameName(wait->node().Scalar(), "auto"))) {
    SG_ASSIGN_OR_RETURN(p.site_wait, yaml_util::ReadDuration(*wait, kNonNegativeDuration));
  }
  if (auto interval = f.Get("interval")) {
    if (interval->IsScalar() && SameName(interval->node().Scalar(), "auto")) {
      if (f.Has("daly") && !p.daly) return interval->Error("'auto' contradicts daly: false");
      p.daly = true;
    } else {
      SG_ASSIGN_OR_RETURN(p.interval, yaml_util::ReadDuration(*interval, kPositiveDuration));
    }
  }
  return p;
}

StatusOr<std::vector<GeneratorSpec::SizeChoice>> ParseSizes(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c.Items());
  if (items.empty()) return c.Error("must list at least one size");
  std::vector<GeneratorSpec::SizeChoice> sizes;
  for (const Cursor& item : items) {
    GeneratorSpec::SizeChoice choice{1, 1.0};
    if (item.IsScalar()) {  // shorthand: `sizes: [8, 64]`, equal weights
      SG_ASSIGN_OR_RETURN(const int64_t n, yaml_util::ReadInt(item, Range{1, kMaxCount}));
      choice.accelerators = static_cast<int>(n);
    } else {
      SG_ASSIGN_OR_RETURN(const Fields f, item.Map(kSizeKeys));
      if (auto share = f.Get("share")) {  // a share of one device, packed with others
        if (f.Has("accelerators")) return share->Error("give accelerators or a share of one device, not both");
        SG_ASSIGN_OR_RETURN(const double x, yaml_util::ReadNumber(*share, Range{0.001, 0.999}));
        choice.share_milli = static_cast<int>(std::lround(x * 1000));
      } else {
        SG_ASSIGN_OR_RETURN(const Cursor acc, f.Require("accelerators"));
        SG_ASSIGN_OR_RETURN(const int64_t n, yaml_util::ReadInt(acc, Range{1, kMaxCount}));
        choice.accelerators = static_cast<int>(n);
      }
      SG_ASSIGN_OR_RETURN(choice.weight, f.Number("weight", 1.0, Range{0, 1e12, true}));
    }
    sizes.push_back(choice);
  }
  return sizes;
}

// Arrival window, sizes and lengths of a generator.
Status ParseGeneratorShape(const Fields& f, GeneratorSpec* g) {
  SG_ASSIGN_OR_RETURN(g->count, f.Int64("count", g->count, Range{0, kMaxCount}));
  SG_ASSIGN_OR_RETURN(const Duration start, f.Dur("start", Duration::Zero(), kNonNegativeDuration));
  g->start = AtOffset(start);
  g->end = Time::Never();
  if (auto end = f.Get("end")) {
    SG_ASSIGN_OR_RETURN(const Duration e, yaml_util::ReadDuration(*end, kNonNegativeDuration));
    if (e <= start) return end->Error("must be after start");
    g->end = AtOffset(e);
  }
  if (auto sizes = f.Get("sizes")) {
    SG_ASSIGN_OR_RETURN(g->sizes, ParseSizes(*sizes));
    const bool shares = std::any_of(g->sizes.begin(), g->sizes.end(), [](const auto& s) { return s.share_milli > 0; });
    if (shares && g->kind == JobKind::kTraining) {
      return sizes->Error("a share of one device is for batch, fine-tune and inference work, not training");
    }
  }
  SG_ASSIGN_OR_RETURN(g->duration_median, f.Dur("duration_median", g->duration_median, kPositiveDuration));
  SG_ASSIGN_OR_RETURN(g->duration_sigma, f.Number("duration_sigma", g->duration_sigma, Range{0, 10}));
  SG_ASSIGN_OR_RETURN(g->params_min, f.Count("params_min", g->params_min, Range{0, 1e16, true}));
  SG_ASSIGN_OR_RETURN(g->params_max, f.Count("params_max", g->params_max, Range{0, 1e16, true}));
  if (g->params_max < g->params_min) {
    const Cursor at = f.Has("params_max") ? *f.Get("params_max") : *f.Get("params_min");
    return at.Error(fmt::format("params_max ({:g}) is below params_min ({:g})", g->params_max, g->params_min));
  }
  SG_ASSIGN_OR_RETURN(g->tokens_per_param, f.Number("tokens_per_param", g->tokens_per_param, Range{0, 1e6, true}));
  SG_ASSIGN_OR_RETURN(g->mfu, f.Number("mfu", g->mfu, kMfu));
  return absl::OkStatus();
}

// `near`: names of sites or regions (`places`), checked where they stand.
StatusOr<std::vector<std::string>> ParseNear(const Fields& f, std::span<const std::string_view> places) {
  std::vector<std::string> out;
  auto c = f.Get("near");
  if (!c) return out;
  SG_ASSIGN_OR_RETURN(out, yaml_util::ReadStringList(*c));
  for (const std::string& name : out) {
    if (std::find(places.begin(), places.end(), name) == places.end()) {
      return c->Error(yaml_util::UnknownName("site or region", name, places));
    }
  }
  return out;
}

StatusOr<GeneratorSpec> ParseGenerator(const Cursor& c, size_t index, std::span<const std::string_view> places) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kGeneratorKeys));
  GeneratorSpec g;
  SG_ASSIGN_OR_RETURN(g.name, f.String("name", fmt::format("gen-{}", index)));
  SG_ASSIGN_OR_RETURN(g.kind, f.Enum<JobKind>("kind", g.kind, kJobKinds, "job kind"));
  SG_RETURN_IF_ERROR(ParseGeneratorShape(f, &g));
  SG_ASSIGN_OR_RETURN(g.accelerators, f.AcceleratorList("accelerators", g.accelerators));
  SG_ASSIGN_OR_RETURN(g.jurisdictions, f.StringList("jurisdictions", g.jurisdictions));
  SG_ASSIGN_OR_RETURN(g.near, ParseNear(f, places));
  SG_ASSIGN_OR_RETURN(g.max_rtt, f.Dur("max_rtt", g.max_rtt, kNonNegativeDuration));
  if (g.max_rtt > Duration::Zero() && g.near.empty())
    return f.Get("max_rtt")->Error("needs `near`: a round trip from where?");
  SG_ASSIGN_OR_RETURN(g.tenants, f.Int("tenants", g.tenants, Range{1, 65534}));
  SG_ASSIGN_OR_RETURN(g.priority, f.Int("priority", g.priority, Range{-1e9, 1e9}));
  if (auto cp = f.Get("checkpoint")) {
    SG_ASSIGN_OR_RETURN(g.checkpoint, ParseCheckpoint(*cp));
  }
  SG_ASSIGN_OR_RETURN(g.deferrable_fraction, f.Number("deferrable_fraction", g.deferrable_fraction, kFraction));
  SG_ASSIGN_OR_RETURN(g.deadline_slack, f.Dur("deadline_slack", g.deadline_slack, kNonNegativeDuration));
  return g;
}

StatusOr<TraceSpec> ParseTrace(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kTraceKeys));
  TraceSpec t;
  SG_ASSIGN_OR_RETURN(const Cursor format, f.Require("format"));
  SG_ASSIGN_OR_RETURN(t.format, yaml_util::ReadEnum<TraceFormat>(format, kTraceFormats, "trace format"));
  SG_ASSIGN_OR_RETURN(const Cursor path, f.Require("path"));
  SG_ASSIGN_OR_RETURN(t.path, yaml_util::ReadString(path));
  if (t.path.empty()) return path.Error("must not be empty");
  if (auto table = f.Get("job_table")) {
    if (t.format != TraceFormat::kAlibabaPai) return table->Error("only an alibaba_pai trace has a job table");
    SG_ASSIGN_OR_RETURN(t.job_table, yaml_util::ReadString(*table));
    if (t.job_table.empty()) return table->Error("must not be empty");
  }
  SG_ASSIGN_OR_RETURN(t.time_scale, f.Number("time_scale", t.time_scale, Range{0, 1e6, true}));
  SG_ASSIGN_OR_RETURN(t.limit, f.Int64("limit", t.limit, Range{0, 1e12}));
  SG_ASSIGN_OR_RETURN(t.accelerators, f.AcceleratorList("accelerators", t.accelerators));
  return t;
}

StatusOr<TrainingSpec> ParseTraining(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kTrainingKeys));
  TrainingSpec t;
  SG_ASSIGN_OR_RETURN(t.params, f.Count("params", t.params, Range{0, 1e16, true}));
  SG_ASSIGN_OR_RETURN(t.tokens, f.Count("tokens", t.tokens, Range{0, 1e18, true}));
  SG_ASSIGN_OR_RETURN(t.tokens_per_step, f.Count("tokens_per_step", t.tokens_per_step, Range{0, 1e12, true}));
  SG_ASSIGN_OR_RETURN(t.mfu, f.Number("mfu", t.mfu, kMfu));
  if (auto bytes = f.Get("state_bytes_per_param")) {
    SG_ASSIGN_OR_RETURN(t.state_bytes_per_param, yaml_util::ReadBytes(*bytes, Range{0, 1e4, true}));
  }
  SG_ASSIGN_OR_RETURN(t.tensor_parallel, f.Int("tensor_parallel", t.tensor_parallel, Range{1, 1e6}));
  SG_ASSIGN_OR_RETURN(t.pipeline_parallel, f.Int("pipeline_parallel", t.pipeline_parallel, Range{1, 1e6}));
  return t;
}

// A training job's size is its model and data; a replica is TP x PP devices.
Status CheckTrainingJob(const Fields& f, const JobSpec& j) {
  if (!f.Has("training")) return f.Missing("training");
  SG_ASSIGN_OR_RETURN(const Fields t, f.Get("training")->Map(kTrainingKeys));
  if (!t.Has("params")) return t.Missing("params");
  if (!t.Has("tokens")) return t.Missing("tokens");
  const int64_t replica = int64_t{j.training.tensor_parallel} * j.training.pipeline_parallel;
  if (j.accelerator_count % replica != 0) {
    const Cursor at = f.Has("count")               ? *f.Get("count")
                      : f.Has("accelerator_count") ? *f.Get("accelerator_count")
                                                   : f.map();
    return at.Error(
        fmt::format("{} accelerators is not a multiple of tensor_parallel x "
                    "pipeline_parallel = {}",
                    j.accelerator_count, replica));
  }
  return absl::OkStatus();
}

// Who, what and how many: the identity and size of an explicit job.
Status ParseJobHeader(const Fields& f, size_t index, JobSpec* j) {
  SG_ASSIGN_OR_RETURN(j->name, f.String("name", fmt::format("job-{}", index)));
  SG_ASSIGN_OR_RETURN(j->tenant, f.String("tenant", j->tenant));
  SG_ASSIGN_OR_RETURN(j->kind, f.Enum<JobKind>("kind", j->kind, kJobKinds, "job kind"));
  SG_ASSIGN_OR_RETURN(j->accelerators, f.AcceleratorList("accelerators", j->accelerators));
  if (f.Has("count") && f.Has("accelerator_count")) {
    return f.Get("accelerator_count")->Error("give either count or accelerator_count, not both");
  }
  const std::string_view count_key = f.Has("count") ? "count" : "accelerator_count";
  SG_ASSIGN_OR_RETURN(j->accelerator_count, f.Int(count_key, j->accelerator_count, Range{1, kMaxCount}));
  SG_ASSIGN_OR_RETURN(j->priority, f.Int("priority", j->priority, Range{-1e9, 1e9}));
  return absl::OkStatus();
}

StatusOr<JobSpec> ParseJob(const Cursor& c, size_t index, std::span<const std::string_view> places) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kJobKeys));
  JobSpec j;
  SG_RETURN_IF_ERROR(ParseJobHeader(f, index, &j));
  SG_ASSIGN_OR_RETURN(const Duration submit, f.Dur("submit", Duration::Zero(), kNonNegativeDuration));
  j.submit = AtOffset(submit);
  SG_ASSIGN_OR_RETURN(j.duration, f.Dur("duration", j.duration, kPositiveDuration));
  SG_ASSIGN_OR_RETURN(j.estimate, f.Dur("estimate", j.estimate, kNonNegativeDuration));
  SG_ASSIGN_OR_RETURN(j.per_node, f.Int("per_node", j.per_node, Range{0, kMaxAccelsPerNode}));
  if (j.per_node > 0 && j.accelerator_count % j.per_node != 0) {
    return f.Get("per_node")
        ->Error(fmt::format("{} accelerators is not a whole number of nodes of {}", j.accelerator_count, j.per_node));
  }
  if (auto share = f.Get("share")) {  // a share of one device, as a job file's H100:0.25
    SG_ASSIGN_OR_RETURN(const double x, yaml_util::ReadNumber(*share, Range{0.001, 0.999}));
    if (j.accelerator_count != 1 || j.per_node > 1) return share->Error("a share of one device needs count 1");
    if (j.kind == JobKind::kTraining) return share->Error("a share of one device is not for training");
    j.share_milli = static_cast<int>(std::lround(x * 1000));
  }
  if (auto spread = f.Get("spread")) {  // as a job file's placement.spread
    SG_ASSIGN_OR_RETURN(const std::string what, yaml_util::ReadString(*spread));
    if (what != "sites") return spread->Error("expected sites (one node per site)");
    if (j.share_milli > 0) return spread->Error("a share of one device runs on one node, not one per site");
    j.spread_sites = true;
  }
  SG_ASSIGN_OR_RETURN(j.regions, f.StringList("regions", j.regions));
  if (auto training = f.Get("training")) {
    SG_ASSIGN_OR_RETURN(j.training, ParseTraining(*training));
  }
  if (j.kind == JobKind::kTraining) SG_RETURN_IF_ERROR(CheckTrainingJob(f, j));
  if (auto cp = f.Get("checkpoint")) {
    SG_ASSIGN_OR_RETURN(j.checkpoint, ParseCheckpoint(*cp));
  }
  SG_ASSIGN_OR_RETURN(j.jurisdictions, f.StringList("jurisdictions", j.jurisdictions));
  if (auto inputs = f.Get("inputs")) {
    SG_ASSIGN_OR_RETURN(j.inputs, ParseDataInputs(*inputs, /*names=*/false));
    // Holders are sites of the scenario (places also holds regions: a
    // typo that names neither fails here, not silently in the run).
    for (const DataInput& in : j.inputs) {
      for (const std::string& site : in.sites) {
        if (std::find(places.begin(), places.end(), site) == places.end()) {
          return inputs->Error(yaml_util::UnknownName("site", site, places));
        }
      }
    }
  }
  SG_ASSIGN_OR_RETURN(const std::vector<std::string> near, ParseNear(f, places));
  if (near.size() > 1) return f.Get("near")->Error("a job is near one place; give one site or region");
  if (!near.empty()) j.near = near[0];
  SG_ASSIGN_OR_RETURN(j.max_rtt, f.Dur("max_rtt", j.max_rtt, kNonNegativeDuration));
  if (j.max_rtt > Duration::Zero() && j.near.empty())
    return f.Get("max_rtt")->Error("needs `near`: a round trip from where?");
  SG_ASSIGN_OR_RETURN(j.deferrable, f.Bool("deferrable", j.deferrable));
  if (auto deadline = f.Get("deadline")) {
    SG_ASSIGN_OR_RETURN(const Duration d, yaml_util::ReadDuration(*deadline, kNonNegativeDuration));
    if (d <= submit) return deadline->Error("must be after submit");
    j.deadline = AtOffset(d);
  }
  return j;
}

// Parses each element of the list under `key` with `parse(cursor, index)`;
// names (when `name_of` is given) must be unique.
template <typename T, typename Parse, typename NameOf>
StatusOr<std::vector<T>> ParseNamedList(const Fields& f, std::string_view key, Parse parse, NameOf name_of) {
  std::vector<T> out;
  auto c = f.Get(key);
  if (!c) return out;
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c->Items());
  std::map<std::string, int> first_line;
  for (size_t i = 0; i < items.size(); ++i) {
    SG_ASSIGN_OR_RETURN(T value, parse(items[i], i));
    const std::string name = name_of(value);
    const auto [it, fresh] = first_line.emplace(name, items[i].mark().line + 1);
    if (!name.empty() && !fresh) {
      return items[i].Error(fmt::format("duplicate name {} (first used on line {})", Quoted(name), it->second));
    }
    out.push_back(std::move(value));
  }
  return out;
}

StatusOr<WorkloadSpec> ParseWorkload(const Cursor& c, const std::vector<SiteSpec>& sites) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kWorkloadKeys));
  WorkloadSpec w;
  std::vector<std::string_view> places;  // what `near` may name: sites, then regions
  for (const SiteSpec& site : sites) places.push_back(site.name);
  for (const SiteSpec& site : sites) {
    if (!site.region.empty() && std::find(places.begin(), places.end(), site.region) == places.end()) {
      places.push_back(site.region);
    }
  }
  auto name = [](const auto& v) { return v.name; };
  SG_ASSIGN_OR_RETURN(w.generators, ParseNamedList<GeneratorSpec>(
                                        f, "generators",
                                        [&](const Cursor& g, size_t i) { return ParseGenerator(g, i, places); }, name));
  SG_ASSIGN_OR_RETURN(w.traces, ParseNamedList<TraceSpec>(
                                    f, "traces", [](const Cursor& t, size_t) { return ParseTrace(t); },
                                    [](const TraceSpec&) { return std::string(); }));
  SG_ASSIGN_OR_RETURN(w.jobs, ParseNamedList<JobSpec>(
                                  f, "jobs", [&](const Cursor& j, size_t i) { return ParseJob(j, i, places); }, name));
  return w;
}

// ---- failures ----

StatusOr<FailureComponent> ParseComponent(const Cursor& c, size_t index) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kComponentKeys));
  FailureComponent comp;
  SG_ASSIGN_OR_RETURN(comp.name, f.String("name", fmt::format("component-{}", index)));
  SG_ASSIGN_OR_RETURN(comp.scope, f.Enum<FailureScope>("scope", comp.scope, kScopes, "failure scope"));
  SG_ASSIGN_OR_RETURN(const Cursor rate, f.Require("rate_per_year"));
  SG_ASSIGN_OR_RETURN(comp.rate_per_year, yaml_util::ReadNumber(rate, Range{0, 1e6}));
  SG_ASSIGN_OR_RETURN(comp.repair, f.Dur("repair", comp.repair, kNonNegativeDuration));
  return comp;
}

StatusOr<FailureSpec> ParseFailures(const Cursor& c, const std::vector<SiteSpec>& sites) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kFailureKeys));
  FailureSpec s;
  SG_ASSIGN_OR_RETURN(s.enabled, f.Bool("enabled", s.enabled));
  if (auto preset = f.Get("preset")) {
    SG_ASSIGN_OR_RETURN(const std::string name, yaml_util::ReadString(*preset));
    if (SameName(name, "llama3")) {
      s.preset = "llama3";
    } else if (!SameName(name, "none")) {
      return preset->Error(yaml_util::UnknownName("failure preset", name, kPresets));
    }
  }
  SG_ASSIGN_OR_RETURN(s.components,
                      ParseNamedList<FailureComponent>(f, "components", ParseComponent,
                                                       [](const FailureComponent& fc) { return fc.name; }));
  if (!s.preset.empty() && !s.components.empty()) {
    return f.Get("components")
        ->Error(fmt::format("cannot be combined with preset {}; list every component instead", Quoted(s.preset)));
  }
  SG_ASSIGN_OR_RETURN(s.rate_scale, f.Number("rate_scale", s.rate_scale, Range{0, 1e6}));
  SG_ASSIGN_OR_RETURN(s.restart, f.Dur("restart", s.restart, kNonNegativeDuration));
  SG_ASSIGN_OR_RETURN(s.gang_repair, f.Bool("gang_repair", s.gang_repair));
  if (f.Has("repair_restart")) {
    SG_ASSIGN_OR_RETURN(s.repair_restart, f.Dur("repair_restart", s.repair_restart, kNonNegativeDuration));
  }
  if (auto scripted = f.Get("scripted")) {
    SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, scripted->Items());
    for (const Cursor& item : items) {
      SG_ASSIGN_OR_RETURN(const Fields e, item.Map(kScriptedKeys));
      FailureSpec::Scripted x;
      SG_ASSIGN_OR_RETURN(const Cursor at, e.Require("at"));
      SG_ASSIGN_OR_RETURN(x.at, yaml_util::ReadDuration(at, kNonNegativeDuration));
      SG_ASSIGN_OR_RETURN(const Cursor site, e.Require("site"));
      SG_ASSIGN_OR_RETURN(x.site, yaml_util::ReadString(site));
      SG_ASSIGN_OR_RETURN(const int64_t nodes, SiteNodes(site, sites, x.site));
      if (auto node = e.Get("node"); node.has_value() && node->IsScalar() && node->node().Scalar() == "all") {
        x.node = FailureSpec::Scripted::kWholeSite;
      } else {
        SG_ASSIGN_OR_RETURN(x.node, e.Int("node", x.node, Range{0, 1e9}));
        if (e.Has("node")) SG_RETURN_IF_ERROR(CheckNodeIndex(*e.Get("node"), x.site, x.node, nodes));
      }
      SG_ASSIGN_OR_RETURN(x.repair, e.Dur("repair", x.repair, kNonNegativeDuration));
      s.scripted.push_back(std::move(x));
    }
  }
  return s;
}

StatusOr<SchedulerSpec> ParseScheduler(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kSchedulerKeys));
  SchedulerSpec s;
  if (auto weights = f.Get("weights")) {
    SG_ASSIGN_OR_RETURN(const Fields w, weights->Map(kWeightKeys));
    SG_ASSIGN_OR_RETURN(s.weight_time, w.Number("time", s.weight_time, Range{0, 1e6}));
    SG_ASSIGN_OR_RETURN(s.weight_carbon, w.Number("carbon", s.weight_carbon, Range{0, 1e6}));
    SG_ASSIGN_OR_RETURN(s.weight_cost, w.Number("cost", s.weight_cost, Range{0, 1e6}));
    SG_ASSIGN_OR_RETURN(s.weight_latency, w.Number("latency", s.weight_latency, Range{0, 1e6}));
    SG_ASSIGN_OR_RETURN(s.weight_queue, w.Number("queue", s.weight_queue, Range{0, 1e6}));
    if (s.weight_time + s.weight_carbon + s.weight_cost + s.weight_latency + s.weight_queue <= 0) {
      return weights->Error("at least one weight must be positive");
    }
  }
  SG_ASSIGN_OR_RETURN(s.carbon_forecast, f.Dur("carbon_forecast", s.carbon_forecast, kNonNegativeDuration));
  if (std::optional<Cursor> m = f.Get("forecast_model")) {
    SG_ASSIGN_OR_RETURN(s.forecast_model, ParseForecastModel(*m));
  }
  SG_ASSIGN_OR_RETURN(s.power_cap, f.Bool("power_cap", s.power_cap));
  SG_ASSIGN_OR_RETURN(s.backfill, f.Bool("backfill", s.backfill));
  SG_ASSIGN_OR_RETURN(s.backfill_depth, f.Int("backfill_depth", s.backfill_depth, Range{0, 1e7}));
  SG_ASSIGN_OR_RETURN(s.backfill_interval, f.Dur("backfill_interval", s.backfill_interval, kNonNegativeDuration));
  SG_ASSIGN_OR_RETURN(s.queue_depth, f.Int("queue_depth", s.queue_depth, Range{0, 1e7}));
  SG_ASSIGN_OR_RETURN(s.topology, f.Bool("topology", s.topology));
  SG_ASSIGN_OR_RETURN(s.bounded_search, f.Bool("bounded_search", s.bounded_search));
  SG_ASSIGN_OR_RETURN(s.defer, f.Bool("defer", s.defer));
  SG_ASSIGN_OR_RETURN(s.defer_threshold, f.Number("defer_threshold", s.defer_threshold, Range{0, 100}));
  SG_ASSIGN_OR_RETURN(s.defer_margin, f.Number("defer_margin", s.defer_margin, Range{0, 100}));
  SG_ASSIGN_OR_RETURN(s.wait_budget, f.Number("wait_budget", s.wait_budget, Range{0, 100}));
  SG_ASSIGN_OR_RETURN(s.wait_cap, f.Dur("wait_cap", s.wait_cap, kNonNegativeDuration));
  SG_ASSIGN_OR_RETURN(s.resume_wait_budget, f.Number("resume_wait_budget", s.resume_wait_budget, Range{0, 100}));
  SG_ASSIGN_OR_RETURN(s.latency_scale, f.Dur("latency_scale", s.latency_scale, kPositiveDuration));
  SG_ASSIGN_OR_RETURN(s.fair_share, f.Bool("fair_share", s.fair_share));
  if (auto tenants = f.Get("tenants")) {
    SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, tenants->Items());
    for (const Cursor& item : items) {
      SG_ASSIGN_OR_RETURN(const Fields t, item.Map(kTenantWeightKeys));
      SchedulerSpec::TenantWeight w;
      SG_ASSIGN_OR_RETURN(const Cursor name, t.Require("name"));
      SG_ASSIGN_OR_RETURN(w.tenant, yaml_util::ReadString(name));
      SG_ASSIGN_OR_RETURN(w.weight, t.Number("weight", w.weight, Range{1e-6, 1e6}));
      for (const auto& seen : s.tenants) {
        if (seen.tenant == w.tenant) return name.Error("tenant '" + w.tenant + "' is listed twice");
      }
      s.tenants.push_back(std::move(w));
    }
  }
  if (auto ps = f.Get("power_save")) {
    SG_ASSIGN_OR_RETURN(const Fields p, ps->Map(kPowerSaveKeys));
    auto& save = s.power_save;
    save.enabled = true;  // giving the block turns it on unless it says otherwise
    SG_ASSIGN_OR_RETURN(save.enabled, p.Bool("enabled", save.enabled));
    SG_ASSIGN_OR_RETURN(save.idle_after, p.Dur("idle_after", save.idle_after, kBoundedDuration));
    SG_ASSIGN_OR_RETURN(save.boot, p.Dur("boot", save.boot, kBoundedDuration));
    SG_ASSIGN_OR_RETURN(save.warm, p.Number("warm", save.warm, kFraction));
  }
  if (auto cc = f.Get("carbon_cap")) {
    SG_ASSIGN_OR_RETURN(const Fields p, cc->Map(kCarbonCapKeys));
    auto& cap = s.carbon_cap;
    cap.enabled = true;  // as for power_save: giving the block turns it on
    SG_ASSIGN_OR_RETURN(cap.enabled, p.Bool("enabled", cap.enabled));
    SG_ASSIGN_OR_RETURN(cap.above_g_per_kwh, p.Number("above", cap.above_g_per_kwh, Range{0, 1e5}));
    // model/power_cap.h: measured caps sit at 60-70% of TDP; below half the
    // fit is not trusted.
    SG_ASSIGN_OR_RETURN(cap.tdp_fraction, p.Number("tdp_fraction", cap.tdp_fraction, Range{0.5, 1}));
  }
  SG_ASSIGN_OR_RETURN(s.preemption, f.Bool("preemption", s.preemption));
  SG_ASSIGN_OR_RETURN(s.preempt_after, f.Dur("preempt_after", s.preempt_after, kBoundedDuration));
  SG_ASSIGN_OR_RETURN(s.preempt_warning, f.Dur("preempt_warning", s.preempt_warning, kBoundedDuration));
  return s;
}

// ---- what runs and drains from the start (an exported forecast) ----

// "site:index": node `index` of `site` (0-based over its pools in order).
StatusOr<std::pair<std::string, int>> ParseNodeRef(const Cursor& c, const std::vector<SiteSpec>& sites) {
  SG_ASSIGN_OR_RETURN(const std::string text, yaml_util::ReadString(c));
  const size_t colon = text.rfind(':');
  int index = -1;
  if (colon != std::string::npos && colon + 1 < text.size() && colon + 10 > text.size()) {
    index = 0;
    for (char ch : text.substr(colon + 1)) index = ch >= '0' && ch <= '9' && index >= 0 ? index * 10 + (ch - '0') : -1;
  }
  if (index < 0) return c.Error(fmt::format("expected SITE:INDEX such as a:0, got {}", Quoted(text)));
  const std::string site = text.substr(0, colon);
  SG_ASSIGN_OR_RETURN(const int64_t nodes, SiteNodes(c, sites, site));
  SG_RETURN_IF_ERROR(CheckNodeIndex(c, site, index, nodes));
  return std::make_pair(site, index);
}

Status ParseStarted(const Fields& f, ScenarioSpec* s) {
  std::set<std::string> jobs;
  for (const JobSpec& j : s->workload.jobs) jobs.insert(j.name);
  if (auto running = f.Get("running")) {
    SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, running->Items());
    std::set<std::string> seen;
    for (const Cursor& item : items) {
      SG_ASSIGN_OR_RETURN(const Fields r, item.Map(kRunningKeys));
      RunningSpec x;
      SG_ASSIGN_OR_RETURN(const Cursor job, r.Require("job"));
      SG_ASSIGN_OR_RETURN(x.job, yaml_util::ReadString(job));
      if (!jobs.count(x.job)) return job.Error(fmt::format("no job named {} in workload.jobs", Quoted(x.job)));
      if (!seen.insert(x.job).second) return job.Error(fmt::format("job {} is listed twice", Quoted(x.job)));
      SG_ASSIGN_OR_RETURN(const Cursor nodes, r.Require("nodes"));
      SG_ASSIGN_OR_RETURN(const std::vector<Cursor> refs, nodes.Items());
      if (refs.empty()) return nodes.Error("a running job holds at least one node");
      for (const Cursor& n : refs) {
        SG_ASSIGN_OR_RETURN(auto ref, ParseNodeRef(n, s->sites));
        x.nodes.push_back(std::move(ref));
      }
      SG_ASSIGN_OR_RETURN(const Cursor per_node, r.Require("per_node"));
      SG_ASSIGN_OR_RETURN(const int64_t pn, yaml_util::ReadInt(per_node, Range{1, kMaxAccelsPerNode}));
      x.per_node = static_cast<int>(pn);
      SG_ASSIGN_OR_RETURN(x.remaining, r.Number("remaining", x.remaining, Range{0, 1, true}));
      SG_ASSIGN_OR_RETURN(x.power_cap, r.Number("power_cap", x.power_cap, kFraction));
      SG_ASSIGN_OR_RETURN(x.since_checkpoint, r.Dur("since_checkpoint", x.since_checkpoint, kBoundedDuration));
      SG_ASSIGN_OR_RETURN(x.share_slot, r.Int("share_slot", x.share_slot, Range{-1, 255}));
      s->running.push_back(std::move(x));
    }
  }
  if (auto drains = f.Get("drains")) {
    SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, drains->Items());
    for (const Cursor& item : items) {
      SG_ASSIGN_OR_RETURN(const Fields d, item.Map(kDrainKeys));
      DrainSpec x;
      SG_ASSIGN_OR_RETURN(x.at, d.Dur("at", x.at, kBoundedDuration));
      SG_ASSIGN_OR_RETURN(const Cursor site, d.Require("site"));
      SG_ASSIGN_OR_RETURN(x.site, yaml_util::ReadString(site));
      SG_ASSIGN_OR_RETURN(const int64_t nodes, SiteNodes(site, s->sites, x.site));
      SG_ASSIGN_OR_RETURN(const Cursor node, d.Require("node"));
      SG_ASSIGN_OR_RETURN(const int64_t n, yaml_util::ReadInt(node, Range{0, 1e9}));
      SG_RETURN_IF_ERROR(CheckNodeIndex(node, x.site, n, nodes));
      x.node = static_cast<int>(n);
      s->drains.push_back(std::move(x));
    }
  }
  return Status();
}

// ---- the document ----

Status ParseHeader(const Fields& f, ScenarioSpec* s) {
  SG_ASSIGN_OR_RETURN(s->name, f.String("name", s->name));
  SG_ASSIGN_OR_RETURN(s->description, f.String("description", s->description));
  if (auto seed = f.Get("seed")) {
    SG_ASSIGN_OR_RETURN(s->seed, yaml_util::ReadUint64(*seed));
  }
  SG_ASSIGN_OR_RETURN(s->duration, f.Dur("duration", s->duration, kPositiveDuration));
  SG_ASSIGN_OR_RETURN(s->sample_interval, f.Dur("sample_interval", s->sample_interval, kPositiveDuration));
  SG_ASSIGN_OR_RETURN(s->policy, f.String("policy", s->policy));
  if (s->policy.empty()) return f.Get("policy")->Error("must not be empty");
  SG_ASSIGN_OR_RETURN(s->compare, f.StringList("compare", {}));
  for (const std::string& p : s->compare) {
    if (p.empty()) return f.Get("compare")->Error("a policy name must not be empty");
  }
  return absl::OkStatus();
}

StatusOr<ScenarioSpec> ParseRoot(const Cursor& root) {
  if (!root.IsMap()) {
    return root.Error(fmt::format("expected a map of scenario keys (name, sites, ...), got {}", root.Describe()));
  }
  SG_ASSIGN_OR_RETURN(const Fields f, root.Map(kTopKeys));
  ScenarioSpec s;
  SG_RETURN_IF_ERROR(ParseHeader(f, &s));
  SG_ASSIGN_OR_RETURN(s.sites, ParseSites(f));
  if (auto sets = f.Get("site_sets")) {
    SG_RETURN_IF_ERROR(ParseSiteSets(*sets, &s.sites));
  }
  SG_ASSIGN_OR_RETURN(s.wan, ParseWan(f, s.sites));
  if (auto workload = f.Get("workload")) {
    SG_ASSIGN_OR_RETURN(s.workload, ParseWorkload(*workload, s.sites));
  }
  if (auto failures = f.Get("failures")) {
    SG_ASSIGN_OR_RETURN(s.failures, ParseFailures(*failures, s.sites));
  }
  if (auto scheduler = f.Get("scheduler")) {
    SG_ASSIGN_OR_RETURN(s.scheduler, ParseScheduler(*scheduler));
  }
  SG_RETURN_IF_ERROR(ParseStarted(f, &s));
  return s;
}

}  // namespace

StatusOr<FabricSpec> ParseFabricMap(const yaml_util::Cursor& c) { return ParseFabric(c); }

StatusOr<PowerRampLimit> ParsePowerRamp(const yaml_util::Cursor& c) {
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kRampKeys));
  PowerRampLimit r;
  // A limit below 1 kW a second would stretch one GPU's start over minutes.
  SG_ASSIGN_OR_RETURN(r.mw_per_s, f.Number("mw_per_s", 0, Range{1e-3, 1e6}));
  SG_ASSIGN_OR_RETURN(r.mw_per_min, f.Number("mw_per_min", 0, Range{1e-3, 1e6}));
  if (!f.Has("mw_per_s") && !f.Has("mw_per_min")) return c.Error("give `mw_per_s`, `mw_per_min` or both");
  return r;
}

StatusOr<ForecastModel> ParseForecastModel(const yaml_util::Cursor& c) {
  return yaml_util::ReadEnum(c, std::span<const EnumName<ForecastModel>>(kForecastModels), "forecast model");
}

StatusOr<ScenarioSpec> ParseScenario(std::string_view yaml_text, const std::string& filename) {
  return yaml_util::ParseDocument<ScenarioSpec>(yaml_text, filename, "scenario", kMaxTextBytes, ParseRoot);
}

}  // namespace stargate
