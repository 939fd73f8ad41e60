// `stargate plan`: capacity planning (model/capacity_plan.h) as a command,
// and with --simulate the plan checked in the twin: one site of the
// planned size, the Llama 3 failure rates, the training job on it.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "core/unit_parser.h"
#include "model/capacity_plan.h"
#include "twin/engine.h"
#include "twin/loader.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

struct PlanOptions {
  std::string params, tokens, accelerator = "H100", deadline, budget;
  int64_t accelerators = 0;
  double mfu = 0.40, pue = 1.2, usd_per_kwh = 0.0806, grid = 481;
  int per_node = 0, nodes_per_rack = 0, radix = 64;
  std::string checkpoint_write = "60s", restart = "10m";
  double accelerator_price = 0, switch_price = 50'000, facility_per_watt = 10;
  bool json_out = false, simulate = false;
  uint64_t seed = 1;
};

// "$500M", "2.5B", "1e9": dollars.
StatusOr<double> ParseUsd(std::string text) {
  if (!text.empty() && text[0] == '$') text.erase(0, 1);
  return ParseCount(text);
}

json PlanJson(const model::Plan& p) {
  return json{{"flops", p.flops},
              {"ideal_accelerator_hours", p.ideal_accelerator_hours},
              {"efficiency", p.efficiency},
              {"accelerator_hours", p.accelerator_hours},
              {"accelerators", p.accelerators},
              {"nodes", p.nodes},
              {"spare_nodes", p.spare_nodes},
              {"racks", p.racks},
              {"per_node", p.per_node},
              {"nodes_per_rack", p.nodes_per_rack},
              {"wall_days", p.wall.hours() / 24},
              {"mtbf_hours", p.mtbf_hours},
              {"checkpoint_interval_minutes", p.checkpoint_interval.seconds() / 60},
              {"checkpoint_bytes", p.checkpoint_bytes},
              {"storage_bytes_per_second", p.storage_bytes_per_s},
              {"node_kw", p.node_kw},
              {"rack_kw", p.rack_kw},
              {"it_mw", p.it_mw},
              {"facility_mw", p.facility_mw},
              {"fabric",
               {{"tiers", p.fabric_tiers},
                {"leaf", p.leaf_switches},
                {"spine", p.spine_switches},
                {"core", p.core_switches},
                {"switches", p.switches}}},
              {"capex_usd",
               {{"accelerators", p.capex_accelerators_usd},
                {"network", p.capex_network_usd},
                {"facility", p.capex_facility_usd},
                {"total", p.capex_usd}}},
              {"energy_mwh", p.energy_mwh},
              {"energy_usd", p.energy_usd},
              {"tco2", p.tco2},
              {"total_usd", p.total_usd},
              {"notes", p.notes}};
}

// 70e9 -> "70B", 15.6e12 -> "15.6T", 125e6 -> "125M": counts as model
// cards write them.
std::string Count(double n) {
  for (const auto& [scale, suffix] :
       {std::pair{1e12, "T"}, std::pair{1e9, "B"}, std::pair{1e6, "M"}, std::pair{1e3, "K"}}) {
    if (n >= scale) return fmt::format("{:.4g}{}", n / scale, suffix);
  }
  return fmt::format("{:.4g}", n);
}

// What in the inputs or the plan looks like a slip (a unit left off, a
// figure off by a thousand): said before the plan, and in its JSON.
std::vector<std::string> Implausible(const model::PlanInput& in) {
  std::vector<std::string> w;
  if (in.params < 1e8) {
    w.push_back(fmt::format("--params {}: {} parameters is tiny for a plan like this; did you mean {}B?",
                            Count(in.params), Count(in.params), Count(in.params)));
  }
  if (in.params > 1e14) w.push_back(fmt::format("--params {}: larger than any model trained so far", Count(in.params)));
  if (in.tokens < in.params) {
    w.push_back(
        fmt::format("--tokens {} is fewer than the parameters ({}): compute-optimal training uses ~20 tokens "
                    "per parameter (Hoffmann et al. 2022)",
                    Count(in.tokens), Count(in.params)));
  }
  if (in.deadline > Duration::Zero() && in.deadline < Duration::Hours(1)) {
    w.push_back(fmt::format("--deadline of {:.0f} s: a training run measured in seconds? (a unit: 54d, 12h)",
                            in.deadline.seconds()));
  }
  if (in.mfu > 0.7)
    w.push_back(fmt::format("--mfu {:.2f}: above what any published large run achieved (~0.4-0.55)", in.mfu));
  return w;
}

void PrintPlan(const model::PlanInput& in, const model::Plan& p) {
  const AcceleratorSpec& s = Spec(in.accelerator);
  fmt::print("Plan: {} parameters x {} tokens on {}, MFU {:.2f}\n\n", Count(in.params), Count(in.tokens), s.name,
             in.mfu);
  fmt::print("compute      {:.3g} FLOPs (6ND); {:.2f}M {}-hours at the MFU\n", p.flops, p.ideal_accelerator_hours / 1e6,
             s.name);
  fmt::print("reliability  job MTBF {:.2f} h (Llama 3 rates); checkpoint every {:.0f} min (Daly); efficiency {:.1f}%\n",
             p.mtbf_hours, p.checkpoint_interval.seconds() / 60, 100 * p.efficiency);
  fmt::print("             -> {:.2f}M {}-hours held, {:.1f} days of wall time\n", p.accelerator_hours / 1e6, s.name,
             p.wall.hours() / 24);
  fmt::print(
      "hardware     {} accelerators, {} nodes of {} + {} spare nodes (repairs), {} racks of {} nodes at "
      "{:.1f} kW per rack\n",
      p.accelerators, p.nodes, p.per_node, p.spare_nodes, p.racks, p.nodes_per_rack, p.rack_kw);
  fmt::print("power        {:.2f} MW IT, {:.2f} MW facility at PUE {:.2f}\n", p.it_mw, p.facility_mw, in.pue);
  fmt::print("fabric       non-blocking fat-tree, radix {}: {} tier(s), {} leaf + {} spine + {} core = {} switches\n",
             in.switch_radix, p.fabric_tiers, p.leaf_switches, p.spine_switches, p.core_switches, p.switches);
  fmt::print("storage      checkpoint {:.2f} TB; {:.1f} GB/s to write it in {:.0f} s\n", p.checkpoint_bytes / 1e12,
             p.storage_bytes_per_s / 1e9, in.checkpoint_write.seconds());
  fmt::print("capex        ${:.1f}M accelerators + ${:.1f}M network + ${:.1f}M facility = ${:.1f}M\n",
             p.capex_accelerators_usd / 1e6, p.capex_network_usd / 1e6, p.capex_facility_usd / 1e6, p.capex_usd / 1e6);
  fmt::print("energy       {:.0f} MWh, ${:.2f}M at {:.2f} c/kWh; {:.0f} tCO2 at {:.0f} g/kWh\n", p.energy_mwh,
             p.energy_usd / 1e6, 100 * in.usd_per_kwh, p.tco2, in.grid_g_per_kwh);
  fmt::print("total        ${:.1f}M (capex + energy)\n", p.total_usd / 1e6);
  for (const std::string& n : p.notes) fmt::print("note         {}\n", n);
}

// The plan as a twin scenario: one site of the planned size running the job.
// Tensor parallel within a node; pipeline stages (up to 16, as Llama 3
// 405B used) as many as divide the fleet.
std::string ScenarioYaml(const model::PlanInput& in, const model::Plan& p, uint64_t seed) {
  const double days = std::clamp(std::ceil(p.wall.hours() / 24 * 1.5) + 1, 2.0, 730.0);
  const int64_t tp =
      std::min(p.per_node, 8) > 0 && p.accelerators % std::min(p.per_node, 8) == 0 ? std::min(p.per_node, 8) : 1;
  int64_t pp = 1;
  for (int64_t c : {16, 8, 4, 2}) {
    if (in.params >= 100e9 && p.accelerators % (tp * c) == 0) {
      pp = c;
      break;
    }
  }
  return fmt::format(
      "name: plan-check\n"
      "seed: {seed}\n"
      "duration: {days}d\n"
      "policy: fifo\n"
      "sites:\n"
      "  - name: planned\n"
      "    region: r\n"
      "    jurisdiction: US\n"
      "    power_cap: {cap:.3f}MW\n"
      "    pue: {pue}\n"
      "    carbon: {{kind: constant, mean: {grid}}}\n"
      "    price: {{kind: constant, mean: {price}}}\n"
      "    storage_bandwidth: {bw:.0f}B/s\n"
      "    pools:\n"
      "      - {{accelerator: {acc}, nodes: {nodes}, accels_per_node: {per_node}, nodes_per_rack: {per_rack}}}\n"
      "    fabric: {{kind: fat_tree}}\n"
      "failures:\n"
      "  preset: llama3\n"
      "  restart: {restart}s\n"
      "workload:\n"
      "  jobs:\n"
      "    - name: planned-training\n"
      "      kind: training\n"
      "      accelerators: {acc}\n"
      "      count: {count}\n"
      "      submit: 0s\n"
      "      training: {{params: {params}, tokens: {tokens}, tokens_per_step: 16M, mfu: {mfu}, tensor_parallel: "
      "{tp}, pipeline_parallel: {pp}}}\n"
      "      checkpoint: {{enabled: true, interval: auto}}\n",
      fmt::arg("seed", seed), fmt::arg("days", days), fmt::arg("cap", p.facility_mw * 1.05 + 0.001),
      fmt::arg("pue", in.pue), fmt::arg("grid", in.grid_g_per_kwh), fmt::arg("price", in.usd_per_kwh * 1000),
      fmt::arg("bw", std::max(1.0, p.storage_bytes_per_s)),  // bytes/s
      fmt::arg("acc", Name(in.accelerator)), fmt::arg("nodes", p.nodes + p.spare_nodes),
      fmt::arg("per_node", p.per_node), fmt::arg("per_rack", p.nodes_per_rack),
      fmt::arg("restart", static_cast<int64_t>(in.restart.seconds())), fmt::arg("count", p.accelerators),
      fmt::arg("params", in.params), fmt::arg("tokens", in.tokens), fmt::arg("mfu", in.mfu), fmt::arg("tp", tp),
      fmt::arg("pp", pp));
}

int RunPlan(const PlanOptions& o) {
  model::PlanInput in;
  auto fail = [](const std::string& flag, const Status& st) {
    std::cerr << "error: " << flag << ": " << st.message() << "\n";
    return 2;
  };
  StatusOr<double> params = ParseCount(o.params);
  if (!params.ok()) return fail("--params", params.status());
  StatusOr<double> tokens = ParseCount(o.tokens);
  if (!tokens.ok()) return fail("--tokens", tokens.status());
  StatusOr<AcceleratorType> type = ParseAcceleratorType(o.accelerator);
  if (!type.ok()) return fail("--accelerator", type.status());
  in.params = *params;
  in.tokens = *tokens;
  in.accelerator = *type;
  in.mfu = o.mfu;
  if (!o.deadline.empty()) {
    StatusOr<Duration> d = ParseDuration(o.deadline);
    if (!d.ok()) return fail("--deadline", d.status());
    in.deadline = *d;
  }
  if (!o.budget.empty()) {
    StatusOr<double> b = ParseUsd(o.budget);
    if (!b.ok()) return fail("--budget", b.status());
    in.budget_usd = *b;
  }
  in.accelerators = o.accelerators;
  in.per_node = o.per_node;
  in.nodes_per_rack = o.nodes_per_rack;
  in.pue = o.pue;
  in.usd_per_kwh = o.usd_per_kwh;
  in.grid_g_per_kwh = o.grid;
  in.switch_radix = o.radix;
  StatusOr<Duration> write = ParseDuration(o.checkpoint_write);
  if (!write.ok()) return fail("--checkpoint-write", write.status());
  in.checkpoint_write = *write;
  StatusOr<Duration> restart = ParseDuration(o.restart);
  if (!restart.ok()) return fail("--restart", restart.status());
  in.restart = *restart;
  in.accelerator_price_usd = o.accelerator_price;
  in.switch_price_usd = o.switch_price;
  in.facility_usd_per_it_watt = o.facility_per_watt;
  std::vector<std::string> warnings = Implausible(in);
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
  StatusOr<model::Plan> plan = model::MakePlan(in);
  if (!plan.ok()) {
    std::cerr << "error: " << plan.status().message() << "\n";
    return 2;
  }
  json out = PlanJson(*plan);
  if (const double days = plan->wall.hours() / 24; days > 1000) {
    warnings.push_back(fmt::format("the run takes {:.0f} days ({:.1f} years){}", days, days / 365,
                                   in.budget_usd > 0 ? ": the budget buys too few accelerators for this model" : ""));
    std::cerr << "warning: " << warnings.back() << "\n";
  }
  out["warnings"] = warnings;
  if (!o.json_out) PrintPlan(in, *plan);
  std::fflush(stdout);
  if (o.simulate) {
    StatusOr<twin::TwinInputs> inputs = twin::LoadScenarioText(ScenarioYaml(in, *plan, o.seed), "plan-check.yaml", ".");
    if (!inputs.ok()) {
      std::cerr << "error: the plan's scenario: " << inputs.status().message() << "\n";
      return 1;
    }
    StatusOr<twin::RunResult> r = twin::RunTwin(*inputs, {}, /*audit=*/false);
    if (!r.ok()) {
      std::cerr << "error: twin: " << r.status().message() << "\n";
      return 1;
    }
    const twin::Summary& s = r->summary;
    const bool done = s.jobs_finished == 1;
    const double days = s.jct_h.mean / 24;
    json sim = {{"finished", done},
                {"wall_days", done ? json(days) : json(nullptr)},
                {"interruptions", s.interruptions},
                {"effective_training_time_ratio", s.ettr},
                {"energy_mwh", s.energy_mwh},
                {"tco2", s.tco2},
                {"cost_usd", s.cost_usd},
                {"seed", o.seed}};
    out["simulated"] = sim;
    if (!o.json_out) {
      fmt::print("\nsimulated    (twin, seed {}, Llama 3 failure rates, Daly checkpoints)\n", o.seed);
      if (done) {
        fmt::print("             finished in {:.1f} days (plan {:.1f}): {:+.1f}%\n", days, plan->wall.hours() / 24,
                   100 * (days / (plan->wall.hours() / 24) - 1));
      } else {
        fmt::print("             NOT finished within {:.0f} days\n", s.simulated_days);
      }
      fmt::print(
          "             {} interruptions; effective training time {:.1f}%; facility energy {:.0f} MWh, "
          "{:.0f} tCO2\n",
          s.interruptions, 100 * s.ettr, s.energy_mwh, s.tco2);
    }
  }
  if (o.json_out) fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace

void AddPlanCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Capacity plan for training a model: accelerators, racks, MW, fabric, storage, cost, energy, tCO2");
  cmd->add_option("--params", o->params, "Model parameters (405B, 70e9, ...)")->required();
  cmd->add_option("--tokens", o->tokens, "Training tokens (15.6T, ...)")->required();
  cmd->add_option("--accelerator", o->accelerator, "Accelerator type (H100, H200, B200, GB200, A100, MI300X)")
      ->capture_default_str();
  auto* deadline = cmd->add_option("--deadline", o->deadline, "Finish within this wall time (54d, 90d)");
  auto* budget = cmd->add_option("--budget", o->budget, "Spend at most this on capex + energy ($500M, 2B)");
  auto* count = cmd->add_option("--accelerators", o->accelerators, "Use this many accelerators")
                    ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  deadline->excludes(budget)->excludes(count);
  budget->excludes(count);
  cmd->add_option("--mfu", o->mfu, "Achieved model FLOPs utilisation (Llama 3 405B: 0.38-0.43)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--pue", o->pue, "Facility PUE")->capture_default_str()->check(CLI::Range(1.0, 3.0));
  cmd->add_option("--usd-per-kwh", o->usd_per_kwh, "Electricity price (US industrial 2023: 0.0806)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--grid-g-per-kwh", o->grid, "Grid carbon intensity (world 2023: 481)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 2000.0));
  cmd->add_option("--per-node", o->per_node, "Accelerators per node (default: the catalog's chassis)")
      ->check(CLI::Range(1, 72));
  cmd->add_option("--nodes-per-rack", o->nodes_per_rack, "Nodes per rack (default 4; GB200: one NVL72)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--switch-radix", o->radix, "Ports per fabric switch")->capture_default_str();
  cmd->add_option("--checkpoint-write", o->checkpoint_write, "Target time to write one checkpoint")
      ->capture_default_str();
  cmd->add_option("--restart", o->restart, "Time to restart after an interruption")->capture_default_str();
  cmd->add_option("--accelerator-price", o->accelerator_price,
                  "Installed price per accelerator, USD (default: an estimate per type)")
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--switch-price", o->switch_price, "Price per fabric switch, USD")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e8));
  cmd->add_option("--facility-usd-per-watt", o->facility_per_watt, "Facility capex per watt of IT load")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  cmd->add_flag("--simulate", o->simulate, "Check the plan in the twin (one site of the planned size, failures on)");
  cmd->add_option("--seed", o->seed, "Seed of the --simulate run")->capture_default_str();
  cmd->add_flag("--json", o->json_out, "Print the plan as JSON");
  cmd->callback([o, exit_code] { *exit_code = RunPlan(*o); });
}

}  // namespace stargate::cli
