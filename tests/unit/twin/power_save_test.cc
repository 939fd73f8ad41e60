// Power saving: idle devices switch off after idle_after, down to the warm
// reserve; starts on switched-off devices boot first; the site draws less.
#include "twin/power_save.h"

#include <gtest/gtest.h>

#include "model/power.h"
#include "twin/engine.h"

namespace stargate::twin {
namespace {

const Time T0 = Time::Epoch();
constexpr Duration kIdle = Duration::Minutes(30);

TEST(PoolPowerSaver, SwitchesOffWhatStaysIdleDownToTheWarmReserve) {
  PoolPowerSaver saver(/*warm=*/8);
  EXPECT_EQ(saver.on_idle(), 8);
  EXPECT_EQ(saver.Take(16), 8);  // 8 were warm, 8 must boot
  EXPECT_EQ(saver.on_idle(), 0);
  saver.Freed(T0 + Duration::Minutes(10), 16);
  saver.Freed(T0 + Duration::Minutes(20), 8);
  EXPECT_EQ(saver.on_idle(), 24);
  saver.Sweep(T0 + Duration::Minutes(39), kIdle);  // nothing idle for 30 min yet
  EXPECT_EQ(saver.on_idle(), 24);
  saver.Sweep(T0 + Duration::Minutes(40), kIdle);  // the first 16 go off
  EXPECT_EQ(saver.on_idle(), 8);
  saver.Sweep(T0 + Duration::Hours(5), kIdle);  // the rest is the warm reserve
  EXPECT_EQ(saver.on_idle(), 8);
}

TEST(PoolPowerSaver, StartsUseTheMostRecentlyFreedDevices) {
  PoolPowerSaver saver(0);
  saver.Freed(T0, 8);
  saver.Freed(T0 + Duration::Minutes(20), 8);
  EXPECT_EQ(saver.Take(8), 0);  // takes the newer 8; the older timer keeps running
  saver.Sweep(T0 + Duration::Minutes(30), kIdle);
  EXPECT_EQ(saver.on_idle(), 0);
  EXPECT_EQ(saver.Take(8), 8);
}

TwinInputs OneJobOnAnIdleSite(bool power_save) {
  TwinInputs in;
  in.spec.name = "ps";
  in.spec.duration = Duration::Days(1);
  in.spec.policy = "fifo";
  in.spec.scheduler.power_save.enabled = power_save;
  in.spec.scheduler.power_save.warm = 0;
  SiteSpec site;
  site.name = "s";
  site.jurisdiction = "US";
  site.pue = 1.2;
  site.pools.push_back(PoolSpec{AcceleratorType::kH100, 4, 8, 4, 1});
  in.spec.sites.push_back(site);
  in.carbon.push_back(HourlySeries{{100.0}});
  in.price.push_back(HourlySeries{{50.0}});
  JobSpec j;
  j.accelerator_count = 8;
  j.duration = Duration::Hours(2);
  j.checkpoint.enabled = false;
  j.submit = T0 + Duration::Hours(1);
  in.jobs = {j};
  return in;
}

TEST(EnginePowerSave, ColdStartsBootAndIdleCapacityStopsDrawing) {
  const RunResult on = RunTwin(OneJobOnAnIdleSite(true)).value();
  const RunResult off = RunTwin(OneJobOnAnIdleSite(false)).value();
  // The job boots its switched-off node first.
  EXPECT_EQ(off.jobs[0].end, T0 + Duration::Hours(3));
  EXPECT_EQ(on.jobs[0].end, T0 + Duration::Hours(3) + Duration::Minutes(10));
  // Without power saving 32 devices idle all day; with it, only the job's 8
  // draw, from its start until 30 minutes after it ends.
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const double idle_w = model::DevicePower(h100, 0.0).value() * 1.2;
  const double busy_w = model::DevicePower(h100, 0.7).value() * 1.2;
  EXPECT_NEAR(off.summary.energy_mwh * 3.6e9, 8 * busy_w * 7200.0 + idle_w * (32 * 86400.0 - 8 * 7200.0), 1e3);
  // Booting holds the devices as the job's (2 h 10 min busy).
  EXPECT_NEAR(on.summary.energy_mwh * 3.6e9, 8 * busy_w * 7800.0 + idle_w * 8 * 1800.0, 1e3);
}

}  // namespace
}  // namespace stargate::twin
