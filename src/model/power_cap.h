// File: power_cap.h
// A device power limit (nvidia-smi -pl, DCGM) below TDP: how much less the
// device draws and how much longer its work takes. Pure; thread-safe.
//
// Calibration. Under a cap the board lowers its clocks; dynamic power falls
// faster than speed because voltage falls with frequency, and memory-bound
// phases barely slow. Samsi et al. ("From Words to Watts", IEEE HPEC 2023;
// ../shared/notes/physics-numbers.md §4) measured a 250 -> 175 W cap (70%)
// cutting energy ~23% for +6-7% time, so the draw fell to 0.77 / 1.065 =
// 72.3% of uncapped. We fit time = p^-b to that point, where p is the capped
// draw over the uncapped draw: b = ln(1.065) / -ln(0.723) = 0.194. Cross-
// check: Krzywaniak et al. (PPAM 2022, 8-GPU training node, wall-plug meter)
// report >25% less node energy at 160-200 W caps of 260 W GPUs. ESTIMATE
// beyond that: measured points are at 60-70% of TDP, so caps are clamped to
// [kMinCapFraction, 1]; deeper caps fall off a cliff on real boards. Some
// operators report larger slowdowns for dense BF16/FP8 training near TDP;
// bench/RESULTS.md shows how the carbon result moves with `b`.
#pragma once

#include "core/accelerator.h"
#include "core/units.h"

namespace stargate::model {

inline constexpr double kCapSpeedExponent = 0.194;
inline constexpr double kMinCapFraction = 0.5;

struct CapEffect {
  double draw_ratio = 1.0;  // device draw capped / uncapped, in (0, 1]
  double slowdown = 1.0;    // wall time capped / uncapped, >= 1
  Watts saved;              // per device (the host draws as before)
};

// The device part of DevicePower at `utilisation` limited to
// `tdp_fraction` x TDP (clamped to [kMinCapFraction, 1]; 0 or 1 = no cap).
// A cap above what the work draws costs and saves nothing.
CapEffect PowerCapEffect(const AcceleratorSpec& accel, double utilisation, double tdp_fraction);

}  // namespace stargate::model
