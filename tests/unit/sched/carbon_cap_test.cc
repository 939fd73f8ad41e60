#include "sched/carbon_cap.h"

#include <gtest/gtest.h>

namespace stargate::sched {
namespace {

ClusterState OneSite(double now, double ahead) {
  SiteSpec s;
  s.name = "a";
  s.jurisdiction = "X";
  s.pools.push_back(PoolSpec{AcceleratorType::kH100, 1, 8, 1, 1});
  ClusterState state({s});
  SiteSignals sig = state.site(SiteId(0)).signals;
  sig.carbon = now;
  sig.carbon_ahead = ahead;
  state.SetSignals(SiteId(0), sig);
  return state;
}

TEST(CarbonPowerCap, CapsOrdinaryWorkWhereTheJudgedGridIsDirty) {
  SchedulerSpec spec;
  spec.carbon_cap = {true, 400, 0.7};
  JobRequest req;
  // Judged as the mean of now and ahead: (600 + 200) / 2 = 400, at the threshold.
  EXPECT_DOUBLE_EQ(CarbonPowerCap(spec, OneSite(600, 200).site(SiteId(0)), req), 0.7);
  EXPECT_DOUBLE_EQ(CarbonPowerCap(spec, OneSite(600, 199).site(SiteId(0)), req), 0.0);
  const SiteState dirty = OneSite(800, 800).site(SiteId(0));
  JobRequest urgent = req;
  urgent.priority = 1;
  EXPECT_DOUBLE_EQ(CarbonPowerCap(spec, dirty, urgent), 0.0);
  JobRequest serving = req;
  serving.has_users = true;
  EXPECT_DOUBLE_EQ(CarbonPowerCap(spec, dirty, serving), 0.0);
  spec.carbon_cap.enabled = false;
  EXPECT_DOUBLE_EQ(CarbonPowerCap(spec, dirty, req), 0.0);
}

}  // namespace
}  // namespace stargate::sched
