#include "twin/report_json.h"

#include <cmath>
#include <span>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "twin/report_format.h"

namespace stargate::twin {
namespace {

using Json = nlohmann::ordered_json;  // keeps keys in insertion order

constexpr int kSignificantDigits = 6;

// fmt's "{}" is the shortest text that parses back to the same double, so
// after rounding it is at most 6 digits. nlohmann's own dump() uses Grisu2,
// which is not guaranteed shortest; hence the custom writer below.
std::string FormatDouble(double v) {
  if (!std::isfinite(v)) return "null";
  std::string text = fmt::format("{}", report::RoundSignificant(v, kSignificantDigits));
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string FormatString(const Json& j) {
  // `replace` turns invalid UTF-8 in a user-supplied name into U+FFFD
  // instead of throwing.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void Write(const Json& j, int depth, std::string* out) {
  const std::string pad(static_cast<size_t>(2 * (depth + 1)), ' ');
  const std::string close_pad(static_cast<size_t>(2 * depth), ' ');
  if (j.is_object() || j.is_array()) {
    const bool object = j.is_object();
    if (j.empty()) {
      *out += object ? "{}" : "[]";
      return;
    }
    *out += object ? "{\n" : "[\n";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) *out += ",\n";
      first = false;
      *out += pad;
      if (object) *out += FormatString(Json(it.key())) + ": ";
      Write(it.value(), depth + 1, out);
    }
    *out += "\n" + close_pad + (object ? "}" : "]");
  } else if (j.is_number_float()) {
    *out += FormatDouble(j.get<double>());
  } else if (j.is_number_unsigned()) {
    *out += fmt::format("{}", j.get<uint64_t>());
  } else if (j.is_number_integer()) {
    *out += fmt::format("{}", j.get<int64_t>());
  } else {
    *out += FormatString(j);  // strings, booleans, null
  }
}

Json PercentilesJson(const Percentiles& p) {
  Json j;
  j["mean"] = p.mean;
  j["p50"] = p.p50;
  j["p90"] = p.p90;
  j["p99"] = p.p99;
  return j;
}

// `bound`: the oracle bound's figures for the site, when it was solved.
Json SiteJson(const SiteSeries& s, const BoundFigures::Site* bound) {
  Json j;
  j["name"] = s.name;
  j["jurisdiction"] = s.jurisdiction;
  j["accelerators"] = s.accelerators;
  j["power_cap_mw"] = s.power_cap_mw;
  j["peak_mw"] = s.peak_mw;
  j["largest_step_mw"] = s.largest_step_mw;
  j["largest_ramp_mw_per_min"] = s.largest_ramp_mw_per_min;
  j["energy_mwh"] = s.energy_mwh;
  j["tco2"] = s.tco2;
  j["cost_usd"] = s.cost_usd;
  j["failures"] = s.failures;
  j["mean_utilisation"] = report::MeanOf(s.utilisation, 0.0);
  j["busy_device_hours"] = s.busy_device_h;
  if (bound != nullptr) {
    j["bound"] =
        Json{{"busy_device_hours", bound->busy_device_h}, {"tco2", bound->tco2}, {"cost_usd", bound->cost_usd}};
  }
  return j;
}

Json SummaryTree(const RunResult& r) {
  const Summary& s = r.summary;
  Json j;
  j["scenario"] = s.scenario;
  j["seed"] = s.seed;
  j["policy"] = s.policy;
  j["simulated_days"] = s.simulated_days;
  j["accelerators"] = s.accelerators;
  j["nodes"] = s.nodes;
  j["jobs"] = Json{{"total", s.jobs_total},
                   {"finished", s.jobs_finished},
                   {"running", s.jobs_running},
                   {"pending", s.jobs_pending},
                   {"rejected", s.jobs_rejected}};
  j["jct_hours"] = PercentilesJson(s.jct_h);
  j["wait_hours"] = PercentilesJson(s.wait_h);
  if (s.replay.jobs > 0) {
    j["trace_replay"] = Json{{"jobs", s.replay.jobs},
                             {"recorded_wait_hours", PercentilesJson(s.replay.recorded_wait_h)},
                             {"wait_hours", PercentilesJson(s.replay.twin_wait_h)}};
  }
  j["utilisation"] = s.utilisation;
  j["goodput"] = s.goodput;
  j["useful_device_hours"] = s.useful_device_h;
  j["effective_training_time_ratio"] = s.ettr;
  j["interruptions"] = s.interruptions;
  j["gang_repairs"] = s.gang_repairs;
  j["failures"] = s.failures;
  j["energy_mwh"] = s.energy_mwh;
  j["peak_mw"] = s.peak_mw;
  j["power_swings"] = Json{{"largest_step_mw", s.largest_step_mw},
                           {"largest_step_site", s.largest_step_site},
                           {"largest_ramp_mw_per_min", s.largest_ramp_mw_per_min},
                           {"ramped_starts", s.ramped_starts},
                           {"held_falls", s.held_falls},
                           {"overdue_falls", s.overdue_falls},
                           {"ramp_wait_h", s.ramp_wait_h},
                           {"holding_mwh", s.holding_mwh}};
  j["tco2"] = s.tco2;
  j["cost_usd"] = s.cost_usd;
  for (const auto& [key, b] : {std::pair{"bound", &s.bound}, std::pair{"bound_at_run_ends", &s.bound_at_run_ends}}) {
    if (!b->computed) continue;
    // The gap is how far above the least any schedule could spend.
    auto gap = [](double run, double bound) { return bound > 0 ? run / bound - 1 : 0.0; };
    j[key] = Json{{"tco2", b->tco2},
                  {"cost_usd", b->cost_usd},
                  {"tco2_gap", gap(s.tco2, b->tco2)},
                  {"cost_gap", gap(s.cost_usd, b->cost_usd)},
                  {"fixed_tco2", b->fixed_tco2},
                  {"fixed_cost_usd", b->fixed_cost_usd},
                  {"slot_hours", b->slot_h},
                  {"proven", b->proven},
                  {"lp", Json{{"classes", b->classes}, {"rows", b->rows}, {"columns", b->columns}}}};
  }
  j["workload"] =
      Json{{"energy_mwh", s.workload_energy_mwh}, {"tco2", s.workload_tco2}, {"cost_usd", s.workload_cost_usd}};
  j["sla_misses"] = s.sla_misses;
  j["deferrals"] = s.deferrals;
  j["preemptions"] = s.preemptions;
  j["power_capped_starts"] = s.power_capped_starts;
  if (s.inputs.moves > 0) {
    j["inputs"] = Json{{"moves", s.inputs.moves}, {"tb", s.inputs.tb}, {"hours", s.inputs.hours}};
  }
  if (const CheckpointTraffic& c = s.checkpoints; c.any()) {  // checkpoints across sites
    j["checkpoints"] = Json{{"replication_tb", c.replication_tb},
                            {"restores", c.restores},
                            {"restore_tb", c.restore_tb},
                            {"staging_hours", c.staging_h},
                            {"site_losses", c.site_losses},
                            {"waited_for_site", c.waited},
                            {"waited_hours", c.waited_h},
                            {"restarted_from_replica", c.from_replica},
                            {"restarted_from_start", c.from_scratch},
                            {"redone_hours", c.redone_h}};
  }
  Json kinds;
  for (int k = 0; k < kNumJobKinds; ++k) {
    const KindSummary& ks = s.by_kind[k];
    if (ks.jobs == 0) continue;
    kinds[std::string(Name(static_cast<JobKind>(k)))] = Json{{"jobs", ks.jobs},
                                                             {"started", ks.started},
                                                             {"finished", ks.finished},
                                                             {"jct_mean_h", ks.jct_mean_h},
                                                             {"wait_mean_h", ks.wait_mean_h},
                                                             {"workload_tco2", ks.workload_tco2}};
  }
  j["by_kind"] = std::move(kinds);
  j["events"] = s.events;
  j["scheduler_passes"] = s.scheduler_passes;
  Json sites = Json::array();
  for (size_t i = 0; i < r.sites.size(); ++i) {
    const bool bounded = s.bound.computed && i < s.bound.sites.size();
    sites.push_back(SiteJson(r.sites[i], bounded ? &s.bound.sites[i] : nullptr));
  }
  j["sites"] = std::move(sites);
  return j;
}

}  // namespace

std::string SummaryJson(const RunResult& result) {
  std::string out;
  Write(SummaryTree(result), 0, &out);
  out += '\n';
  return out;
}

}  // namespace stargate::twin
