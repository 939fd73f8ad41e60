#include "model/capacity_plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/job_spec.h"
#include "model/checkpoint.h"
#include "model/failure.h"
#include "model/power.h"
#include "model/step_time.h"

namespace stargate::model {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The useful share of wall time for a fleet of `accelerators` on `nodes`.
void Reliability(const PlanInput& in, int64_t accelerators, int64_t nodes, Plan& p) {
  const Duration mtbf = MeanTimeBetweenFailures(LlamaThreeComponents(), accelerators, nodes);
  p.mtbf_hours = mtbf.hours();
  p.checkpoint_interval = DalyInterval(in.checkpoint_write, mtbf);
  p.efficiency = ExpectedEfficiency(p.checkpoint_interval, in.checkpoint_write, in.restart, mtbf);
}


// Nodes out for repair at once for a fleet of `accelerators` on `nodes`:
// mean L = sum of failures/h * repair h (Little's law), and L + 3 sqrt(L)
// spares keep a replacement at hand ~99.9% of the time (Poisson).
int64_t SpareNodes(int64_t accelerators, int64_t nodes) {
  double down = 0;
  for (const FailureComponent& c : LlamaThreeComponents()) {
    const double units = c.scope == FailureScope::kAccelerator ? static_cast<double>(accelerators)
                         : c.scope == FailureScope::kNode      ? static_cast<double>(nodes)
                                                               : 0.0;
    down += c.rate_per_year / 8760.0 * units * c.repair.hours();
  }
  return static_cast<int64_t>(std::ceil(down + 3 * std::sqrt(down)));
}

}  // namespace

StatusOr<FatTree> FatTreeSwitches(int64_t ports, int k) {
  const int64_t half = k / 2;
  FatTree f;
  f.leaf = CeilDiv(ports, half);
  if (ports <= int64_t{k} * k / 2) {
    f.tiers = f.leaf == 1 ? 1 : 2;
    f.spine = f.tiers == 1 ? 0 : CeilDiv(f.leaf * half, k);
  } else if (ports <= int64_t{k} * k * k / 4) {
    f.tiers = 3;
    f.spine = f.leaf;  // aggregation: as many as edge switches
    f.core = CeilDiv(f.spine * half, k);
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "{} accelerator ports exceed a 3-tier fat-tree of radix {} ({} ports): give a larger --switch-radix",
        ports, k, int64_t{k} * k * k / 4));
  }
  return f;
}

double DefaultInstalledPriceUsd(AcceleratorType type) {
  switch (type) {
    case AcceleratorType::kA100: return 20'000;
    case AcceleratorType::kH100: return 40'000;
    case AcceleratorType::kH200: return 45'000;
    case AcceleratorType::kB200: return 50'000;
    case AcceleratorType::kGB200: return 60'000;
    case AcceleratorType::kMI250X: return 15'000;
    case AcceleratorType::kMI300X: return 30'000;
    case AcceleratorType::kCpu: return 10'000;
  }
  return 40'000;
}

StatusOr<Plan> MakePlan(const PlanInput& in) {
  if (in.params <= 0 || in.tokens <= 0) return absl::InvalidArgumentError("params and tokens must be positive");
  if (in.mfu <= 0 || in.mfu > 1) return absl::InvalidArgumentError("mfu must be in (0, 1]");
  const int sizes = (in.deadline > Duration::Zero()) + (in.budget_usd > 0) + (in.accelerators > 0);
  if (sizes != 1) {
    return absl::InvalidArgumentError("give exactly one of a deadline, a budget or an accelerator count");
  }
  if (in.switch_radix < 4 || in.switch_radix % 2 != 0) {
    return absl::InvalidArgumentError("switch radix must be an even number >= 4");
  }
  const AcceleratorSpec& spec = Spec(in.accelerator);
  if (spec.bf16_dense.value() <= 0) {
    return absl::InvalidArgumentError(fmt::format("{} has no BF16 peak to plan training with", spec.name));
  }
  Plan p;
  p.per_node = in.per_node > 0 ? in.per_node : spec.default_per_node;
  p.nodes_per_rack = in.nodes_per_rack > 0 ? in.nodes_per_rack
                     : in.accelerator == AcceleratorType::kGB200 ? spec.default_domain_nodes : 4;
  TrainingSpec t;
  t.params = in.params;
  t.tokens = in.tokens;
  t.mfu = in.mfu;
  p.flops = TrainingFlops(t);
  p.ideal_accelerator_hours = p.flops / (spec.bf16_dense.value() * in.mfu) / 3600.0;
  const double price = in.accelerator_price_usd > 0 ? in.accelerator_price_usd : DefaultInstalledPriceUsd(in.accelerator);
  // Power of one accelerator with its host share at full load, and at the facility.
  const double device_w = DevicePower(spec, 1.0).value();
  const double facility_w = FacilityPower(Watts(device_w), in.pue).value();
  const double usd_per_accel_hour_energy = facility_w / 1000.0 * in.usd_per_kwh;
  const double capex_per_accel = price + in.facility_usd_per_it_watt * device_w;  // switches added below

  auto round_to_nodes = [&](int64_t n) { return CeilDiv(std::max<int64_t>(n, 1), p.per_node) * p.per_node; };
  int64_t n = in.accelerators > 0 ? round_to_nodes(in.accelerators) : round_to_nodes(1);
  // The fleet size and its efficiency depend on each other: iterate.
  for (int round = 0; round < 50; ++round) {
    Reliability(in, n, n / p.per_node, p);
    if (p.efficiency <= 0) {
      return absl::InvalidArgumentError(fmt::format(
          "with {} accelerators the job would be interrupted every {:.2f} h, too often to make progress with a "
          "{:.0f} s checkpoint write and a {:.0f} min restart", n, p.mtbf_hours, in.checkpoint_write.seconds(),
          in.restart.seconds() / 60));
    }
    const double held_hours = p.ideal_accelerator_hours / p.efficiency;
    int64_t next = n;
    if (in.deadline > Duration::Zero()) {
      next = round_to_nodes(static_cast<int64_t>(std::ceil(held_hours / in.deadline.hours())));
    } else if (in.budget_usd > 0) {
      // Capex grows with the fleet; energy is about the same for any size.
      const double energy = held_hours * usd_per_accel_hour_energy;
      // A 3-tier fat-tree has 5/k switches per port (2/(k/2) edge and
      // aggregation, 1/k core): the most a fleet of any size needs.
      const double per_accel = (capex_per_accel + in.switch_price_usd * 5.0 / in.switch_radix) * 1.02;  // ~2% spares
      const double fits = (in.budget_usd - energy) / per_accel;
      if (fits < p.per_node) {
        return absl::InvalidArgumentError(fmt::format(
            "a budget of ${:.3g} does not buy one node of {} after ${:.3g} of energy", in.budget_usd, spec.name, energy));
      }
      next = static_cast<int64_t>(fits) / p.per_node * p.per_node;
    }
    if (next == n && round > 0) break;
    n = next;
  }
  Reliability(in, n, n / p.per_node, p);
  p.accelerators = n;
  p.nodes = n / p.per_node;
  p.spare_nodes = SpareNodes(n, p.nodes);
  const int64_t fleet = n + p.spare_nodes * p.per_node;  // what is bought, powered and cabled
  p.racks = CeilDiv(p.nodes + p.spare_nodes, p.nodes_per_rack);
  p.accelerator_hours = p.ideal_accelerator_hours / p.efficiency;
  p.wall = Duration::FromSeconds(p.accelerator_hours / static_cast<double>(n) * 3600.0);
  if (in.deadline > Duration::Zero() && p.wall > in.deadline) {
    p.notes.push_back("the deadline cannot be met at this size (efficiency falls as the fleet grows)");
  }
  p.node_kw = device_w * p.per_node / 1000.0;
  p.rack_kw = p.node_kw * p.nodes_per_rack;
  p.it_mw = device_w * static_cast<double>(fleet) / 1e6;
  p.facility_mw = p.it_mw * std::max(1.0, in.pue);
  SG_ASSIGN_OR_RETURN(const FatTree fabric, FatTreeSwitches(fleet, in.switch_radix));
  p.fabric_tiers = fabric.tiers;
  p.leaf_switches = fabric.leaf;
  p.spine_switches = fabric.spine;
  p.core_switches = fabric.core;
  p.switches = fabric.switches();
  p.checkpoint_bytes = CheckpointBytes(t).value();
  p.storage_bytes_per_s = p.checkpoint_bytes / std::max(1.0, in.checkpoint_write.seconds());
  p.capex_accelerators_usd = price * static_cast<double>(fleet);
  p.capex_network_usd = in.switch_price_usd * static_cast<double>(p.switches);
  p.capex_facility_usd = in.facility_usd_per_it_watt * p.it_mw * 1e6;
  p.capex_usd = p.capex_accelerators_usd + p.capex_network_usd + p.capex_facility_usd;
  p.energy_mwh = facility_w * p.accelerator_hours / 1e6;
  p.energy_usd = p.energy_mwh * 1000.0 * in.usd_per_kwh;
  p.tco2 = p.energy_mwh * in.grid_g_per_kwh / 1000.0;  // MWh * g/kWh = kg; / 1000 = t
  p.total_usd = p.capex_usd + p.energy_usd;
  if (in.budget_usd > 0 && p.total_usd > in.budget_usd * 1.02) {
    p.notes.push_back("the switches needed at this size push the total past the budget");
  }
  return p;
}

}  // namespace stargate::model
