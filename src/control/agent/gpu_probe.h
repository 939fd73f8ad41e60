// File: gpu_probe.h
// What GPUs a node has, and how busy they are and what they draw, from
// nvidia-smi (or rocm-smi on AMD nodes, for the draw and use):
//   nvidia-smi --query-gpu=name,power.draw,utilization.gpu,memory.total
//              --format=csv,noheader,nounits
// The agent probes at start (`--accelerators auto`) and with each
// heartbeat's telemetry. A node without nvidia-smi is CPU-only.
// Thread-safe (each call runs its own nvidia-smi).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"
#include "core/status.h"

namespace stargate::control {

struct GpuSample {
  std::string name;        // "NVIDIA H100 80GB HBM3"
  double power_w = 0;      // 0 when nvidia-smi says [N/A]
  double utilisation = 0;  // 0..1
  int64_t memory_mib = 0;
};

// Parses the CSV above, one GPU per line; InvalidArgument naming the line.
StatusOr<std::vector<GpuSample>> ParseNvidiaSmi(std::string_view csv);

// The catalog type for a product name ("NVIDIA H100 80GB HBM3" -> H100,
// "NVIDIA GB200" -> GB200); InvalidArgument for one the catalog lacks.
StatusOr<AcceleratorType> TypeFromGpuName(std::string_view name);

// Runs nvidia-smi; NotFound when it is not installed or finds no GPU.
StatusOr<std::vector<GpuSample>> ProbeNvidiaSmi();

// AMD's counterpart, `rocm-smi --showpower --showuse --json`:
//   {"card0": {"Average Graphics Package Power (W)": "222.0", "GPU use (%)": "35"}, ...}
// (ROCm 6 names the power "Current Socket Graphics Package Power (W)"; an
// MI250X's secondary die says "N/A (Secondary die)": its primary die's
// figure holds both, so it counts 0). Name and memory stay empty.
// InvalidArgument for anything else.
StatusOr<std::vector<GpuSample>> ParseRocmSmi(std::string_view json);
// Runs rocm-smi; NotFound when it is not installed or finds no GPU.
StatusOr<std::vector<GpuSample>> ProbeRocmSmi();

}  // namespace stargate::control
