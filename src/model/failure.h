// File: failure.h
// Failure processes: per-component interruption rates calibrated on the
// largest published production record, and the aggregate rate / MTBF they
// imply for a set of devices, nodes and sites. Sampling failures is the
// twin's job (twin/); these are the rates it samples from. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "core/scenario.h"
#include "core/units.h"

namespace stargate::model {

// Per-component interruption rates derived from the Llama 3 405B table
// (Dubey et al., "The Llama 3 Herd of Models", arXiv 2407.21783, 2024,
// Table 5): 419 unexpected interruptions in a 54-day snapshot on 16,384 H100
// (2,048 nodes of 8). Each row's count becomes a rate per unit-year:
//  - accelerator scope (faulty GPU 148, HBM3 72, GPU SRAM 19, GPU system
//    processor 17, silent data corruption 6, GPU thermal 6):
//    count / (16,384 * 54/365) per device-year;
//  - node scope (software bug 54, network switch/cable 35, host maintenance
//    32, NIC 7, NCCL watchdog 7, SSD 3, PSU 3, chassis 2, IO board 2,
//    dependency 2, CPU 2, DRAM 2): count / (2,048 * 54/365) per node-year.
// Switch/cable and dependency failures hit many nodes at once in reality; here
// they are spread over nodes, which keeps the total rate right.
// Repair times (how long the unit stays out) are ESTIMATES, per row in
// failure.cc; the paper gives none.
std::vector<FailureComponent> LlamaThreeComponents();

// Expected interruptions per hour over `devices` accelerators, `nodes` hosts
// and `sites` sites: sum of rate_per_year * units / 8760 (a 365-day year, as
// in the calibration above), times rate_scale. Negative counts count as 0.
double FailuresPerHour(const std::vector<FailureComponent>& components, int64_t devices, int64_t nodes, int64_t sites,
                       double rate_scale = 1.0);

// Mean time between interruptions of one gang (site-scoped failures are not
// counted: sites = 0), i.e. 1 / FailuresPerHour. Infinite when the rate is 0.
// Llama 3 scale (16,384 devices, 2,048 nodes): 54*24/419 h ~ 3.1 h.
Duration MeanTimeBetweenFailures(const std::vector<FailureComponent>& components, int64_t devices, int64_t nodes,
                                 double rate_scale = 1.0);

// A failure rate measured over `exposure_hours` with `failures` seen,
// shrunk toward a prior `prior_rate` (per hour) worth `prior_events`
// failures: the Gamma-Poisson posterior mean
//   (failures + prior_events) / (exposure_hours + prior_events / prior_rate).
// With no exposure it is the prior; as exposure grows the measurement
// wins. So a new site starts from published rates (Llama 3) and a site that
// has run long enough is judged by its own record. The default weight is
// half an event (the shape of Jeffreys' prior for a Poisson rate): the
// published rate counts as much as half of 1 / prior_rate hours of
// observation. `prior_rate` > 0.
double PosteriorRate(int64_t failures, double exposure_hours, double prior_rate, double prior_events = 0.5);

}  // namespace stargate::model
