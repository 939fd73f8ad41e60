#include "sched/placement.h"

#include <algorithm>

namespace stargate::sched {

GangShape ShapeFor(int devices, int per_node) {
  if (devices <= per_node) return GangShape{1, devices};
  return GangShape{(devices + per_node - 1) / per_node, per_node};
}

bool PoolAllows(const ClusterState& state, PoolId p, const JobRequest& req) {
  const PoolState& pool = state.pool(p);
  if (!(req.accel_mask & MaskOf(pool.type))) return false;
  if (req.jurisdictions == 0) return true;
  const SiteState& site = state.site(pool.site);
  return (req.jurisdictions & (JurisdictionMask{1} << site.jurisdiction)) != 0;
}

std::vector<NodeId> FindNodes(const ClusterState& state, PoolId p, GangShape shape,
                              const Claims& claims, uint32_t reserve_nodes) {
  const PoolState& pool = state.pool(p);
  const int64_t need = static_cast<int64_t>(shape.nodes) * shape.per_node +
                       static_cast<int64_t>(reserve_nodes) * pool.per_node;
  if (pool.free_devices - claims.OnPool(p) < need) return {};
  // Exact after claims, so a search that starts always succeeds.
  if (claims.NodesWithFree(state, p, shape.per_node) < shape.nodes) return {};
  std::vector<NodeId> out;
  out.reserve(shape.nodes);
  auto full = [&] { return static_cast<int>(out.size()) >= shape.nodes; };
  for (int f = shape.per_node; f <= pool.per_node && !full(); ++f) {
    // Nodes with exactly f devices left: partly claimed ones this pass, then
    // untouched ones from the back of the state's bucket.
    const auto& overlay = claims.Overlay(p, f);
    for (size_t i = overlay.size(); i-- > 0 && !full();) out.push_back(NodeId(overlay[i]));
    const auto& bucket = pool.buckets[f];
    for (size_t i = bucket.size() - claims.Consumed(p, f); i-- > 0 && !full();) {
      const uint32_t node = pool.first_node + bucket[i];
      if (claims.On(node) != 0) continue;  // a stray claim (repair spare)
      out.push_back(NodeId(node));
    }
  }
  if (!full()) return {};
  return out;
}

std::optional<NodeId> FindSpare(const ClusterState& state, PoolId p, NodeId failed, int per_node,
                                const Claims& claims) {
  const PoolState& pool = state.pool(p);
  auto fits = [&](uint32_t node) {
    return state.IsUp(NodeId(node)) &&
           state.FreeOn(NodeId(node)) - claims.On(node) >= per_node;
  };
  // Scan the failed node's domain, then the rest of its leaf.
  const uint32_t local = failed.value() - pool.first_node;
  for (const uint32_t block : {static_cast<uint32_t>(pool.domain_nodes),
                               static_cast<uint32_t>(pool.nodes_per_leaf)}) {
    const uint32_t begin = local / block * block;
    const uint32_t end = std::min(pool.num_nodes, begin + block);
    for (uint32_t i = begin; i < end; ++i) {
      if (fits(pool.first_node + i)) return NodeId(pool.first_node + i);
    }
  }
  std::vector<NodeId> any = FindNodes(state, p, GangShape{1, per_node}, claims);
  if (any.empty()) return std::nullopt;
  return any.front();
}

void PlaceRepairs(const ClusterState& state, const Queue& queue, Claims& claims, Decisions& out) {
  for (const JobRequest& req : queue.repairs()) {
    for (NodeId failed : req.repair) {
      const std::optional<NodeId> spare = FindSpare(state, req.repair_pool, failed, req.per_node, claims);
      if (!spare) break;
      claims.Add(state, req.repair_pool, spare->value(), req.per_node);
      out.items.push_back(Repair{req.id, failed, *spare});
    }
  }
}

}  // namespace stargate::sched
