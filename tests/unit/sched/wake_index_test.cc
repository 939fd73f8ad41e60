// WakeIndex: NextAwake against a scan of the values, over random lists,
// values, updates and bounds; room values order as WakeIndex::Room says.
#include "sched/wake_index.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "core/rng.h"

namespace stargate::sched {
namespace {

TEST(WakeIndex, NextAwakeFindsWhatAScanFinds) {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t pools = 1 + rng.Below(70);
    std::vector<int64_t> value(pools + 3);  // some pools not in the list
    for (int64_t& v : value) v = rng.Bernoulli(0.2) ? WakeIndex::kNever : static_cast<int64_t>(rng.Below(100));
    // Distinct pools in a shuffled order, as an order lists them.
    std::vector<PoolId> list;
    for (size_t i = 0; i < value.size(); ++i) list.push_back(PoolId(static_cast<uint16_t>(i)));
    for (size_t i = list.size() - 1; i > 0; --i) std::swap(list[i], list[rng.Below(i + 1)]);
    list.resize(pools);
    WakeIndex index, beside;  // `beside` goes by index's positions (BuildTree, SetAt), rebuilt now and then
    index.Build(list, value);
    beside.BuildTree(list, value);
    ASSERT_EQ(index.size(), pools);
    ASSERT_EQ(beside.size(), pools);
    for (int step = 0; step < 50; ++step) {
      if (rng.Bernoulli(0.3)) {
        const PoolId p(static_cast<uint16_t>(rng.Below(value.size())));
        value[p.value()] = rng.Bernoulli(0.2) ? WakeIndex::kNever : static_cast<int64_t>(rng.Below(100));
        index.Set(p, value[p.value()]);
        if (const size_t pos = index.PositionOf(p); pos < index.size()) beside.SetAt(pos, value[p.value()]);
      }
      if (rng.Bernoulli(0.05)) beside.BuildTree(list, value);
      const size_t from = rng.Below(pools + 2);
      const int64_t by = static_cast<int64_t>(rng.Below(110)) - 5;
      size_t want = from;
      while (want < pools && value[list[want].value()] > by) ++want;
      EXPECT_EQ(index.NextAwake(from, by), std::min(want, pools)) << "trial " << trial << " from " << from;
      EXPECT_EQ(beside.NextAwake(from, by), std::min(want, pools)) << "trial " << trial << " from " << from;
    }
  }
}

TEST(WakeIndex, RoomValuesOrderByWholeNodesThenDevices) {
  // Two whole nodes hold a gang of two whole nodes; one does not.
  EXPECT_LE(WakeIndex::Room(2, 8), WakeIndex::WholeNodes(2));
  EXPECT_GT(WakeIndex::Room(1, 8), WakeIndex::WholeNodes(2));
  // A node with 4 free devices holds 4 on a node, not 5; any whole node does.
  EXPECT_LE(WakeIndex::Room(0, 4), WakeIndex::DevicesOnANode(4));
  EXPECT_GT(WakeIndex::Room(0, 4), WakeIndex::DevicesOnANode(5));
  EXPECT_LE(WakeIndex::Room(1, 4), WakeIndex::DevicesOnANode(8));
  EXPECT_LT(WakeIndex::Room(0, 1), WakeIndex::kNever);
}

}  // namespace
}  // namespace stargate::sched
