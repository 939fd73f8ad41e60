// File: accelerator.h
// The accelerator catalog: the datasheet figures every model in model/ reads.
// Figures are dense (NVIDIA headline figures are 2:4-sparse, halved here) and
// sourced in accelerator.cc. Thread-safe: the catalog is immutable.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"
#include "core/units.h"

namespace stargate {

enum class AcceleratorType : uint8_t {
  kCpu = 0,  // a CPU-only node: one "accelerator" stands for the whole host
  kA100,
  kH100,
  kH200,
  kB200,
  kGB200,
  kMI250X,
  kMI300X,
};
inline constexpr int kNumAcceleratorTypes = 8;

struct AcceleratorSpec {
  AcceleratorType type;
  std::string_view name;   // canonical spelling used in YAML and reports
  FlopsPerSec bf16_dense;  // peak dense BF16 matrix throughput
  Bytes hbm;               // device memory
  BytesPerSec hbm_bandwidth;
  Watts tdp;                 // board power limit
  Watts idle;                // measured or estimated idle draw
  Watts host_share;          // host (CPU, NIC, fans, PSU loss) power per accelerator at load
  BytesPerSec scale_up_bw;   // NVLink / Infinity Fabric, per direction per device
  BytesPerSec scale_out_bw;  // typical NIC bandwidth per device
  int default_per_node;      // devices per server/tray in the usual chassis
  int default_domain_nodes;  // nodes sharing one scale-up (NVLink) domain
  std::string_view source;
  // What an all-reduce inside one scale-up domain achieves, as a fraction of
  // scale_up_bw: nccl-tests' bus bandwidth over the link's line rate. Below
  // 1 for a ring (protocol overhead: NCCL gets ~80% of NVLink, RCCL ~75% of
  // xGMI); above 1 where the switch reduces in-network (NVLink SHARP, NVLS),
  // whose bus bandwidth passes the line rate. Sources in accelerator.cc.
  double scale_up_allreduce = 1.0;
};

// Returns the spec for `type`; every enumerator has one.
const AcceleratorSpec& Spec(AcceleratorType type);

// All entries, in enum order.
std::span<const AcceleratorSpec> Catalog();

// Case-insensitive lookup by canonical name or a common alias ("h100-sxm",
// "gb200-nvl72", "cpu"). InvalidArgument names the accepted values.
StatusOr<AcceleratorType> ParseAcceleratorType(std::string_view name);

inline std::string_view Name(AcceleratorType t) { return Spec(t).name; }

}  // namespace stargate
