// File: wake_index.h
// A value per pool of a list of pools in some order (pool_orders.h), and
// the first position at or after a given one whose value is at most a
// given bound, in O(log n). The scheduler keeps several per order: a
// pool's room now (Room(): the more room, the lower; kNever: none), and
// when room can next come back for a job that waits, one per class of job
// size (PoolOrders::DueDevices; ns; kNever: none in sight), which go by the
// room index's positions (BuildTree, SetAt). So a walk down an order skips
// the pools a pass has filled, which a job could neither start in now nor
// wait for, instead of meeting each of them again for every job.
//
// A min segment tree over the positions; Set is O(log n). Pure; not
// thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "core/ids.h"

namespace stargate::sched {

class WakeIndex {
 public:
  // No room; nothing due.
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  // The room value of a pool with `whole` whole free nodes and at most
  // `most` free devices on one node: a pool has at least RoomFor(k, g)
  // (k whole nodes, or a node with g free devices) when its value is at
  // most RoomFor's.
  static constexpr int64_t Room(int64_t whole, int most) { return -(whole * 256 + most); }
  static constexpr int64_t WholeNodes(int64_t k) { return -(k * 256); }
  static constexpr int64_t DevicesOnANode(int g) { return -g; }

  // Indexes `pools` (in list order), each with value[pool].
  void Build(std::span<const PoolId> pools, std::span<const int64_t> value);
  // The same, without a map from pool to position (PositionOf finds none,
  // Set does nothing): for an index beside another over the same list,
  // whose positions it goes by (SetAt).
  void BuildTree(std::span<const PoolId> pools, std::span<const int64_t> value);
  // Pool `p`'s value is now `value` (no-op for a pool not in the list).
  void Set(PoolId p, int64_t value);
  // Position `pos`'s value is now `value` (pos < size()).
  void SetAt(size_t pos, int64_t value);
  // The first position >= from whose value is <= `by`; size() when none.
  size_t NextAwake(size_t from, int64_t by) const;
  size_t size() const { return n_; }
  // Pool `p`'s position, or size() for a pool not in the list.
  size_t PositionOf(PoolId p) const {
    return p.value() < position_.size() && position_[p.value()] != kAbsent ? position_[p.value()] : n_;
  }
  // The tree itself, for an index laid out over the same positions
  // (PoolOrders::Plane): node i in [1, 2 * leaves()) holds the least value
  // below it; position k is node leaves() + k.
  size_t leaves() const { return leaves_; }
  int64_t Least(size_t node) const { return tree_[node]; }
  const int64_t* tree() const { return tree_.data(); }  // Least(node) is tree()[node]

 private:
  size_t n_ = 0;
  size_t leaves_ = 1;               // a power of two >= n_
  std::vector<int64_t> tree_;       // [1, 2 * leaves_): node i's children are 2i and 2i + 1
  std::vector<uint32_t> position_;  // per pool: its position, or kAbsent
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();
};

}  // namespace stargate::sched
