// File: release_calendar_tree.h
// One pool's running gangs ordered by expected end, with the devices of
// every subtree summed, so "when have `x` devices come back?" is one
// O(log n) descent instead of a walk over the gangs ending first. Backfill,
// waiting and deferral ask that question for every pool on every pass; on
// a 10 GW network a pool runs tens of thousands of gangs.
//
// Built on libstdc++'s policy-based red-black tree (__gnu_pbds), whose node
// update hook keeps the sums; no I/O, no globals.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

#include "core/ids.h"
#include "core/units.h"

namespace stargate::sched {

// An entry of a pool's release calendar, in end order.
struct ReleaseEntry {
  Time end;
  JobId job;
  int64_t devices = 0;
  bool operator<(const ReleaseEntry& o) const { return end != o.end ? end < o.end : job < o.job; }
};

namespace internal {

// Keeps, at every node, the devices of its subtree.
template <class NodeCItr, class NodeItr, class CmpFn, class Alloc>
struct DeviceSumUpdate {
  using metadata_type = int64_t;
  void operator()(NodeItr it, NodeCItr end) {
    const NodeItr l = it.get_l_child();
    const NodeItr r = it.get_r_child();
    int64_t sum = (*it)->devices;
    if (l != end) sum += l.get_metadata();
    if (r != end) sum += r.get_metadata();
    const_cast<int64_t&>(it.get_metadata()) = sum;
  }
  virtual NodeCItr node_begin() const = 0;
  virtual NodeCItr node_end() const = 0;
  virtual ~DeviceSumUpdate() = default;
};

using ReleaseTreeBase = __gnu_pbds::tree<ReleaseEntry, __gnu_pbds::null_type, std::less<ReleaseEntry>,
                                         __gnu_pbds::rb_tree_tag, DeviceSumUpdate>;

}  // namespace internal

class ReleaseCalendarTree : private internal::ReleaseTreeBase {
 public:
  using Base = internal::ReleaseTreeBase;
  using Base::begin;
  using Base::empty;
  using Base::end;
  using Base::size;

  void Insert(const ReleaseEntry& e) { insert(e); }
  // Erases the entry with e's (end, job); devices are not compared.
  void Erase(const ReleaseEntry& e) { erase(e); }
  int64_t total_devices() const { return node_begin() == node_end() ? 0 : node_begin().get_metadata(); }

  // The first gang (in end order) by whose end at least `x` > 0 devices have
  // come back, and the devices back by then; nullopt if all together give
  // fewer than `x`.
  struct Covering {
    ReleaseEntry entry;
    int64_t released = 0;
  };
  std::optional<Covering> FirstCovering(int64_t x) const {
    if (total_devices() < x) return std::nullopt;
    int64_t before = 0;  // devices in entries left of the current subtree
    auto it = node_begin();
    const auto null = node_end();
    for (;;) {
      const auto l = it.get_l_child();
      const int64_t left = l == null ? 0 : l.get_metadata();
      if (before + left >= x) {
        it = l;
        continue;
      }
      before += left + (*it)->devices;
      if (before >= x) return Covering{**it, before};
      it = it.get_r_child();
    }
  }
  // The first gang to end after `t`, or nullopt. O(1) when none is
  // overdue (the first gang ends after `t`), else O(log n).
  std::optional<ReleaseEntry> FirstEndingAfter(Time t) const {
    if (empty()) return std::nullopt;
    if (begin()->end > t) return *begin();
    const auto it = upper_bound(ReleaseEntry{t, JobId(std::numeric_limits<uint32_t>::max()), 0});
    if (it == Base::end()) return std::nullopt;
    return *it;
  }
};

}  // namespace stargate::sched
