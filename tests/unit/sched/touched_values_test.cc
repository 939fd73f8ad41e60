#include "sched/touched_values.h"

#include <gtest/gtest.h>

namespace stargate::sched {
namespace {

TEST(TouchedValues, EachResetStartsEveryValueFromZero) {
  TouchedValues<double> v;
  v.Reset(5);
  ASSERT_EQ(v.size(), 5u);
  v.Add(1, 2.5);
  v.Add(3, 1.0);
  v.Add(3, -1.0);  // back to zero: still cleared below
  v.Add(3, 4.0);
  v.Add(4, 0.0);  // adds nothing
  EXPECT_EQ(v[1], 2.5);
  EXPECT_EQ(v[3], 4.0);
  v.Reset(5);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(v[i], 0.0) << i;
  v.Add(0, 7.0);
  v.Reset(3);  // another size: all anew
  ASSERT_EQ(v.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(v[i], 0.0) << i;
}

}  // namespace
}  // namespace stargate::sched
