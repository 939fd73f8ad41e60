#include "sched/claims.h"

#include <cassert>

namespace stargate::sched {

void Claims::Reset(const ClusterState& state) {
  const size_t num_pools = state.pools().size();
  // The same state as the last pass (a state's shape never changes) needs
  // no look at every pool's shape.
  const bool known = &state == last_state_ && state.shape_id() == last_shape_id_;
  bool same_shape = node_.size() == state.num_nodes() && pools_.size() == num_pools;
  for (size_t p = 0; same_shape && !known && p < num_pools; ++p) {
    const PoolState& pool = state.pools()[p];
    same_shape = pools_[p].nodes.sized_for(pool.num_nodes, pool.per_node) &&
                 pools_[p].domains.sized_for(pool.domains.num_blocks(), pool.domains.block_nodes) &&
                 pools_[p].leaves.sized_for(pool.leaves.num_blocks(), pool.leaves.block_nodes);
  }
  if (!same_shape) {
    node_.assign(state.num_nodes(), 0);
    touched_.clear();
    touched_pools_.clear();
    pool_claimed_.assign(num_pools, 0);
    pools_.assign(num_pools, PoolClaims{});
    for (size_t p = 0; p < num_pools; ++p) {
      const PoolState& pool = state.pools()[p];
      pools_[p].nodes.Init(pool.num_nodes, pool.per_node);
      pools_[p].domains.Init(pool.domains.num_blocks(), pool.domains.block_nodes);
      pools_[p].leaves.Init(pool.leaves.num_blocks(), pool.leaves.block_nodes);
    }
  }
  for (uint32_t n : touched_) node_[n] = 0;
  touched_.clear();
  // Only the pools the last pass claimed in have anything to forget.
  pool_claimed_.resize(num_pools, 0);
  for (uint16_t p : touched_pools_) {
    pools_[p].nodes.Clear();
    pools_[p].domains.Clear();
    pools_[p].leaves.Clear();
    pool_claimed_[p] = 0;
  }
  touched_pools_.clear();
  share_claimed_.clear();
  opened_.clear();
  last_state_ = &state;
  last_shape_id_ = state.shape_id();
}

void Claims::Add(const ClusterState& state, PoolId p, uint32_t node, int devices) {
  const PoolState& pool = state.pool(p);
  PoolClaims& pc = pools_[p.value()];
  const int free_now = state.FreeOn(NodeId(node));
  const int before = node_[node];
  assert(state.IsUp(NodeId(node)) && free_now - before >= devices);
  if (before == 0) touched_.push_back(node);
  node_[node] = before + devices;
  if (pool_claimed_[p.value()] == 0) touched_pools_.push_back(p.value());
  pool_claimed_[p.value()] += devices;
  const uint32_t local = node - pool.first_node;
  pc.nodes.Take(pool.buckets, local, free_now, devices);
  if (before == 0 && free_now == pool.per_node) {
    // A whole free node stops being whole: one fewer in its domain and leaf.
    const uint32_t d = pool.domains.BlockOf(local);
    const uint32_t l = pool.leaves.BlockOf(local);
    pc.domains.Take(pool.domains.buckets, d, pool.domains.whole[d], 1);
    pc.leaves.Take(pool.leaves.buckets, l, pool.leaves.whole[l], 1);
  }
}

void Claims::AddShare(const ClusterState& state, PoolId p, uint32_t node, int slot, int milli, bool opens) {
  if (opens) {
    Add(state, p, node, 1);
    opened_[p.value()].emplace_back(node, slot);
  }
  share_claimed_[ClusterState::SlotKey(NodeId(node), slot)] += milli;
}

}  // namespace stargate::sched
