// `stargate twin run|validate SCENARIO.yaml`
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

#include "assets/embedded_files.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "core/clock.h"
#include "oracle/oracle_bound.h"
#include "runtime/direct_file.h"
#include "sched/power_ramp.h"
#include "twin/engine.h"
#include "twin/loader.h"
#include "twin/report_csv.h"
#include "twin/report_html.h"
#include "twin/report_json.h"
#include "twin/report_warnings.h"

namespace stargate::cli {
namespace {

struct RunOptions {
  std::string scenario;
  std::string out_dir = "out";
  int64_t seed = -1;
  std::string policy;
  std::vector<std::string> compare;  // overrides the scenario's `compare:`
  bool no_compare = false;
  bool quiet = false;
  bool no_jobs_csv = false;
  bool no_audit = false;
  bool no_sites_csv = false;
  bool bound = false;  // solve the oracle bound for each run
  // Every site's power ramp limit (sched/power_ramp.h), over the
  // scenario's: the same run with and without choreography.
  std::optional<double> ramp_mw_per_s, ramp_mw_per_min;
  bool no_power_ramp = false;
};

Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return absl::PermissionDeniedError(fmt::format("cannot write {}", path.string()));
  f << text;
  return f.good() ? Status() : absl::DataLossError(fmt::format("short write to {}", path.string()));
}

// The CSVs run to gigabytes (sites.csv: 4.3 GB for a year of 10,000 sites),
// so they go past the page cache (runtime/direct_file.h).
template <typename Writer>
Status WriteStream(const std::filesystem::path& path, Writer&& write) {
  SG_ASSIGN_OR_RETURN(std::unique_ptr<DirectFileBuf> buf, DirectFileBuf::Open(path));
  std::ostream f(buf.get());
  write(f);
  Status st = buf->Close();
  if (st.ok() && !f.good()) st = absl::DataLossError(fmt::format("short write to {}", path.string()));
  return st;
}

// The run's summary beside those of the same scenario under other policies.
void PrintComparison(const twin::Summary& first, std::span<const twin::report::RunDigest> others) {
  if (others.empty()) return;
  fmt::print("  compared    {:<10} {:>8} {:>9} {:>9} {:>10} {:>10} {:>12}\n", "policy", "finished", "JCT p50 h",
             "JCT p99 h", "util", "tCO2", "cost");
  std::vector<const twin::Summary*> rows{&first};
  for (const twin::report::RunDigest& r : others) rows.push_back(&r.summary);
  for (const twin::Summary* row : rows) {
    const twin::Summary& s = *row;
    fmt::print("              {:<10} {:>8} {:>9.2f} {:>9.2f} {:>9.1f}% {:>10.1f} {:>12.0f}\n", s.policy,
               s.jobs_finished, s.jct_h.p50, s.jct_h.p99, 100 * s.utilisation, s.tco2, s.cost_usd);
  }
}

// The sites where the run's tCO2 and the bound's differ most: where the
// run's gap is (the rest in summary.json, per site).
void PrintBoundBySite(const twin::RunResult& r) {
  const std::vector<size_t> furthest = twin::SitesFurthestFromBound(r, 3);
  for (size_t k = 0; k < furthest.size(); ++k) {
    const twin::SiteSeries& run = r.sites[furthest[k]];
    const twin::BoundFigures::Site& at = r.summary.bound.sites[furthest[k]];
    fmt::print("{}{}: {:.1f} tCO2 over {:.0f} busy device-hours in this run, {:.1f} over {:.0f} at the bound\n",
               k == 0 ? "  by site     " : "              ", run.name, run.tco2, run.busy_device_h, at.tco2,
               at.busy_device_h);
  }
}

void PrintSummary(const twin::RunResult& r, const std::filesystem::path& dir, double wall_s) {
  const twin::Summary& s = r.summary;
  fmt::print("scenario {} (seed {}, policy {}): {:.1f} days, {} accelerators in {} nodes\n", s.scenario, s.seed,
             s.policy, s.simulated_days, s.accelerators, s.nodes);
  fmt::print("  jobs        {} total, {} finished, {} running, {} pending, {} rejected\n", s.jobs_total,
             s.jobs_finished, s.jobs_running, s.jobs_pending, s.jobs_rejected);
  fmt::print("  JCT hours   mean {:.2f}  p50 {:.2f}  p99 {:.2f}\n", s.jct_h.mean, s.jct_h.p50, s.jct_h.p99);
  fmt::print("  wait hours  mean {:.2f}  p50 {:.2f}  p99 {:.2f}\n", s.wait_h.mean, s.wait_h.p50, s.wait_h.p99);
  fmt::print("  utilisation {:.1f}%  goodput {:.1f}%  effective training time {:.1f}%\n", 100 * s.utilisation,
             100 * s.goodput, 100 * s.ettr);
  fmt::print("  failures    {} component failures, {} job interruptions\n", s.failures, s.interruptions);
  if (s.replay.jobs > 0) {  // trace jobs: what the trace recorded beside this run
    fmt::print(
        "  trace wait  {} trace jobs: recorded mean {:.2f} p50 {:.2f} p99 {:.2f} h; here mean {:.2f} p50 {:.2f} "
        "p99 {:.2f} h\n",
        s.replay.jobs, s.replay.recorded_wait_h.mean, s.replay.recorded_wait_h.p50, s.replay.recorded_wait_h.p99,
        s.replay.twin_wait_h.mean, s.replay.twin_wait_h.p50, s.replay.twin_wait_h.p99);
  }
  if (s.inputs.moves > 0) {
    fmt::print("  input data  {} starts brought {:.1f} TB to their site first ({:.1f} h)\n", s.inputs.moves,
               s.inputs.tb, s.inputs.hours);
  }
  if (const twin::CheckpointTraffic& c = s.checkpoints; c.any()) {
    fmt::print("  checkpoints {:.1f} TB replicated over the WAN; {} restores elsewhere ({:.1f} TB, {:.2f} h staging)\n",
               c.replication_tb, c.restores, c.restore_tb, c.staging_h);
    if (c.site_losses > 0) {
      fmt::print(
          "  site loss   {} jobs lost their site: {} waited and resumed there, {} restarted from a replica, {} from "
          "their start; {:.1f} h waiting, {:.1f} h of work redone\n",
          c.site_losses, c.waited, c.from_replica, c.from_scratch, c.waited_h, c.redone_h);
    }
  }
  fmt::print("  energy      {:.1f} MWh, peak {:.1f} MW, {:.1f} tCO2, ${:.0f}\n", s.energy_mwh, s.peak_mw, s.tco2,
             s.cost_usd);
  if (s.largest_step_mw > 0) {
    fmt::print("  power swing largest step {:.1f} MW (at {}), largest change within a minute {:.1f} MW\n",
               s.largest_step_mw, s.largest_step_site, s.largest_ramp_mw_per_min);
  }
  if (s.ramped_starts > 0) {
    fmt::print("  power ramp  {} starts ramped, {:.1f} job-hours lost to ramps, {:.2f} MWh of holding load\n",
               s.ramped_starts, s.ramp_wait_h, s.holding_mwh);
    fmt::print("              {} stops held for their fall's turn, {} fell beside others (turn over {} min off)\n",
               s.held_falls, s.overdue_falls, sched::kMaxFallWait.nanos() / Duration::Minutes(1).nanos());
  }
  if (const twin::BoundFigures& b = s.bound; b.computed) {
    auto gap = [](double run, double bound) { return bound > 0 ? 100 * (run / bound - 1) : 0.0; };
    fmt::print(
        "  bound       no schedule of this work emits under {:.1f} tCO2 (this run {:+.1f}%) or costs under ${:.0f} "
        "({:+.1f}%); idle draw alone {:.1f} tCO2{}\n",
        b.tco2, gap(s.tco2, b.tco2), b.cost_usd, gap(s.cost_usd, b.cost_usd), b.fixed_tco2,
        b.proven ? " (proven by duality)" : "");
    if (const twin::BoundFigures& e = s.bound_at_run_ends; e.computed) {
      fmt::print(
          "              finishing each job no later than this run did: under {:.1f} tCO2 (this run {:+.1f}%) or "
          "${:.0f} ({:+.1f}%){}\n",
          e.tco2, gap(s.tco2, e.tco2), e.cost_usd, gap(s.cost_usd, e.cost_usd), e.proven ? " (proven)" : "");
    }
    PrintBoundBySite(r);
  }
  fmt::print("  engine      {} events, {} scheduler passes in {:.2f} s ({:.0f} events/s)\n", s.events,
             s.scheduler_passes, wall_s, wall_s > 0 ? s.events / wall_s : 0.0);
  fmt::print("  report      {}\n", (dir / "report.html").string());
}

// The chart library report.html inlines, from the copy built into the binary.
StatusOr<twin::ChartLibrary> BuiltInChartLibrary() {
  const std::optional<std::string_view> js = assets::EmbeddedFile("node_modules/uplot/dist/uPlot.iife.min.js");
  const std::optional<std::string_view> css = assets::EmbeddedFile("node_modules/uplot/dist/uPlot.min.css");
  if (!js || !css) {
    return absl::FailedPreconditionError(
        "this binary was built without uPlot (web/node_modules was missing): run scripts/install-deps.sh and rebuild");
  }
  return twin::ChartLibrary{*js, *css};
}

// Loads the scenario and runs it under `policy` ("" = its own); `name` and
// `compare` get the scenario's name and its `compare:` list. `first`: the
// scenario's first run, which says what each trace gave.
StatusOr<twin::RunResult> RunOnce(const RunOptions& o, const std::string& policy, bool audit, Clock& clock,
                                  std::string* name, std::vector<std::string>* compare, bool first = false) {
  // The seed goes in before the workload and series are drawn from it.
  StatusOr<twin::TwinInputs> inputs = twin::LoadScenario(
      o.scenario, o.seed >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(o.seed)) : std::nullopt);
  if (!inputs.ok()) return inputs.status();
  if (!policy.empty()) inputs->spec.policy = policy;
  if (o.no_power_ramp || o.ramp_mw_per_s || o.ramp_mw_per_min) {
    for (SiteSpec& site : inputs->spec.sites) {
      if (o.no_power_ramp) site.power_ramp = PowerRampLimit{};
      if (o.ramp_mw_per_s) site.power_ramp.mw_per_s = *o.ramp_mw_per_s;
      if (o.ramp_mw_per_min) site.power_ramp.mw_per_min = *o.ramp_mw_per_min;
    }
  }
  if (first && !o.quiet) {
    for (const twin::TraceRead& t : inputs->traces) {
      std::string also;
      if (t.stats.shared > 0) also += fmt::format(", {} sharing a GPU (packed as shares of one)", t.stats.shared);
      if (t.stats.joined + t.stats.unjoined > 0) {
        also += fmt::format(", {} with a submit time from the job table, {} without", t.stats.joined, t.stats.unjoined);
      }
      if (t.past_horizon > 0) also += fmt::format(", {} submitted after the run's end", t.past_horizon);
      fmt::print("trace {}: {} rows, {} jobs, {} skipped (never ran or no GPU){}\n", t.path, t.stats.rows, t.stats.jobs,
                 t.stats.skipped, also);
    }
  }
  *name = inputs->spec.name;
  *compare = inputs->spec.compare;
  ProgressBar bar(o.quiet ? std::string() : fmt::format("twin {} ({})", inputs->spec.name, inputs->spec.policy), clock);
  twin::Engine::Progress progress;
  if (!o.quiet) progress = [&bar](double f) { bar.Update(f); };
  StatusOr<twin::RunResult> result = twin::RunTwin(*inputs, progress, audit);
  if (!result.ok() || !o.bound) return result;
  // The bound is for this run's work: solved after it, on its inputs.
  const Time t0 = clock.Now();
  StatusOr<twin::BoundFigures> bound = oracle::OracleBound(*inputs, *result);
  if (!bound.ok()) {
    std::cerr << "warning: policy " << result->summary.policy << ": no oracle bound: " << bound.status().message()
              << "\n";
    return result;
  }
  result->summary.bound = *bound;
  if (!o.quiet) {
    fmt::print("oracle bound for {}: {} job classes, {} rows, {} columns, {:.0f} h slots, solved in {:.1f} s\n",
               result->summary.policy, bound->classes, bound->rows, bound->columns, bound->slot_h,
               (clock.Now() - t0).seconds());
  }
  // And at this run's own finish times: what its placement and timing
  // left, at the service it gave.
  oracle::BoundOptions at_ends;
  at_ends.by_run_ends = true;
  StatusOr<twin::BoundFigures> ends = oracle::OracleBound(*inputs, *result, at_ends);
  if (!ends.ok()) {
    std::cerr << "warning: policy " << result->summary.policy
              << ": no oracle bound at the run's finish times: " << ends.status().message() << "\n";
    return result;
  }
  result->summary.bound_at_run_ends = *ends;
  return result;
}

int RunTwinCommand(const RunOptions& o, Clock& clock) {
  const Time t0 = clock.Now();
  StatusOr<twin::ChartLibrary> library = BuiltInChartLibrary();
  if (!library.ok()) {
    std::cerr << "error: " << library.status().message() << "\n";
    return 1;
  }
  std::string name;
  std::vector<std::string> policies;
  StatusOr<twin::RunResult> result =
      RunOnce(o, o.policy, /*audit=*/!o.no_audit, clock, &name, &policies, /*first=*/true);
  if (!result.ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return 2;
  }
  // The same scenario and seed under each other policy, kept as digests.
  std::vector<twin::report::RunDigest> compared;
  std::string compare_json = "[" + twin::SummaryJson(*result);
  if (!o.compare.empty()) policies = o.compare;
  if (o.no_compare) policies.clear();
  for (const std::string& policy : policies) {
    if (policy == result->summary.policy) continue;
    std::vector<std::string> unused;
    StatusOr<twin::RunResult> other = RunOnce(o, policy, /*audit=*/false, clock, &name, &unused);
    if (!other.ok()) {
      std::cerr << "error: policy " << policy << ": " << other.status().message() << "\n";
      return 2;
    }
    compared.push_back(twin::report::DigestOf(*other));
    compare_json += ",\n" + twin::SummaryJson(*other);
  }
  const double wall_s = (clock.Now() - t0).seconds();
  const std::filesystem::path dir = std::filesystem::path(o.out_dir) / name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "error: cannot create " << dir.string() << ": " << ec.message() << "\n";
    return 1;
  }
  Status st = WriteText(dir / "summary.json", twin::SummaryJson(*result));
  if (st.ok() && !o.no_jobs_csv) {
    st = WriteStream(dir / "jobs.csv", [&](std::ostream& f) { twin::WriteJobsCsv(*result, f); });
  }
  if (st.ok() && !o.no_sites_csv) {
    st = WriteStream(dir / "sites.csv", [&](std::ostream& f) { twin::WriteSiteSeriesCsv(*result, f); });
  }
  if (st.ok() && !o.no_audit) {
    st = WriteStream(dir / "decisions.csv", [&](std::ostream& f) { twin::WriteAuditCsv(*result, f); });
  }
  if (st.ok() && !compared.empty()) st = WriteText(dir / "compare.json", compare_json + "]\n");
  if (st.ok()) st = WriteText(dir / "report.html", twin::RenderHtmlReport(*result, *library, compared));
  if (!st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  if (!o.quiet) {
    PrintSummary(*result, dir, wall_s);
    PrintComparison(result->summary, compared);
    for (const std::string& w : twin::report::RunWarnings(*result)) fmt::print("  warning     {}\n", w);
  }
  return 0;
}

}  // namespace

void AddTwinCommands(CLI::App& app, Clock& clock, int* exit_code) {
  CLI::App* twin = app.add_subcommand("twin", "Digital twin: simulate a Stargate network from a scenario");
  twin->require_subcommand(1);

  auto opts = std::make_shared<RunOptions>();
  CLI::App* run = twin->add_subcommand(
      "run", "Run a scenario and write summary.json, jobs.csv, sites.csv, decisions.csv and report.html");
  run->add_option("scenario", opts->scenario, "Scenario YAML file")->required()->check(CLI::ExistingFile);
  run->add_option("-o,--out", opts->out_dir, "Output directory (a subdirectory per scenario name)");
  run->add_option("--seed", opts->seed, "Override the scenario's seed");
  run->add_option("--policy", opts->policy, "Override the scheduler policy (fifo or stargate)");
  run->add_option("--compare", opts->compare,
                  "Also run the scenario under this policy (repeatable; overrides the scenario's compare:) and "
                  "compare them in report.html and compare.json");
  run->add_flag("--no-compare", opts->no_compare, "Run only the scenario's own policy");
  run->add_flag("-q,--quiet", opts->quiet, "No progress bar and no summary on stdout");
  run->add_flag("--no-jobs-csv", opts->no_jobs_csv, "Skip the per-job CSV (large runs)");
  run->add_flag("--no-audit", opts->no_audit, "Skip decisions.csv, the audit trail (large runs)");
  run->add_flag("--no-sites-csv", opts->no_sites_csv,
                "Skip sites.csv, every site's hourly series (networks of thousands of sites)");
  run->add_option("--power-ramp-mw-per-s", opts->ramp_mw_per_s,
                  "Every site's power may change by at most this many MW within a second (starts are staggered "
                  "and ramped, stops held)")
      ->check(CLI::Range(1e-3, 1e6));
  run->add_option("--power-ramp-mw-per-min", opts->ramp_mw_per_min,
                  "Every site's power may change by at most this many MW within a minute")
      ->check(CLI::Range(1e-3, 1e6));
  run->add_flag("--no-power-ramp", opts->no_power_ramp, "Drop every site's power ramp limit (no choreography)")
      ->excludes("--power-ramp-mw-per-s")
      ->excludes("--power-ramp-mw-per-min");
  run->add_flag("--bound", opts->bound,
                "Also solve the oracle bound: the least tCO2 and cost any schedule could spend on each run's work");
  run->callback([opts, &clock, exit_code] { *exit_code = RunTwinCommand(*opts, clock); });

  AddTwinAuditCommand(twin, exit_code);

  auto path = std::make_shared<std::string>();
  CLI::App* validate = twin->add_subcommand("validate", "Check a scenario file and print what it describes");
  validate->add_option("scenario", *path, "Scenario YAML file")->required()->check(CLI::ExistingFile);
  validate->callback([path, exit_code] {
    StatusOr<twin::TwinInputs> in = twin::LoadScenario(*path);
    if (!in.ok()) {
      std::cerr << "error: " << in.status().message() << "\n";
      *exit_code = 2;
      return;
    }
    int64_t devices = 0;
    for (const auto& s : in->spec.sites)
      for (const auto& p : s.pools) devices += static_cast<int64_t>(p.nodes) * p.accels_per_node;
    fmt::print("{}: ok: {} sites, {} accelerators, {} jobs, {} failure components, {:.1f} days\n", *path,
               in->spec.sites.size(), devices, in->jobs.size(), in->failures.size(), in->spec.duration.hours() / 24);
    *exit_code = 0;
  });
}

}  // namespace stargate::cli
