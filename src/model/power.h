// File: power.h
// Electrical power of accelerators, their hosts and the facility around them.
// A linear utilisation model: device power is linear between idle and TDP,
// host power between an idle floor and its at-load share. Pure; thread-safe.
//
// Calibration: core/accelerator.cc holds idle, tdp and host_share per type
// (DGX H100 10.2 kW rated; 8.4 kW measured peak, Latif et al., arXiv
// 2412.08602). Linear-in-utilisation is the standard first-order server model
// (Fan, Weber & Barroso, "Power Provisioning for a Warehouse-sized Computer",
// ISCA 2007, within ~1% of measured cluster power). Newkirk et al. (arXiv
// 2506.14551) report that even a FLOP-based model errs ~11% per job, so treat
// figures as +-15%.
#pragma once

#include <cstdint>

#include "core/accelerator.h"
#include "core/units.h"

namespace stargate::model {

// Host power at idle as a fraction of its at-load share. ESTIMATE: Fan et al.
// (ISCA 2007) measured servers idling at ~50-60% of peak; Barroso & Hoelzle
// ("The Case for Energy-Proportional Computing", IEEE Computer 2007) report
// ~50%; newer servers are more proportional, so 40% is used.
inline constexpr double kHostIdleFraction = 0.4;

// One device plus its host share at utilisation `u` (clamped to [0, 1]):
//   idle + (tdp - idle)*u  +  host_share*(0.4 + 0.6*u).
// Non-decreasing in u. The sum of BoardPower (what nvidia-smi's
// power.draw reads) and HostPower.
Watts DevicePower(const AcceleratorSpec& accel, double utilisation);
Watts BoardPower(const AcceleratorSpec& accel, double utilisation);  // idle + (tdp - idle)*u
Watts HostPower(const AcceleratorSpec& accel, double utilisation);   // host_share*(0.4 + 0.6*u)

// A pool of `total` devices of which `busy` (clamped to [0, total]) run at
// `utilisation` and the rest sit idle (DevicePower at 0).
Watts PoolPower(const AcceleratorSpec& accel, int64_t total, int64_t busy, double utilisation);

// IT power times PUE (Green Grid, "PUE: a comprehensive examination of the
// metric", WP#49, 2012). A PUE below 1 is impossible and counts as 1.
// Typical: Google fleet 1.10 (2023), industry 1.55-1.59, liquid-cooled AI
// builds 1.05-1.15 (../shared/notes/physics-numbers.md §2).
Watts FacilityPower(Watts it, double pue);

}  // namespace stargate::model
