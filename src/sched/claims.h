// File: claims.h
// Devices a scheduling pass has already promised to earlier jobs in the same
// pass. ClusterState is read-only during Schedule(), so a pass records its
// own starts here and subtracts them when it looks for more room.
//
// Flat per-node counters, reused across passes by the policy that owns them:
// Reset() clears only what the last pass touched, so a pass that claims k
// nodes costs O(k) with no allocation in steady state.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ids.h"

namespace stargate::sched {

class Claims {
 public:
  Claims() = default;
  // Sizes for the cluster and forgets the previous pass's claims.
  void Reset(size_t num_nodes, size_t num_pools) {
    if (node_.size() != num_nodes) node_.assign(num_nodes, 0);
    for (uint32_t n : touched_) node_[n] = 0;
    touched_.clear();
    pool_claimed_.assign(num_pools, 0);
  }
  int On(uint32_t node) const { return node_[node]; }
  int64_t OnPool(PoolId p) const { return pool_claimed_[p.value()]; }
  void Add(PoolId p, uint32_t node, int devices) {
    if (node_[node] == 0) touched_.push_back(node);
    node_[node] += devices;
    pool_claimed_[p.value()] += devices;
  }
  bool empty() const { return touched_.empty(); }

 private:
  std::vector<int32_t> node_;
  std::vector<uint32_t> touched_;
  std::vector<int64_t> pool_claimed_;
};

}  // namespace stargate::sched
