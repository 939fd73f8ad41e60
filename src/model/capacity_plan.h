// File: capacity_plan.h
// `stargate plan`: the enterprise planning steps as arithmetic. From a
// model (parameters, tokens), an accelerator type and one constraint (a
// deadline, a budget, or a fleet size), it derives in order:
//   1. compute: 6*N*D FLOPs (step_time.h), accelerator-hours at the MFU;
//   2. reliability: the fleet's MTBF from the Llama 3 component rates
//      (failure.h), Daly's checkpoint interval for the checkpoint write
//      time, and the expected efficiency (checkpoint.h), which turns ideal
//      accelerator-hours into wall-clock accelerator-hours; the fleet size
//      and the efficiency depend on each other, so they are iterated to a
//      fixed point;
//   3. hardware: accelerators (whole nodes), nodes, spare nodes (those
//      out for repair at once, by Little's law over the Llama 3 component
//      rates and repair times, plus three standard deviations of a Poisson
//      count), racks, kW per rack, IT and facility MW at the PUE (power.h);
//   4. fabric: a non-blocking k-ary fat-tree for one NIC port per
//      accelerator: 2 tiers up to k^2/2 ports, 3 up to k^3/4 (Al-Fares et
//      al., SIGCOMM 2008), switches per tier;
//   5. checkpoint storage bandwidth: the state (16 B/param) written in the
//      target write time;
//   6. money and carbon: capex (accelerators all-in, switches, facility per
//      MW of IT), energy (devices at full load plus hosts, times PUE, over
//      the wall time), its cost, and tCO2 at the grid intensity.
// Llama 3 405B (15.6T tokens, H100, MFU 0.41, 54 days) lands near the
// 30.84M H100-hours Meta reports (tests/unit/model/capacity_plan_test.cc).
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/accelerator.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::model {

// ESTIMATES of what an accelerator costs installed (the device plus its
// share of the server, NICs and cabling), USD. Public reports: H100
// $25k-40k per GPU and Blackwell $30k-40k (CNBC, 2024, quoting NVIDIA's
// CEO for Blackwell); servers add roughly a third. Override with
// --accelerator-price.
double DefaultInstalledPriceUsd(AcceleratorType type);

struct PlanInput {
  double params = 0;  // N
  double tokens = 0;  // D
  AcceleratorType accelerator = AcceleratorType::kH100;
  double mfu = 0.40;  // Llama 3 405B: 38-43% (Dubey et al. 2024)
  // Exactly one of these sizes the fleet.
  Duration deadline = Duration::Zero();
  double budget_usd = 0;  // capex + energy
  int64_t accelerators = 0;
  int per_node = 0;                                   // 0 = the catalog's chassis
  int nodes_per_rack = 0;                             // 0 = 4, or one NVL72 domain per rack for GB200
  double pue = 1.2;                                   // new large builds <= 1.3 (Uptime Institute); Google fleet 1.10
  double usd_per_kwh = 0.0806;                        // US industrial average 2023 (EIA)
  double grid_g_per_kwh = 481;                        // world average 2023 (Ember)
  int switch_radix = 64;                              // Quantum-2: 64 x 400G ports
  Duration checkpoint_write = Duration::Seconds(60);  // target time to persist one checkpoint
  Duration restart = Duration::Minutes(10);           // re-init and reload after an interruption
  double accelerator_price_usd = 0;                   // 0 = DefaultInstalledPriceUsd
  double switch_price_usd = 50'000;                   // ESTIMATE: a 64-port 400G switch with optics
  double facility_usd_per_it_watt = 10;               // ESTIMATE: ~$10M per MW of IT load (shell, power, cooling)
};

struct Plan {
  double flops = 0;
  double ideal_accelerator_hours = 0;              // at the MFU, no failures, no checkpoints
  double efficiency = 0;                           // expected useful share of wall time (failures, checkpoints)
  double accelerator_hours = 0;                    // ideal / efficiency: what the fleet is held for
  int64_t accelerators = 0, nodes = 0, racks = 0;  // racks and everything below include the spares
  int64_t spare_nodes = 0;
  int per_node = 0, nodes_per_rack = 0;
  Duration wall;                 // accelerator_hours / accelerators
  double mtbf_hours = 0;         // interruptions of the whole job
  Duration checkpoint_interval;  // Daly
  double checkpoint_bytes = 0;
  double storage_bytes_per_s = 0;
  double node_kw = 0, rack_kw = 0, it_mw = 0, facility_mw = 0;
  int fabric_tiers = 0;
  int64_t leaf_switches = 0, spine_switches = 0, core_switches = 0, switches = 0;
  double capex_accelerators_usd = 0, capex_network_usd = 0, capex_facility_usd = 0, capex_usd = 0;
  double energy_mwh = 0, energy_usd = 0, tco2 = 0;
  double total_usd = 0;            // capex + energy
  std::vector<std::string> notes;  // what the plan had to assume or could not meet
};

// A non-blocking k-ary fat-tree for `ports` host ports (k = radix).
struct FatTree {
  int tiers = 0;
  int64_t leaf = 0, spine = 0, core = 0;
  int64_t switches() const { return leaf + spine + core; }
};
// InvalidArgument past 3 tiers (k^3/4 ports).
StatusOr<FatTree> FatTreeSwitches(int64_t ports, int radix);

// InvalidArgument naming the input when it cannot be planned (no size
// constraint or several, non-positive model, a fabric too big for three
// tiers of the radix, a budget below one node).
StatusOr<Plan> MakePlan(const PlanInput& in);

}  // namespace stargate::model
