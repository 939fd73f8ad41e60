// File: claims.h
// Devices a scheduling pass has already promised to earlier jobs in the same
// pass. ClusterState is read-only during Schedule(), so a pass records its
// own starts here, and node searches see the state minus these claims.
//
// Per pool, three CountOverlays keep that view exact at O(1) per claim:
// nodes by free devices, and NVLink domains and leaves by whole free nodes
// (for topology-aware gang placement). Reset() clears only what the last
// pass touched; no allocation in steady state.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "sched/cluster_state.h"
#include "sched/count_overlay.h"

namespace stargate::sched {

class Claims {
 public:
  Claims() = default;
  // Sizes for `state` and forgets the previous pass's claims.
  void Reset(const ClusterState& state);

  // Devices claimed on global node `node`.
  int On(uint32_t node) const { return node_[node]; }
  int64_t OnPool(PoolId p) const { return pool_claimed_[p.value()]; }
  // Devices of pool `p` free for new work after the claims: its free
  // devices less those claimed and its hot spares' whole nodes (may be
  // negative).
  int64_t Unreserved(const ClusterState& state, PoolId p) const {
    const PoolState& pool = state.pool(p);
    return pool.free_devices - OnPool(p) - static_cast<int64_t>(pool.hot_spares) * pool.per_node;
  }
  bool empty() const { return touched_.empty(); }

  // Up nodes of pool `p` with at least `g` free devices after the claims.
  int64_t NodesWithFree(const ClusterState& state, PoolId p, int g) const {
    return pools_[p.value()].nodes.AtLeast(state.pool(p).buckets, g);
  }
  // NodesWithFree(state, p, g) >= want, stopping as soon as it is.
  bool HasNodesWithFree(const ClusterState& state, PoolId p, int g, int64_t want) const {
    return pools_[p.value()].nodes.HasAtLeast(state.pool(p).buckets, g, want);
  }
  // The most free devices an up node of pool `p` has after the claims (0:
  // none has any).
  int MostFree(const ClusterState& state, PoolId p) const {
    return pools_[p.value()].nodes.Most(state.pool(p).buckets);
  }
  // The pool's overlays: items are pool-local node, domain and leaf indices.
  const CountOverlay& Nodes(PoolId p) const { return pools_[p.value()].nodes; }
  const CountOverlay& Domains(PoolId p) const { return pools_[p.value()].domains; }
  const CountOverlay& Leaves(PoolId p) const { return pools_[p.value()].leaves; }

  // Claims `devices` on `node` (of pool `p`, up, with room).
  void Add(const ClusterState& state, PoolId p, uint32_t node, int devices);

  // Shares (ClusterState::AddShare): thousandths of slot `slot` of global
  // node `node` claimed this pass.
  int ShareClaimed(uint32_t node, int slot) const {
    auto it = share_claimed_.find(ClusterState::SlotKey(NodeId(node), slot));
    return it == share_claimed_.end() ? 0 : it->second;
  }
  // Claims `milli` of that slot (in pool `p`); `opens`: the slot was closed,
  // so one of the node's free devices is claimed too.
  void AddShare(const ClusterState& state, PoolId p, uint32_t node, int slot, int milli, bool opens);
  // Calls f(node, slot) for the slots this pass opened in pool `p`, in the
  // order opened, until f returns true.
  template <class F>
  void ForSlotsOpened(PoolId p, F f) const {
    auto it = opened_.find(p.value());
    if (it == opened_.end()) return;
    for (const auto& [node, slot] : it->second) {
      if (f(node, slot)) return;
    }
  }

 private:
  struct PoolClaims {
    CountOverlay nodes;
    CountOverlay domains;
    CountOverlay leaves;
  };
  std::unordered_map<uint64_t, int> share_claimed_;                             // by ClusterState::SlotKey
  std::unordered_map<uint16_t, std::vector<std::pair<uint32_t, int>>> opened_;  // per pool
  std::vector<int32_t> node_;                                                   // per global node
  std::vector<uint32_t> touched_;                                               // global nodes claimed this pass
  std::vector<PoolClaims> pools_;
  std::vector<int64_t> pool_claimed_;
  std::vector<uint16_t> touched_pools_;  // pools claimed in this pass
  // The state the claims were last sized for (compared by address and
  // ClusterState::shape_id, never dereferenced).
  const ClusterState* last_state_ = nullptr;
  uint64_t last_shape_id_ = 0;
};

}  // namespace stargate::sched
