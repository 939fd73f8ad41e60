// SortKeyed orders (key, pool) pairs exactly as std::sort does: by key as
// doubles compare (negative keys, both zeros, ties), then by pool.
#include "sched/key_sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "core/rng.h"

namespace stargate::sched {
namespace {

TEST(KeySort, SortsAsTheComparisonSortDoes) {
  Rng rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = rng.Below(3'000);
    std::vector<KeyedPool> items;
    for (size_t i = 0; i < n; ++i) {
      double key = 0;
      switch (rng.Below(6)) {
        case 0:
          key = 0.0;
          break;
        case 1:
          key = -0.0;
          break;
        case 2:
          key = static_cast<double>(rng.Below(5));  // ties
          break;
        case 3:
          key = -1e3 * rng.Uniform();
          break;
        case 4:
          key = 1e-300 * rng.Uniform();
          break;
        default:
          key = 1e6 * rng.Uniform();
      }
      items.emplace_back(key, static_cast<uint16_t>(rng.Below(65'536)));
    }
    // Every other trial in pool order, as a type's pools come (the sort
    // then skips its passes by pool).
    if (trial % 2 == 1) {
      std::vector<uint16_t> pools;
      for (const KeyedPool& item : items) pools.push_back(item.second);
      std::sort(pools.begin(), pools.end());
      for (size_t i = 0; i < n; ++i) items[i].second = pools[i];
    }
    std::vector<KeyedPool> want = items;
    std::sort(want.begin(), want.end());
    SortKeyed(&items);
    ASSERT_EQ(items.size(), want.size());
    for (size_t i = 0; i < n; ++i) {
      // -0.0 and 0.0 compare equal: either may stand where the other does.
      ASSERT_TRUE(items[i].first == want[i].first && items[i].second == want[i].second)
          << "trial " << trial << " at " << i << ": " << items[i].first << "/" << items[i].second << " want "
          << want[i].first << "/" << want[i].second;
    }
  }
}

}  // namespace
}  // namespace stargate::sched
