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
        "{} accelerator ports exceed a 3-tier fat-tree of radix {} ({} ports): give a larger --switch-radix", ports, k,
        int64_t{k} * k * k / 4));
  }
  return f;
}

double DefaultInstalledPriceUsd(AcceleratorType type) {
  switch (type) {
    case AcceleratorType::kA100:
      return 20'000;
    case AcceleratorType::kH100:
      return 40'000;
    case AcceleratorType::kH200:
      return 45'000;
    case AcceleratorType::kB200:
      return 50'000;
    case AcceleratorType::kGB200:
      return 60'000;
    case AcceleratorType::kMI250X:
      return 15'000;
    case AcceleratorType::kMI300X:
      return 30'000;
    case AcceleratorType::kCpu:
      return 10'000;
  }
  return 40'000;
}

namespace {

// Everything that follows from a fleet of `n` accelerators, given the
// compute (`base`: flops, ideal hours, node and rack shape).
StatusOr<Plan> Evaluate(const PlanInput& in, const Plan& base, int64_t n) {
  const AcceleratorSpec& spec = Spec(in.accelerator);
  Plan p = base;
  Reliability(in, n, n / p.per_node, p);
  if (p.efficiency <= 0) {
    return absl::InvalidArgumentError(fmt::format(
        "with {} accelerators the job would be interrupted every {:.2f} h, too often to make progress with a "
        "{:.0f} s checkpoint write and a {:.0f} min restart",
        n, p.mtbf_hours, in.checkpoint_write.seconds(), in.restart.seconds() / 60));
  }
  const double price =
      in.accelerator_price_usd > 0 ? in.accelerator_price_usd : DefaultInstalledPriceUsd(in.accelerator);
  // One accelerator with its host share at full load, and at the facility.
  const double device_w = DevicePower(spec, 1.0).value();
  const double facility_w = FacilityPower(Watts(device_w), in.pue).value();
  p.accelerators = n;
  p.nodes = n / p.per_node;
  p.spare_nodes = SpareNodes(n, p.nodes);
  const int64_t fleet = n + p.spare_nodes * p.per_node;  // what is bought, powered and cabled
  p.racks = CeilDiv(p.nodes + p.spare_nodes, p.nodes_per_rack);
  p.accelerator_hours = p.ideal_accelerator_hours / p.efficiency;
  p.wall = Duration::FromSeconds(p.accelerator_hours / static_cast<double>(n) * 3600.0);
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
  p.storage_bytes_per_s = p.checkpoint_bytes / in.checkpoint_write.seconds();
  p.capex_accelerators_usd = price * static_cast<double>(fleet);
  p.capex_network_usd = in.switch_price_usd * static_cast<double>(p.switches);
  p.capex_facility_usd = in.facility_usd_per_it_watt * p.it_mw * 1e6;
  p.capex_usd = p.capex_accelerators_usd + p.capex_network_usd + p.capex_facility_usd;
  p.energy_mwh = facility_w * p.accelerator_hours / 1e6;
  p.energy_usd = p.energy_mwh * 1000.0 * in.usd_per_kwh;
  p.tco2 = p.energy_mwh * in.grid_g_per_kwh / 1000.0;  // MWh * g/kWh = kg; / 1000 = t
  p.total_usd = p.capex_usd + p.energy_usd;
  return p;
}

}  // namespace

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
  if (in.checkpoint_write <= Duration::Zero()) return absl::InvalidArgumentError("checkpoint write time must be > 0");
  const AcceleratorSpec& spec = Spec(in.accelerator);
  if (spec.bf16_dense.value() <= 0) {
    return absl::InvalidArgumentError(fmt::format("{} has no BF16 peak to plan training with", spec.name));
  }
  Plan base;
  base.per_node = in.per_node > 0 ? in.per_node : spec.default_per_node;
  base.nodes_per_rack = in.nodes_per_rack > 0                       ? in.nodes_per_rack
                        : in.accelerator == AcceleratorType::kGB200 ? spec.default_domain_nodes
                                                                    : 4;
  TrainingSpec t;
  t.params = in.params;
  t.tokens = in.tokens;
  t.mfu = in.mfu;
  base.flops = TrainingFlops(t);
  base.ideal_accelerator_hours = base.flops / (spec.bf16_dense.value() * in.mfu) / 3600.0;
  base.checkpoint_bytes = CheckpointBytes(t).value();
  const int64_t step = base.per_node;
  auto whole_nodes = [&](int64_t n) { return CeilDiv(std::max<int64_t>(n, 1), step) * step; };

  if (in.accelerators > 0) return Evaluate(in, base, whole_nodes(in.accelerators));
  if (in.deadline > Duration::Zero()) {
    // The fleet and its efficiency depend on each other: iterate to the
    // smallest fleet that meets the deadline (it only grows).
    int64_t n = step;
    for (int round = 0; round < 60; ++round) {
      SG_ASSIGN_OR_RETURN(const Plan p, Evaluate(in, base, n));
      const int64_t next = whole_nodes(static_cast<int64_t>(std::ceil(p.accelerator_hours / in.deadline.hours())));
      if (next <= n) break;
      n = next;
    }
    SG_ASSIGN_OR_RETURN(Plan p, Evaluate(in, base, n));
    if (p.wall > in.deadline) {
      p.notes.push_back("the deadline cannot be met: a bigger fleet fails more often and gains nothing");
    }
    return p;
  }
  // Budget: the biggest fleet whose capex and energy fit.
  SG_ASSIGN_OR_RETURN(const Plan one, Evaluate(in, base, step));
  if (one.total_usd > in.budget_usd) {
    return absl::InvalidArgumentError(
        fmt::format("a budget of ${:.3g} does not buy one node of {} (${:.3g} with its "
                    "energy)",
                    in.budget_usd, spec.name, one.total_usd));
  }
  // Start from capex per accelerator (energy is about the same for any fleet), then step to the edge.
  const double per_accel = (one.capex_usd / static_cast<double>(step + one.spare_nodes * step));
  int64_t n = std::max(step, whole_nodes(static_cast<int64_t>((in.budget_usd - one.energy_usd) / per_accel)) - step);
  StatusOr<Plan> fit = Evaluate(in, base, n);
  while (n > step && (!fit.ok() || fit->total_usd > in.budget_usd)) fit = Evaluate(in, base, n -= step);
  for (int i = 0; i < 100000; ++i) {  // bounded: each step is one node
    StatusOr<Plan> more = Evaluate(in, base, n + step);
    if (!more.ok() || more->total_usd > in.budget_usd) break;
    n += step;
    fit = std::move(more);
  }
  return fit;
}

}  // namespace stargate::model
