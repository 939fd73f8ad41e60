#include "sched/claims.h"

#include <algorithm>
#include <cassert>

namespace stargate::sched {

void Claims::Reset(const ClusterState& state) {
  const size_t num_pools = state.pools().size();
  bool same_shape = node_.size() == state.num_nodes() && pools_.size() == num_pools;
  for (size_t p = 0; same_shape && p < num_pools; ++p) {
    same_shape = pools_[p].consumed.size() == static_cast<size_t>(state.pools()[p].per_node + 1);
  }
  if (!same_shape) {
    node_.assign(state.num_nodes(), 0);
    overlay_pos_.assign(state.num_nodes(), 0);
    touched_.clear();
    pools_.assign(num_pools, PoolClaims{});
    for (size_t p = 0; p < num_pools; ++p) {
      const int slots = state.pools()[p].per_node + 1;
      pools_[p].consumed.assign(slots, 0);
      pools_[p].stray.assign(slots, 0);
      pools_[p].overlay.assign(slots, {});
    }
  }
  for (uint32_t n : touched_) node_[n] = 0;
  touched_.clear();
  for (PoolClaims& pc : pools_) {
    if (!pc.touched) continue;
    pc.touched = false;
    std::fill(pc.consumed.begin(), pc.consumed.end(), 0);
    std::fill(pc.stray.begin(), pc.stray.end(), 0);
    for (auto& list : pc.overlay) list.clear();
  }
  pool_claimed_.assign(num_pools, 0);
}

int64_t Claims::NodesWithFree(const ClusterState& state, PoolId p, int g) const {
  const PoolState& pool = state.pool(p);
  const PoolClaims& pc = pools_[p.value()];
  int64_t n = 0;
  for (int f = std::max(g, 1); f <= pool.per_node; ++f) {
    n += static_cast<int64_t>(pool.buckets[f].size()) - pc.consumed[f] - pc.stray[f];
    n += static_cast<int64_t>(pc.overlay[f].size());
  }
  return n;
}

void Claims::Add(const ClusterState& state, PoolId p, uint32_t node, int devices) {
  PoolClaims& pc = pools_[p.value()];
  pc.touched = true;
  const int free_now = state.FreeOn(NodeId(node));
  const int before = node_[node];
  assert(free_now - before >= devices);
  node_[node] = before + devices;
  pool_claimed_[p.value()] += devices;
  if (before == 0) {
    // Leaves state bucket `free_now`: count it as a stray, then let the
    // cursor swallow every claimed entry now at the bucket's back.
    touched_.push_back(node);
    const PoolState& pool = state.pool(p);
    const auto& bucket = pool.buckets[free_now];
    ++pc.stray[free_now];
    uint32_t& consumed = pc.consumed[free_now];
    while (consumed < bucket.size() && node_[pool.first_node + bucket[bucket.size() - 1 - consumed]] != 0) {
      ++consumed;
      --pc.stray[free_now];
    }
  } else if (free_now - before > 0) {
    // Leaves overlay[left before]: swap-remove.
    auto& list = pc.overlay[free_now - before];
    const uint32_t pos = overlay_pos_[node];
    list[pos] = list.back();
    overlay_pos_[list[pos]] = pos;
    list.pop_back();
  }
  const int left = free_now - before - devices;
  if (left > 0) {
    overlay_pos_[node] = static_cast<uint32_t>(pc.overlay[left].size());
    pc.overlay[left].push_back(node);
  }
}

}  // namespace stargate::sched
