// File: claims.h
// Devices a scheduling pass has already promised to earlier jobs in the same
// pass. ClusterState is read-only during Schedule(), so a pass records its
// own starts here, and node searches see the state minus these claims.
//
// The overlay keeps that view exact at O(1) per claim, so a pass that places
// 10,000 gangs does not rescan the nodes it already took:
//  - an unclaimed node leaves its state bucket (by free count); buckets are
//    consumed from the back, as FindNodes walks them, so a per-bucket cursor
//    counts the taken entries, and the rare node taken out of order (a
//    repair spare picked from a domain scan) is counted as a stray until the
//    cursor passes it;
//  - a claimed node with devices left joins overlay[left] for later jobs.
// Reset() clears only what the last pass touched; no allocation in steady
// state.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ids.h"
#include "sched/cluster_state.h"

namespace stargate::sched {

class Claims {
 public:
  Claims() = default;
  // Sizes for `state` and forgets the previous pass's claims.
  void Reset(const ClusterState& state);

  int On(uint32_t node) const { return node_[node]; }
  int64_t OnPool(PoolId p) const { return pool_claimed_[p.value()]; }
  bool empty() const { return touched_.empty(); }

  // Up nodes of pool `p` with at least `g` free devices after the claims.
  int64_t NodesWithFree(const ClusterState& state, PoolId p, int g) const;
  // Claimed nodes of pool `p` with exactly `f` devices left.
  const std::vector<uint32_t>& Overlay(PoolId p, int f) const { return pools_[p.value()].overlay[f]; }
  // Entries already taken from the back of state bucket `f` of pool `p`.
  uint32_t Consumed(PoolId p, int f) const { return pools_[p.value()].consumed[f]; }

  // Claims `devices` on `node` (of pool `p`, up, with room).
  void Add(const ClusterState& state, PoolId p, uint32_t node, int devices);

 private:
  struct PoolClaims {
    std::vector<uint32_t> consumed;               // per free count f
    std::vector<uint32_t> stray;                  // per free count f
    std::vector<std::vector<uint32_t>> overlay;   // per devices left
    bool touched = false;
  };
  std::vector<int32_t> node_;
  std::vector<uint32_t> overlay_pos_;             // valid while the node is in an overlay list
  std::vector<uint32_t> touched_;
  std::vector<PoolClaims> pools_;
  std::vector<int64_t> pool_claimed_;
};

}  // namespace stargate::sched
