#include "twin/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "core/scenario_parser.h"
#include "core/text_fields.h"
#include "model/failure.h"
#include "model/series_gen.h"
#include "workload/generator.h"
#include "workload/series_csv.h"
#include "workload/trace_reader.h"

namespace stargate::twin {
namespace {

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

int HoursIn(Duration d) {
  return static_cast<int>((d.nanos() + Duration::Hours(1).nanos() - 1) / Duration::Hours(1).nanos());
}

StatusOr<HourlySeries> LoadSeries(const SeriesSpec& spec, const std::string& base_dir, int hours, uint64_t seed,
                                  const std::string& what) {
  if (spec.kind != SeriesSpec::Kind::kFile) return model::MakeSeries(spec, hours, seed);
  const std::string path = Resolve(base_dir, spec.file);
  SG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto series = ParseSeriesCsv(text, path, spec.column, spec.scale);
  if (!series.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", what, std::string(series.status().message())));
  }
  return series;
}

// `running` and `drains` as the engine takes them: jobs by index (after
// the sort), nodes by global id (the sites in order, each one's pools in
// order, as ClusterState numbers them).
Status PlaceStarted(const ScenarioSpec& spec, TwinInputs& in) {
  std::map<std::string, uint32_t> first;  // per site, its first global node id
  uint32_t next = 0;
  for (const SiteSpec& site : spec.sites) {
    first[site.name] = next;
    next += static_cast<uint32_t>(NodeCount(site));
  }
  std::map<std::string, uint32_t> job_index;
  for (uint32_t j = 0; j < in.jobs.size(); ++j) job_index.emplace(in.jobs[j].name, j);
  for (const RunningSpec& r : spec.running) {
    auto j = job_index.find(r.job);
    if (j == job_index.end()) return absl::InvalidArgumentError(fmt::format("running: no job {}", r.job));
    RunningAtStart run;
    run.job = j->second;
    run.per_node = r.per_node;
    run.remaining = r.remaining;
    run.power_cap = r.power_cap;
    run.since_checkpoint = r.since_checkpoint;
    run.share_slot = r.share_slot;
    for (const auto& [site, node] : r.nodes) run.nodes.push_back(first.at(site) + static_cast<uint32_t>(node));
    in.running.push_back(std::move(run));
  }
  for (const DrainSpec& d : spec.drains) {
    in.drains.push_back(NodeDrain{d.at, first.at(d.site) + static_cast<uint32_t>(d.node)});
  }
  return Status();
}

}  // namespace

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(fmt::format("{}: cannot open file", path));
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return absl::DataLossError(fmt::format("{}: read error", path));
  return ss.str();
}

StatusOr<HourlySeries> ParseSeriesCsv(const std::string& text, const std::string& filename, int column, double scale) {
  SG_ASSIGN_OR_RETURN(const auto points, ReadSeriesPoints(text, filename, column, scale));
  return model::ResampleToHourly(points);
}

StatusOr<TwinInputs> LoadScenarioText(const std::string& yaml, const std::string& filename, const std::string& base_dir,
                                      std::optional<uint64_t> seed_override) {
  TwinInputs in;
  SG_ASSIGN_OR_RETURN(in.spec, ParseScenario(yaml, filename));
  if (seed_override.has_value()) in.spec.seed = *seed_override;
  const ScenarioSpec& spec = in.spec;
  const int hours = std::max(1, HoursIn(spec.duration));
  // Sites given one deterministic spec (the same values whatever the
  // site's seed: SeriesSpec::Deterministic) share one copy of them
  // (HourValues), made or read once: a network of thousands of sites on a
  // few zones' series holds a few series, not thousands.
  struct SpecLess {
    bool operator()(const SeriesSpec* a, const SeriesSpec* b) const { return a->Fields() < b->Fields(); }
  };
  std::map<const SeriesSpec*, HourlySeries, SpecLess> shared;
  const auto load = [&](const SeriesSpec& series, uint64_t seed, size_t s,
                        const char* field) -> StatusOr<HourlySeries> {
    if (series.Deterministic()) {
      if (auto it = shared.find(&series); it != shared.end()) return it->second;
    }
    SG_ASSIGN_OR_RETURN(HourlySeries out,
                        LoadSeries(series, base_dir, hours, seed, fmt::format("sites[{}].{}", s, field)));
    if (series.Deterministic()) shared.emplace(&series, out);
    return out;
  };
  for (size_t s = 0; s < spec.sites.size(); ++s) {
    const SiteSpec& site = spec.sites[s];
    const uint64_t seed = spec.seed * 1000003ULL + s * 2;
    SG_ASSIGN_OR_RETURN(HourlySeries carbon, load(site.carbon, seed, s, "carbon"));
    SG_ASSIGN_OR_RETURN(HourlySeries price, load(site.price, seed + 1, s, "price"));
    in.carbon.push_back(std::move(carbon));
    in.price.push_back(std::move(price));
  }
  const Time horizon = Time::Epoch() + spec.duration;
  in.jobs = GenerateWorkload(spec.workload, horizon, Rng(spec.seed));
  for (size_t t = 0; t < spec.workload.traces.size(); ++t) {
    const TraceSpec& trace = spec.workload.traces[t];
    const std::string path = Resolve(base_dir, trace.path);
    SG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    TraceRead read{trace.path, {}, 0};
    std::string table_text;
    std::optional<TraceText> table;
    if (!trace.job_table.empty()) {
      const std::string table_path = Resolve(base_dir, trace.job_table);
      SG_ASSIGN_OR_RETURN(table_text, ReadFile(table_path));
      table = TraceText{table_text, table_path};
    }
    SG_ASSIGN_OR_RETURN(std::vector<JobSpec> jobs,
                        ParseTrace(text, path, trace, &read.stats, table ? &*table : nullptr));
    for (auto& j : jobs) {
      if (j.submit < horizon) {
        in.jobs.push_back(std::move(j));
      } else {
        ++read.past_horizon;
      }
    }
    in.traces.push_back(std::move(read));
  }
  SortBySubmit(in.jobs);
  SG_RETURN_IF_ERROR(PlaceStarted(spec, in));
  if (spec.failures.enabled) {
    in.failures = spec.failures.components;
    if (spec.failures.preset == "llama3") {
      for (auto& c : model::LlamaThreeComponents()) in.failures.push_back(std::move(c));
    }
  }
  return in;
}

StatusOr<TwinInputs> LoadScenario(const std::string& path, std::optional<uint64_t> seed) {
  SG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::string base = std::filesystem::path(path).parent_path().string();
  return LoadScenarioText(text, path, base.empty() ? "." : base, seed);
}

}  // namespace stargate::twin
