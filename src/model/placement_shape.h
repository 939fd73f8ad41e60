// File: placement_shape.h
// How far a gang's devices are spread over the network, and what that spread
// costs a data-parallel gradient all-reduce. The caller (sched/, twin/) fills
// a PlacementShape from node indices (core/topology.h numbers nodes densely:
// domain = i / domain_nodes, leaf = i / nodes_per_leaf, pod = leaf /
// leaves_per_pod); everything here is pure arithmetic on it. Thread-safe.
//
// Link figures come from AcceleratorSpec (core/accelerator.cc cites the
// datasheets) and FabricSpec (alpha defaults follow "NVLink ~1 us; IB 1-2 us
// within a rack, 3-5 us across racks", ../shared/notes/physics-numbers.md §3).
#pragma once

#include <cstdint>

#include "core/accelerator.h"
#include "core/topology.h"
#include "core/units.h"
#include "model/collectives.h"

namespace stargate::model {

// How far a gang's devices are spread. Filled by the caller from node indices.
struct PlacementShape {
  int devices = 1;
  int nodes = 1;
  int devices_per_node = 1;
  int domains = 1;  // distinct scale-up (NVLink) domains touched
  int leaves = 1;   // distinct leaf switches
  int pods = 1;     // distinct spine blocks
  int sites = 1;
  Duration wan_latency;       // one way, between the gang's farthest sites (when sites > 1)
  BytesPerSec wan_bandwidth;  // bottleneck WAN link (when sites > 1)
};

// The narrowest network level that still contains the whole gang.
// kPod = several leaves of one pod; kSpine = several pods of one site.
enum class SpanLevel : uint8_t { kNode, kDomain, kLeaf, kPod, kSpine, kWan };

// kNode if nodes==1, kDomain if domains==1, kLeaf if leaves==1, kPod if
// pods==1, kSpine if sites==1, else kWan.
SpanLevel WidestLevel(const PlacementShape& shape);

// What one device gets when talking to peers at `level`:
//  - kNode, kDomain: scale_up_bw x scale_up_allreduce (what an all-reduce
//    achieves of it), alpha_scale_up (a device without scale-up links,
//    scale_up_bw == 0, falls back to the kLeaf link);
//  - kLeaf: scale_out_bw (the device's NIC), alpha_leaf;
//  - kPod:  scale_out_bw, alpha_spine;
//  - kSpine: scale_out_bw / oversubscription (leaf uplinks are shared),
//    alpha_spine;
//  - kWan: the bottleneck WAN link divided among the flows that cross it at
//    once, capped at the kSpine rate; alpha = wan_latency + alpha_spine. A hierarchical all-reduce (below) runs one
//    outer ring per device of a scale-up domain and each ring crosses a site boundary once per direction, so the flows
//    are devices / domains. wan_bandwidth == 0 gives a zero-bandwidth link (collectives answer Infinite).
Link LinkAt(SpanLevel level, const AcceleratorSpec& accel, const FabricSpec& fabric, const PlacementShape& shape);

// Data-parallel gradient all-reduce of `bytes` (held by every device) over the
// gang: HierarchicalAllReduce with the devices of each scale-up domain as the
// inner groups (LinkAt kDomain) and the domains as the outer ranks over the
// widest level's link. Zero for a single device.
Duration GradientAllReduce(Bytes bytes, const AcceleratorSpec& accel, const FabricSpec& fabric,
                           const PlacementShape& shape);

// The same when each model replica spans `model_parallel` (tensor x pipeline)
// consecutive devices: model_parallel data-parallel groups, one per shard,
// each all-reduce `bytes` across the devices/model_parallel replicas at the
// same time. Replicas sharing a domain reduce over scale-up first; the rest
// goes over the widest level, where the concurrent groups share the WAN.
// GradientAllReduce(b, ...) == DataParallelAllReduce(b, 1, ...).
Duration DataParallelAllReduce(Bytes bytes, int model_parallel, const AcceleratorSpec& accel, const FabricSpec& fabric,
                               const PlacementShape& shape);

}  // namespace stargate::model
