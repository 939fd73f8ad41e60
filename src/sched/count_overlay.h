// File: count_overlay.h
// A scheduling pass's exact view of "items bucketed by a count" minus what
// the pass itself has taken. The state keeps, per count c > 0, a bucket of
// the items that have exactly c (free devices on a node; whole free nodes in
// an NVLink domain or under a leaf switch), and is read-only during a pass;
// the pass takes from items and must see the reduced counts at O(1) per
// take, so a pass that places 10,000 gangs never rescans its own takes:
//  - an item taken for the first time leaves its state bucket: searches walk
//    buckets from the back, so a per-bucket cursor counts the taken entries
//    there, and an item taken out of that order (a repair spare found by a
//    domain scan, a node picked inside a chosen leaf) counts as a stray
//    until the cursor passes it;
//  - a taken item with some count left joins overlay[left].
// Clear() forgets only what the last pass touched; no allocation in steady
// state. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stargate::sched {

// The state side: buckets[c] lists the items with exactly c (c >= 1;
// buckets[0] is unused), in any order.
using CountBuckets = std::vector<std::vector<uint32_t>>;

class CountOverlay {
 public:
  // Sizes for items 0..items-1 with counts up to max_count; forgets all.
  void Init(uint32_t items, int max_count);
  bool sized_for(uint32_t items, int max_count) const {
    return taken_.size() == items && consumed_.size() == static_cast<std::size_t>(max_count) + 1;
  }
  // Forgets the takes of the last pass.
  void Clear();

  int Taken(uint32_t item) const { return taken_[item]; }
  // Items with at least `g` (>= 1) left after the takes.
  int64_t AtLeast(const CountBuckets& buckets, int g) const;
  // Whether AtLeast(buckets, g) >= want, counting from the largest count
  // down and stopping once there are enough (one bucket, usually).
  bool HasAtLeast(const CountBuckets& buckets, int g, int64_t want) const;
  // The most any item has left after the takes (0: none has any): the
  // largest g with HasAtLeast(buckets, g, 1), in one look down the counts.
  int Most(const CountBuckets& buckets) const;
  // Takes `n` from `item`, whose state count is `count` (n <= count - Taken).
  void Take(const CountBuckets& buckets, uint32_t item, int count, int n);

  // Visits the items with exactly `c` left after the takes, taken ones
  // first, then untouched state entries from the back of bucket c; `f(item)`
  // returns true to stop. Returns true if `f` stopped it. Do not Take while
  // visiting. Cost: the items visited plus the strays skipped.
  template <class F>
  bool ForEachWith(const CountBuckets& buckets, int c, F&& f) const {
    const std::vector<uint32_t>& over = overlay_[c];
    for (std::size_t i = over.size(); i-- > 0;) {
      if (f(over[i])) return true;
    }
    const std::vector<uint32_t>& bucket = buckets[c];
    for (std::size_t i = bucket.size() - consumed_[c]; i-- > 0;) {
      if (taken_[bucket[i]] != 0) continue;  // a stray
      if (f(bucket[i])) return true;
    }
    return false;
  }

 private:
  // Items with exactly `c` left after the takes: the state bucket's not
  // taken, and the overlay's.
  int64_t Left(const CountBuckets& buckets, int c) const {
    return static_cast<int64_t>(buckets[c].size()) - consumed_[c] - stray_[c] +
           static_cast<int64_t>(overlay_[c].size());
  }
  std::vector<int32_t> taken_;                  // per item
  std::vector<uint32_t> overlay_pos_;           // valid while the item is in an overlay list
  std::vector<uint32_t> touched_;               // items taken from this pass
  std::vector<uint32_t> consumed_;              // per count c
  std::vector<uint32_t> stray_;                 // per count c
  std::vector<std::vector<uint32_t>> overlay_;  // per count left
};

}  // namespace stargate::sched
