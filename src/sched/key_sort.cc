#include "sched/key_sort.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <utility>

namespace stargate::sched {
namespace {

// An unsigned integer that orders as the double does.
uint64_t Ordered(double key) {
  if (key == 0) key = 0;  // -0.0 ties with 0.0, as the doubles compare
  const uint64_t bits = std::bit_cast<uint64_t>(key);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

}  // namespace

void SortKeyed(std::vector<KeyedPool>* items) {
  const size_t n = items->size();
  // Few items sort faster by comparison.
  constexpr size_t kRadixFrom = 256;
  if (n < kRadixFrom) {
    std::sort(items->begin(), items->end());
    return;
  }
  // Digits, least significant first: the pool's two bytes, then the key's
  // eight; every digit's counts in one pass over the items.
  constexpr int kDigits = 10;
  std::vector<uint64_t> ordered(n);
  std::array<std::array<size_t, 256>, kDigits> counts{};
  bool pools_ascending = true;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t pool = (*items)[i].second;
    const uint64_t key = Ordered((*items)[i].first);
    ordered[i] = key;
    pools_ascending = pools_ascending && (i == 0 || (*items)[i - 1].second <= pool);
    ++counts[0][pool & 0xff];
    ++counts[1][pool >> 8];
    for (int d = 0; d < 8; ++d) ++counts[2 + d][(key >> (8 * d)) & 0xff];
  }
  std::vector<KeyedPool> scratch(n);
  std::vector<uint64_t> ordered_to(n);
  std::vector<KeyedPool>* from = items;
  std::vector<KeyedPool>* to = &scratch;
  // Items already in pool order need no pass by pool: the passes by key
  // keep ties in the order they come in.
  for (int digit = pools_ascending ? 2 : 0; digit < kDigits; ++digit) {
    std::array<size_t, 256>& start = counts[static_cast<size_t>(digit)];
    if (std::find(start.begin(), start.end(), n) != start.end()) continue;  // one value: in order already
    size_t at = 0;
    for (size_t& b : start) at += std::exchange(b, at);  // counts -> where each value starts
    for (size_t i = 0; i < n; ++i) {
      const size_t value =
          digit < 2 ? ((*from)[i].second >> (8 * digit)) & 0xff : (ordered[i] >> (8 * (digit - 2))) & 0xff;
      const size_t to_at = start[value]++;
      (*to)[to_at] = (*from)[i];
      ordered_to[to_at] = ordered[i];
    }
    std::swap(from, to);
    ordered.swap(ordered_to);
  }
  if (from != items) items->swap(scratch);
}

}  // namespace stargate::sched
