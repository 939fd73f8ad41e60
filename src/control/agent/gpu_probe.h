// File: gpu_probe.h
// What GPUs a node has, and how busy they are, from nvidia-smi:
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

}  // namespace stargate::control
