#include "sched/count_overlay.h"

#include <algorithm>
#include <cassert>

namespace stargate::sched {

void CountOverlay::Init(uint32_t items, int max_count) {
  taken_.assign(items, 0);
  overlay_pos_.assign(items, 0);
  touched_.clear();
  consumed_.assign(max_count + 1, 0);
  stray_.assign(max_count + 1, 0);
  overlay_.assign(max_count + 1, {});
}

void CountOverlay::Clear() {
  if (touched_.empty()) return;
  for (uint32_t item : touched_) taken_[item] = 0;
  touched_.clear();
  std::fill(consumed_.begin(), consumed_.end(), 0);
  std::fill(stray_.begin(), stray_.end(), 0);
  for (auto& list : overlay_) list.clear();
}

int64_t CountOverlay::AtLeast(const CountBuckets& buckets, int g) const {
  int64_t n = 0;
  const int max_count = static_cast<int>(consumed_.size()) - 1;
  for (int c = std::max(g, 1); c <= max_count; ++c) {
    n += Left(buckets, c);
  }
  return n;
}

bool CountOverlay::HasAtLeast(const CountBuckets& buckets, int g, int64_t want) const {
  if (want <= 0) return true;
  int64_t n = 0;
  for (int c = static_cast<int>(consumed_.size()) - 1; c >= std::max(g, 1); --c) {
    n += Left(buckets, c);
    if (n >= want) return true;
  }
  return false;
}

int CountOverlay::Most(const CountBuckets& buckets) const {
  for (int c = static_cast<int>(consumed_.size()) - 1; c >= 1; --c) {
    if (Left(buckets, c) > 0) return c;
  }
  return 0;
}

void CountOverlay::Take(const CountBuckets& buckets, uint32_t item, int count, int n) {
  const int before = taken_[item];
  assert(count - before >= n);
  taken_[item] = before + n;
  if (before == 0) {
    // Leaves state bucket `count`: a stray, until the cursor swallows every
    // taken entry now at the bucket's back.
    touched_.push_back(item);
    const std::vector<uint32_t>& bucket = buckets[count];
    ++stray_[count];
    uint32_t& consumed = consumed_[count];
    while (consumed < bucket.size() && taken_[bucket[bucket.size() - 1 - consumed]] != 0) {
      ++consumed;
      --stray_[count];
    }
  } else if (count - before > 0) {
    // Leaves overlay[left before]: swap-remove.
    std::vector<uint32_t>& list = overlay_[count - before];
    const uint32_t pos = overlay_pos_[item];
    list[pos] = list.back();
    overlay_pos_[list[pos]] = pos;
    list.pop_back();
  }
  const int left = count - before - n;
  if (left > 0) {
    overlay_pos_[item] = static_cast<uint32_t>(overlay_[left].size());
    overlay_[left].push_back(item);
  }
}

}  // namespace stargate::sched
