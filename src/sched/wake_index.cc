#include "sched/wake_index.h"

#include <algorithm>

namespace stargate::sched {

void WakeIndex::Build(std::span<const PoolId> pools, std::span<const int64_t> value) {
  BuildTree(pools, value);
  position_.assign(value.size(), kAbsent);
  for (size_t i = 0; i < n_; ++i) position_[pools[i].value()] = static_cast<uint32_t>(i);
}

void WakeIndex::BuildTree(std::span<const PoolId> pools, std::span<const int64_t> value) {
  n_ = pools.size();
  leaves_ = 1;
  while (leaves_ < n_) leaves_ *= 2;
  tree_.resize(2 * leaves_);
  for (size_t i = 0; i < n_; ++i) tree_[leaves_ + i] = value[pools[i].value()];
  std::fill(tree_.begin() + static_cast<std::ptrdiff_t>(leaves_ + n_), tree_.end(), kNever);
  tree_[0] = kNever;  // (no node)
  for (size_t i = leaves_ - 1; i >= 1; --i) tree_[i] = std::min(tree_[2 * i], tree_[2 * i + 1]);
  position_.clear();
}

void WakeIndex::Set(PoolId p, int64_t value) {
  if (p.value() >= position_.size() || position_[p.value()] == kAbsent) return;
  SetAt(position_[p.value()], value);
}

void WakeIndex::SetAt(size_t pos, int64_t value) {
  size_t i = leaves_ + pos;
  tree_[i] = value;
  for (i /= 2; i >= 1; i /= 2) {
    const int64_t m = std::min(tree_[2 * i], tree_[2 * i + 1]);
    if (tree_[i] == m) break;  // nothing above changes
    tree_[i] = m;
  }
}

size_t WakeIndex::NextAwake(size_t from, int64_t by) const {
  // None anywhere (a full type, asked for by each job that cannot start).
  if (from >= n_ || tree_[1] > by) return n_;
  size_t i = leaves_ + from;
  if (tree_[i] > by) {
    // Up until a right sibling holds such a value, then down to its
    // leftmost such leaf.
    for (;;) {
      if (i == 1) return n_;
      if (i % 2 == 0 && tree_[i + 1] <= by) {
        ++i;
        break;
      }
      i /= 2;
    }
    while (i < leaves_) {
      i *= 2;
      if (tree_[i] > by) ++i;
    }
  }
  return std::min(i - leaves_, n_);
}

}  // namespace stargate::sched
