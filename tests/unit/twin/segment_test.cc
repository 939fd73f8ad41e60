#include "twin/segment.h"

#include <gtest/gtest.h>

namespace stargate::twin {
namespace {

constexpr Duration M(int64_t m) { return Duration::Minutes(m); }

TEST(Segment, WallPaysRestartAndOneWritePerFullInterval) {
  Segment s{M(10), M(100), M(30), M(1)};
  EXPECT_EQ(s.Wall(), M(10) + M(100) + M(3));  // checkpoints after 30, 60, 90
  Segment exact{M(0), M(90), M(30), M(1)};
  EXPECT_EQ(exact.Wall(), M(90) + M(2));  // none at the very end
  Segment none{M(5), M(100), Duration::Zero(), M(1)};
  EXPECT_EQ(none.Wall(), M(105));
}

TEST(Segment, InterruptionKeepsOnlyCheckpointedWork) {
  Segment s{M(10), M(100), M(30), M(1)};
  EXPECT_EQ(s.SavedBy(M(5)), Duration::Zero());           // still restarting
  EXPECT_EQ(s.SavedBy(M(10) + M(30)), Duration::Zero());  // writing the first one
  EXPECT_EQ(s.SavedBy(M(10) + M(31)), M(30));
  EXPECT_EQ(s.SavedBy(M(10) + M(93)), M(90));
  EXPECT_EQ(s.DoneBy(M(10) + M(45)), M(44));  // 30 saved + 14 in flight
  Segment none{M(0), M(100), Duration::Zero(), M(1)};
  EXPECT_EQ(none.SavedBy(M(99)), Duration::Zero());
  EXPECT_EQ(none.DoneBy(M(99)), M(99));
}

TEST(Segment, AWarningLetsAJobSaveWhatItHasDone) {
  Segment s{M(10), M(100), M(30), M(1), Duration::Zero()};
  // Warned 45 min in (44 done, 30 saved), stopped 2 min later: the warning
  // checkpoint (1 min) is durable in time, so all 44 count.
  EXPECT_EQ(s.SavedOnStop(M(10) + M(45), M(2)), M(44));
  // A warning shorter than the write keeps only the regular checkpoints.
  Segment slow{M(10), M(100), M(30), M(5), Duration::Zero()};
  EXPECT_EQ(slow.SavedOnStop(M(10) + M(45), M(2)), M(30));
  // Async: the state is durable the lag after the stall.
  Segment async{M(0), M(100), M(30), M(1), M(3)};
  EXPECT_EQ(async.SavedOnStop(M(40), M(3)), M(30));
  EXPECT_EQ(async.SavedOnStop(M(40), M(4)), async.DoneBy(M(40)));
  // Without checkpoints nothing survives a stop.
  Segment none{M(0), M(100), Duration::Zero(), M(1), Duration::Zero()};
  EXPECT_EQ(none.SavedOnStop(M(50), M(10)), Duration::Zero());
}

TEST(Segment, AsyncCheckpointsCountOnceDurable) {
  Segment s;
  s.restart = Duration::Minutes(1);
  s.useful = Duration::Hours(10);
  s.interval = Duration::Hours(1);
  s.write = Duration::Seconds(1);  // the stall
  s.lag = Duration::Minutes(2);    // persisted behind it
  const Duration first_done = Duration::Minutes(1) + Duration::Hours(1) + Duration::Seconds(1);
  EXPECT_EQ(s.SavedBy(first_done), Duration::Zero());
  EXPECT_EQ(s.SavedBy(first_done + Duration::Minutes(2) - Duration::Nanos(1)), Duration::Zero());
  EXPECT_EQ(s.SavedBy(first_done + Duration::Minutes(2)), Duration::Hours(1));
  // The stall, not the persist, is what the run pays.
  EXPECT_EQ(s.Wall(), Duration::Minutes(1) + Duration::Hours(10) + Duration::Seconds(9));
}

TEST(Segment, DoneNeverExceedsUseful) {
  Segment s{M(0), M(50), M(30), M(1)};
  EXPECT_EQ(s.DoneBy(M(500)), M(50));
  EXPECT_EQ(s.SavedBy(M(500)), M(50));
}

// A job running when the run began, 20 min past its last checkpoint
// (interval 30): its next checkpoint comes 10 min in, and an interruption
// before that loses the 20 min too.
TEST(Segment, AHeadShiftsTheCheckpointsAndIsLostBeforeTheFirst) {
  Segment s{M(0), M(100), M(30), M(1), Duration::Zero(), M(20)};
  EXPECT_EQ(s.Wall(), M(100) + M(3));  // checkpoints 10, 40, 70, 100 min of compute in: the last is the end
  EXPECT_EQ(s.DoneBy(M(5)), M(5));
  EXPECT_EQ(s.SavedBy(M(5)), Duration::Zero() - M(20));  // the head is lost with the rest
  EXPECT_EQ(s.SavedBy(M(12)), M(10));                    // the first checkpoint, 10 min in, covers it
  EXPECT_EQ(s.DoneBy(M(12)), M(11));
  Segment none{M(0), M(100), Duration::Zero(), Duration::Zero(), Duration::Zero(), M(20)};
  EXPECT_EQ(none.Wall(), M(100));
  EXPECT_EQ(none.SavedBy(M(99)), Duration::Zero() - M(20));  // no checkpoints: all it did is at stake
}

}  // namespace
}  // namespace stargate::twin
