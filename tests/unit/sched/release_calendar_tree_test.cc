// The calendar tree's O(log n) "when are x devices back" descent agrees with
// a plain walk over the gangs in end order, through random inserts and
// erases (including entries with equal end times).
#include "sched/release_calendar_tree.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "core/rng.h"

namespace stargate::sched {
namespace {

std::optional<ReleaseCalendarTree::Covering> Walk(const std::map<std::pair<int64_t, uint32_t>, int64_t>& ref,
                                                  int64_t x) {
  int64_t released = 0;
  for (const auto& [key, devices] : ref) {
    released += devices;
    if (released >= x)
      return ReleaseCalendarTree::Covering{ReleaseEntry{Time::FromNanos(key.first), JobId(key.second), devices},
                                           released};
  }
  return std::nullopt;
}

TEST(ReleaseCalendarTree, EmptyCoversNothing) {
  ReleaseCalendarTree t;
  EXPECT_EQ(t.total_devices(), 0);
  EXPECT_FALSE(t.FirstCovering(1).has_value());
}

TEST(ReleaseCalendarTree, FirstCoveringPicksTheGangThatClosesTheShortfall) {
  ReleaseCalendarTree t;
  t.Insert({Time::FromNanos(30), JobId(3), 8});
  t.Insert({Time::FromNanos(10), JobId(1), 4});
  t.Insert({Time::FromNanos(20), JobId(2), 16});
  EXPECT_EQ(t.total_devices(), 28);
  auto c = t.FirstCovering(4);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->entry.job, JobId(1));
  EXPECT_EQ(c->released, 4);
  c = t.FirstCovering(5);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->entry.job, JobId(2));
  EXPECT_EQ(c->released, 20);
  c = t.FirstCovering(28);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->entry.job, JobId(3));
  EXPECT_FALSE(t.FirstCovering(29).has_value());
  t.Erase({Time::FromNanos(20), JobId(2), 0});  // devices are not part of the key
  EXPECT_EQ(t.total_devices(), 12);
  c = t.FirstCovering(5);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->entry.job, JobId(3));
  EXPECT_EQ(c->released, 12);
}

TEST(ReleaseCalendarTree, AgreesWithAWalkUnderRandomChurn) {
  Rng rng(17);
  ReleaseCalendarTree t;
  std::map<std::pair<int64_t, uint32_t>, int64_t> ref;
  uint32_t next_job = 0;
  for (int step = 0; step < 4000; ++step) {
    if (ref.empty() || rng.Bernoulli(0.6)) {
      const int64_t end = static_cast<int64_t>(rng.Below(200));  // many equal ends
      const int64_t devices = 1 + static_cast<int64_t>(rng.Below(64));
      t.Insert({Time::FromNanos(end), JobId(next_job), devices});
      ref[{end, next_job}] = devices;
      ++next_job;
    } else {
      auto it = ref.begin();
      std::advance(it, static_cast<long>(rng.Below(ref.size())));
      t.Erase({Time::FromNanos(it->first.first), JobId(it->first.second), 0});
      ref.erase(it);
    }
    ASSERT_EQ(t.size(), ref.size());
    int64_t total = 0;
    for (const auto& kv : ref) total += kv.second;
    ASSERT_EQ(t.total_devices(), total);
    for (int q = 0; q < 4; ++q) {
      const int64_t x = 1 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(total) + 10));
      const auto want = Walk(ref, x);
      const auto got = t.FirstCovering(x);
      ASSERT_EQ(got.has_value(), want.has_value()) << "x=" << x;
      if (!want) continue;
      ASSERT_EQ(got->entry.job, want->entry.job) << "x=" << x;
      ASSERT_EQ(got->entry.end, want->entry.end);
      ASSERT_EQ(got->released, want->released);
    }
  }
}

}  // namespace
}  // namespace stargate::sched
