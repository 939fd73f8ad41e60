#include "model/placement_shape.h"

#include <algorithm>

namespace stargate::model {
namespace {

BytesPerSec SpineShare(const AcceleratorSpec& accel, const FabricSpec& fabric) {
  return accel.scale_out_bw / std::max(fabric.oversubscription, 1.0);
}

// The kWan link when `flows` device-to-device flows cross the bottleneck at once.
Link WanLink(const AcceleratorSpec& accel, const FabricSpec& fabric, const PlacementShape& shape, int flows) {
  const BytesPerSec share = shape.wan_bandwidth / std::max(flows, 1);
  return {std::min(share, SpineShare(accel, fabric)), shape.wan_latency + fabric.alpha_spine};
}

}  // namespace

SpanLevel WidestLevel(const PlacementShape& shape) {
  if (shape.nodes <= 1) return SpanLevel::kNode;
  if (shape.domains <= 1) return SpanLevel::kDomain;
  if (shape.leaves <= 1) return SpanLevel::kLeaf;
  if (shape.pods <= 1) return SpanLevel::kPod;
  if (shape.sites <= 1) return SpanLevel::kSpine;
  return SpanLevel::kWan;
}

Link LinkAt(SpanLevel level, const AcceleratorSpec& accel, const FabricSpec& fabric, const PlacementShape& shape) {
  switch (level) {
    case SpanLevel::kNode:
    case SpanLevel::kDomain:
      if (accel.scale_up_bw.value() > 0) return {accel.scale_up_bw * accel.scale_up_allreduce, fabric.alpha_scale_up};
      [[fallthrough]];
    case SpanLevel::kLeaf:
      return {accel.scale_out_bw, fabric.alpha_leaf};
    case SpanLevel::kPod:
      return {accel.scale_out_bw, fabric.alpha_spine};
    case SpanLevel::kSpine:
      return {SpineShare(accel, fabric), fabric.alpha_spine};
    case SpanLevel::kWan:
      break;
  }
  const int domains = std::max(shape.domains, 1);
  return WanLink(accel, fabric, shape, std::max(shape.devices / domains, 1));
}

Duration GradientAllReduce(Bytes bytes, const AcceleratorSpec& accel, const FabricSpec& fabric,
                           const PlacementShape& shape) {
  return DataParallelAllReduce(bytes, 1, accel, fabric, shape);
}

Duration DataParallelAllReduce(Bytes bytes, int model_parallel, const AcceleratorSpec& accel, const FabricSpec& fabric,
                               const PlacementShape& shape) {
  const int devices = std::max(shape.devices, 1);
  const int mp = std::clamp(model_parallel, 1, devices);
  const int replicas = devices / mp;
  if (replicas <= 1) return Duration::Zero();

  const int per_domain = std::max(devices / std::clamp(shape.domains, 1, devices), 1);
  const int p_inner = std::clamp(per_domain / mp, 1, replicas);  // replicas in one domain
  const int p_outer = (replicas + p_inner - 1) / p_inner;
  const Link inner = LinkAt(SpanLevel::kDomain, accel, fabric, shape);
  const SpanLevel widest = WidestLevel(shape);
  // Every device runs one outer ring at once; each crosses a site boundary.
  const Link outer = widest == SpanLevel::kWan ? WanLink(accel, fabric, shape, devices / p_outer)
                                               : LinkAt(widest, accel, fabric, shape);
  return HierarchicalAllReduce(bytes, p_inner, inner, p_outer, outer);
}

}  // namespace stargate::model
