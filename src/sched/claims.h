// File: claims.h
// Devices a scheduling pass has already promised to earlier jobs in the same
// pass. ClusterState is read-only during Schedule(), so a pass records its
// own starts here and subtracts them when it looks for more room.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/ids.h"

namespace stargate::sched {

class Claims {
 public:
  explicit Claims(size_t num_pools) : pool_claimed_(num_pools, 0) {}
  int On(uint32_t node) const {
    auto it = node_.find(node);
    return it == node_.end() ? 0 : it->second;
  }
  int64_t OnPool(PoolId p) const { return pool_claimed_[p.value()]; }
  void Add(PoolId p, uint32_t node, int devices) {
    node_[node] += devices;
    pool_claimed_[p.value()] += devices;
  }
  bool empty() const { return node_.empty(); }

 private:
  std::unordered_map<uint32_t, int> node_;
  std::vector<int64_t> pool_claimed_;
};

}  // namespace stargate::sched
