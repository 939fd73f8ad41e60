#include "sched/replica_autoscaler.h"

#include <gtest/gtest.h>

namespace stargate::sched {
namespace {

AutoscalePolicy Policy() {
  return AutoscalePolicy{/*min=*/2, /*max=*/6, /*target=*/4, Duration::Seconds(5), Duration::Seconds(30)};
}

Time At(int s) { return Time::FromNanos(int64_t{s} * 1'000'000'000); }

TEST(ReplicaAutoscaler, WantedIsCeilOfLoadOverTargetWithinBounds) {
  ReplicaAutoscaler a(Policy());
  EXPECT_EQ(a.Wanted(0), 2);
  EXPECT_EQ(a.Wanted(8), 2);
  EXPECT_EQ(a.Wanted(8.5), 3);
  EXPECT_EQ(a.Wanted(16), 4);
  EXPECT_EQ(a.Wanted(1000), 6);
}

TEST(ReplicaAutoscaler, ScalesUpOnlyAfterTheLoadPersists) {
  ReplicaAutoscaler a(Policy());
  EXPECT_EQ(a.Observe(At(0), 20, 2), 2);
  EXPECT_EQ(a.Observe(At(3), 20, 2), 2);
  EXPECT_EQ(a.Observe(At(5), 20, 2), 5);  // ceil(20 / 4), at once
  // A short burst is absorbed: the window starts again after a quiet second.
  EXPECT_EQ(a.Observe(At(10), 30, 5), 5);
  EXPECT_EQ(a.Observe(At(11), 16, 5), 5);
  EXPECT_EQ(a.Observe(At(12), 30, 5), 5);
  EXPECT_EQ(a.Observe(At(16), 30, 5), 5);
  EXPECT_EQ(a.Observe(At(17), 30, 5), 6);
}

TEST(ReplicaAutoscaler, ScalesDownOneAtATimeAfterALongLull) {
  ReplicaAutoscaler a(Policy());
  EXPECT_EQ(a.Observe(At(0), 0, 5), 5);
  EXPECT_EQ(a.Observe(At(29), 0, 5), 5);
  EXPECT_EQ(a.Observe(At(30), 0, 5), 4);
  EXPECT_EQ(a.Observe(At(31), 0, 4), 4);
  EXPECT_EQ(a.Observe(At(60), 0, 4), 3);
  EXPECT_EQ(a.Observe(At(90), 0, 3), 2);
  EXPECT_EQ(a.Observe(At(500), 0, 2), 2);  // never below min
}

TEST(ReplicaAutoscaler, CountsOutsideThePolicyAreFixedAtOnce) {
  ReplicaAutoscaler a(Policy());
  EXPECT_EQ(a.Observe(At(0), 0, 0), 2);
  EXPECT_EQ(a.Observe(At(1), 0, 9), 6);
}

}  // namespace
}  // namespace stargate::sched
