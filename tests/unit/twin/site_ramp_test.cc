#include "twin/site_ramp.h"

#include <gtest/gtest.h>

namespace stargate::twin {
namespace {

constexpr Time S(int64_t s) { return Time::Epoch() + Duration::Seconds(s); }

TEST(SiteRamp, APlannedRiseStepsAtLaunchThenOnceASecond) {
  SiteRamp r(1000);
  // Launch in 5 s to the floor (+1 kW), hold 1 s, then 3 kW over 3 s.
  r.Plan(7, S(0), sched::RampSlot{Duration::Seconds(5), Duration::Seconds(1), Duration::Seconds(3)},
         sched::Rise{1000, 3000});
  EXPECT_EQ(r.offset_w(), -4000);  // counted running, drawing idle
  EXPECT_EQ(r.Advance(S(0)), S(5));
  EXPECT_EQ(r.Advance(S(5)), S(6));
  EXPECT_EQ(r.offset_w(), -3000);
  EXPECT_EQ(r.Advance(S(6)), S(7));
  EXPECT_EQ(r.offset_w(), -2000);
  EXPECT_EQ(r.Advance(S(7)), S(8));
  EXPECT_EQ(r.Advance(S(8)), Time::Never());
  EXPECT_EQ(r.offset_w(), 0);
}

TEST(SiteRamp, AStoppedGangIsHeldAndFallsItsRiseBackwards) {
  SiteRamp r(1000);
  r.Stop(1, sched::Rise{1000, 2500}, S(10));  // a gang running at full: all of it held
  EXPECT_EQ(r.offset_w(), 3500);
  EXPECT_EQ(r.Advance(S(10)), S(11));
  // The part above the floor in three steps (ceil(2.5)), then the floor.
  EXPECT_EQ(r.Advance(S(11)), S(12));
  EXPECT_NEAR(r.offset_w(), 3500 - 2500.0 / 3, 1e-9);
  EXPECT_EQ(r.Advance(S(12)), S(13));
  EXPECT_EQ(r.Advance(S(13)), S(14));
  EXPECT_NEAR(r.offset_w(), 1000, 1e-9);
  EXPECT_EQ(r.Advance(S(14)), Time::Never());
  EXPECT_EQ(r.offset_w(), 0);
  EXPECT_NEAR(r.held_j(), 3500 + (3500 - 2500.0 / 3) + (3500 - 5000.0 / 3) + 1000, 1e-6);
}

TEST(SiteRamp, AFallToldToWaitIsHeldAtItsDrawUntilItsTurn) {
  SiteRamp r(1000);
  r.Stop(1, sched::Rise{0, 2000}, S(0));  // falls at once: 1 kW a second
  r.Stop(2, sched::Rise{0, 2000}, S(0));
  r.DelayFall(2, Duration::Seconds(3));  // after the first and a rest
  EXPECT_EQ(r.Advance(S(0)), S(1));
  EXPECT_EQ(r.Advance(S(1)), S(2));
  EXPECT_EQ(r.offset_w(), 3000);  // only the first stepped
  EXPECT_EQ(r.Advance(S(2)), S(4));
  EXPECT_EQ(r.offset_w(), 2000);  // the second still held whole
  EXPECT_EQ(r.Advance(S(4)), S(5));
  EXPECT_EQ(r.offset_w(), 1000);
  EXPECT_EQ(r.Advance(S(5)), Time::Never());
  EXPECT_EQ(r.offset_w(), 0);
  // 2 kW for 3 s waiting, then 2 and 1 kW for a second each; the first
  // drew 2 and 1 kW.
  EXPECT_NEAR(r.held_j(), 4000 + 3000 + 2000 + 2000 + 1000, 1e-6);
}

TEST(SiteRamp, AGangStoppedMidRiseHoldsOnlyWhatItDrew) {
  SiteRamp r(1000);
  r.Plan(3, S(0), sched::RampSlot{Duration::Zero(), Duration::Seconds(1), Duration::Seconds(4)},
         sched::Rise{1000, 4000});
  r.Advance(S(0));  // launched: 1 kW drawn
  r.Advance(S(1));  // +1 kW
  r.Stop(3, sched::Rise{1000, 4000}, S(1));
  EXPECT_EQ(r.offset_w(), 2000);  // nothing left to rise; 2 kW held
  EXPECT_EQ(r.Advance(S(1)), S(2));
  EXPECT_EQ(r.Advance(S(2)), S(3));
  EXPECT_EQ(r.offset_w(), 1000);  // the part above the floor, then the floor
  r.Clear(S(2));
  EXPECT_EQ(r.offset_w(), 0);
  EXPECT_EQ(r.Advance(S(3)), Time::Never());
}

}  // namespace
}  // namespace stargate::twin
