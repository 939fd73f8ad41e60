#include "twin/power_swings.h"

#include <gtest/gtest.h>

namespace stargate::twin {
namespace {

constexpr Time S(int64_t s) { return Time::Epoch() + Duration::Seconds(s); }

TEST(PowerSwings, ChangesAtOneInstantAreOneStep) {
  PowerSwings p;
  p.Level(S(0), 100);  // the starting level: no step
  p.Level(S(0), 130);  // jobs started in the first pass count against it
  p.Level(S(0), 160);
  EXPECT_EQ(p.largest_step_w(), 60);
  p.Level(S(10), 200);  // a stop and a start at one instant: the net move only
  p.Level(S(10), 150);
  EXPECT_EQ(p.largest_step_w(), 60);
  EXPECT_EQ(p.largest_ramp_w(), 60);  // 100 at 0 s (before the first pass) to 160
}

TEST(PowerSwings, ARampAddsStepsWithinTheWindow) {
  PowerSwings p(Duration::Minutes(1));
  p.Level(S(0), 0);
  p.Level(S(10), 20);
  p.Level(S(40), 50);
  p.Level(S(75), 70);  // 0 held until 10 s, before the minute up to 75 s
  EXPECT_EQ(p.largest_step_w(), 30);
  EXPECT_EQ(p.largest_ramp_w(), 50);  // 20 (held into the window) to 70
  p.Level(S(200), 0);                 // a fall counts as much as a rise
  EXPECT_EQ(p.largest_step_w(), 70);
  EXPECT_EQ(p.largest_ramp_w(), 70);
  EXPECT_EQ(PowerSwings().largest_step_w(), 0);
}

}  // namespace
}  // namespace stargate::twin
