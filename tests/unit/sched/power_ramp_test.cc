#include "sched/power_ramp.h"

#include <gtest/gtest.h>

#include "model/power.h"
#include "model/power_cap.h"

namespace stargate::sched {
namespace {

constexpr Time S(int64_t s) { return Time::Epoch() + Duration::Seconds(s); }

TEST(PowerRamp, AGangRisesFromIdleToRunningInTwoParts) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const double per_device = model::DevicePower(h100, 0.8).value() - model::DevicePower(h100, 0).value();
  EXPECT_NEAR(GangRiseWatts(AcceleratorType::kH100, 16, 0.8, 0, 1.25), 16 * per_device * 1.25, 1e-6);
  const Rise r = GangRise(AcceleratorType::kH100, 16, 0.8, 0, 1.25);
  EXPECT_NEAR(r.total(), 16 * per_device * 1.25, 1e-6);
  // The launch goes to the lowest limit an agent sets; the rest rises.
  EXPECT_NEAR(r.step_w, GangRiseWatts(AcceleratorType::kH100, 16, 0.8, model::kMinCapFraction, 1.25), 1e-6);
  EXPECT_GT(r.step_w, 0);
  EXPECT_GT(r.ramp_w, 0);
  // Under a cap the gang rises less.
  EXPECT_LT(GangRise(AcceleratorType::kH100, 16, 0.8, 0.6, 1.25).total(), r.total());
}

TEST(PowerRamp, RisesAtOneSiteQueueOnItsChannelInWholeSeconds) {
  RampChannels c;
  const Rise rise{1000, 2500};  // 1 kW at launch, 2.5 kW after
  const RampSlot a = c.Take("a", rise, 1000, S(10));
  EXPECT_EQ(a.after, Duration::Zero());
  EXPECT_EQ(a.hold, Duration::Seconds(1));
  EXPECT_EQ(a.up, Duration::Seconds(3));  // ceil(2.5)
  // The next waits for the first's 4 s and a second's rest before its
  // own launch step.
  const RampSlot b = c.Take("a", rise, 1000, S(11));
  EXPECT_EQ(b.after, Duration::Seconds(4));
  // Another site's channel is its own; a free channel starts at once.
  EXPECT_EQ(c.Take("d", rise, 1000, S(11)).after, Duration::Zero());
  EXPECT_EQ(c.Take("a", rise, 1000, S(100)).after, Duration::Zero());
  // No rate, no ramp.
  const RampSlot none = c.Take("b", rise, 0, S(0));
  EXPECT_EQ(none.hold + none.up + none.after, Duration::Zero());
}

TEST(PowerRamp, FallsAtOneSiteTakeTurnsAndHoldBackTheNextRise) {
  RampChannels c;
  const Rise drawn{1000, 2500};  // the floor's step takes 1 s, the rest 3
  // The first falls at once: 3 s of steps, the floor held 1 s, released,
  // a second's rest.
  EXPECT_EQ(c.Fall("a", drawn, 1000, S(10)), Duration::Zero());
  // One stopping beside it waits for all of that.
  EXPECT_EQ(c.Fall("a", drawn, 1000, S(11)), Duration::Seconds(4));
  // A third, at the same instant, after the second.
  EXPECT_EQ(c.Fall("a", drawn, 1000, S(11)), Duration::Seconds(9));
  // Another site's falls are its own; an idle channel's fall is at once.
  EXPECT_EQ(c.Fall("b", drawn, 1000, S(11)), Duration::Zero());
  EXPECT_EQ(c.Fall("a", drawn, 1000, S(100)), Duration::Zero());
  // A rise launches after the falls and a rest.
  EXPECT_EQ(c.Take("a", drawn, 1000, S(100)).after, Duration::Seconds(6));
  // No rate or nothing drawn: no fall.
  EXPECT_EQ(c.Fall("c", drawn, 0, S(0)), Duration::Zero());
  EXPECT_EQ(c.Fall("c", Rise{}, 1000, S(0)), Duration::Zero());
}

TEST(PowerRamp, AFallWaitsAtMostTheLongestHold) {
  RampChannels c;
  const Rise big{0, 400'000};  // 400 s of steps each
  EXPECT_EQ(c.Fall("a", big, 1000, S(0)), Duration::Zero());
  EXPECT_EQ(c.Fall("a", big, 1000, S(0)), Duration::Seconds(400));
  // The third would wait 800 s: it is held kMaxFallWait and falls beside
  // the second; so do the next, and the channel counts their ends.
  EXPECT_EQ(c.Fall("a", big, 1000, S(0)), kMaxFallWait);
  EXPECT_EQ(c.Fall("a", big, 1000, S(0)), kMaxFallWait);
  EXPECT_EQ(c.Take("a", big, 1000, S(0)).after, kMaxFallWait + Duration::Seconds(400));
  EXPECT_EQ(c.held_falls(), 3);  // all but the first
  EXPECT_EQ(c.overdue_falls(), 2);
}

TEST(PowerRamp, OnlyStartsAtRampLimitedSitesAreChoreographed) {
  SiteSpec limited, free;
  limited.name = "limited";
  limited.power_ramp.mw_per_min = 0.06;  // 1 kW/s
  free.name = "free";
  for (SiteSpec* s : {&limited, &free}) s->pools.push_back(PoolSpec{AcceleratorType::kH100, 4, 8, 1, 1});
  ClusterState state({limited, free});
  EXPECT_DOUBLE_EQ(state.site(SiteId(0)).ramp_w_per_s, 1000);
  EXPECT_EQ(state.site(SiteId(1)).ramp_w_per_s, 0);
  Queue queue;
  for (uint32_t j = 0; j < 3; ++j) {
    JobRequest req;
    req.id = JobId(j);
    req.accelerators = 8;
    req.utilisation = 0.8;
    queue.Push(req);
  }
  Decisions d;
  d.items.push_back(Start{JobId(0), SiteId(0), PoolId(0), {NodeId(0)}, 8, "why"});
  d.items.push_back(Start{JobId(1), SiteId(0), PoolId(0), {NodeId(1)}, 8, "why"});
  d.items.push_back(Start{JobId(2), SiteId(1), PoolId(1), {NodeId(4)}, 8, "why"});
  RampChannels c;
  c.Choreograph(state, queue, S(0), &d);
  const auto& first = std::get<Start>(d.items[0]);
  const auto& second = std::get<Start>(d.items[1]);
  const auto& elsewhere = std::get<Start>(d.items[2]);
  EXPECT_EQ(first.ramp_after, Duration::Zero());
  EXPECT_GT(first.ramp_up, Duration::Zero());
  EXPECT_EQ(second.ramp_after, first.ramp_hold + first.ramp_up + second.ramp_hold);  // staggered
  EXPECT_NE(first.reason.find("power ramp"), std::string::npos) << first.reason;
  EXPECT_EQ(elsewhere.ramp_after + elsewhere.ramp_hold + elsewhere.ramp_up, Duration::Zero());
  EXPECT_EQ(elsewhere.reason, "why");
}

}  // namespace
}  // namespace stargate::sched
