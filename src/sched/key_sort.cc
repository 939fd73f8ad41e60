#include "sched/key_sort.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>

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
  std::vector<KeyedPool> scratch(n);
  std::vector<uint64_t> ordered(n), ordered_to(n);
  std::vector<KeyedPool>* from = items;
  std::vector<KeyedPool>* to = &scratch;
  for (size_t i = 0; i < n; ++i) ordered[i] = Ordered((*items)[i].first);
  // Digits, least significant first: the pool's two bytes, then the key's eight.
  for (int digit = 0; digit < 10; ++digit) {
    auto byte = [&](size_t i) -> size_t {
      return digit < 2 ? ((*from)[i].second >> (8 * digit)) & 0xff : (ordered[i] >> (8 * (digit - 2))) & 0xff;
    };
    std::array<size_t, 257> start{};
    for (size_t i = 0; i < n; ++i) ++start[byte(i) + 1];
    if (std::find(start.begin() + 1, start.end(), n) != start.end()) continue;  // one value: in order already
    for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
    for (size_t i = 0; i < n; ++i) {
      const size_t at = start[byte(i)]++;
      (*to)[at] = (*from)[i];
      ordered_to[at] = ordered[i];
    }
    std::swap(from, to);
    ordered.swap(ordered_to);
  }
  if (from != items) items->swap(scratch);
}

}  // namespace stargate::sched
