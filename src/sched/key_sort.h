// File: key_sort.h
// Sorts (key, pool) pairs by key, ties by pool, exactly as std::sort on the
// pairs does, in a few linear passes: the pool orders (pool_orders.h) sort
// every pool of a network by each site key every simulated hour, and over
// 10,000 sites the comparison sort was a quarter of a twin run.
//
// A least-significant-digit radix sort: the pool's two bytes, then the
// eight bytes of the key mapped to an unsigned integer that orders as the
// double does (-0.0 taken as 0.0; keys are never NaN). Every digit is
// counted in one pass; a byte that every item shares is skipped, and so
// are the pool's bytes when the items come in pool order (a type's pools
// do). Pure.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace stargate::sched {

using KeyedPool = std::pair<double, uint16_t>;

// Sorts `items`.
void SortKeyed(std::vector<KeyedPool>* items);

}  // namespace stargate::sched
