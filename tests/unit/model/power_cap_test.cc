#include "model/power_cap.h"

#include <cmath>

#include <gtest/gtest.h>

#include "model/power.h"

namespace stargate::model {
namespace {

TEST(PowerCap, ReproducesTheCalibrationPoint) {
  // A device at full load capped at 70% of TDP draws 70% of uncapped: the
  // fit gives the +6.5% time and -23% energy it was calibrated on.
  AcceleratorSpec a = Spec(AcceleratorType::kA100);
  a.idle = Watts(0);
  const CapEffect e = PowerCapEffect(a, 1.0, 0.7);
  EXPECT_NEAR(e.draw_ratio, 0.7, 1e-12);
  EXPECT_NEAR(e.slowdown, std::pow(0.7, -kCapSpeedExponent), 1e-12);
  EXPECT_NEAR(std::pow(0.723, -kCapSpeedExponent), 1.065, 0.002);
  EXPECT_NEAR(e.draw_ratio * e.slowdown, 0.77, 0.02);  // energy per unit of work
  EXPECT_NEAR(e.saved.value(), 0.3 * a.tdp.value(), 1e-9);
}

TEST(PowerCap, NoCapOrACapAboveTheDrawChangesNothing) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  for (double f : {0.0, 1.0, 1.5}) {
    const CapEffect e = PowerCapEffect(h100, 0.85, f);
    EXPECT_EQ(e.draw_ratio, 1.0);
    EXPECT_EQ(e.slowdown, 1.0);
    EXPECT_EQ(e.saved.value(), 0.0);
  }
  // Inference at 50% draws 80 + 620 x 0.5 = 390 W, under a 490 W cap.
  EXPECT_EQ(PowerCapEffect(h100, 0.5, 0.7).slowdown, 1.0);
}

TEST(PowerCap, DeeperCapsSaveMoreAndSlowMoreDownToTheFloor) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  double prev_saved = 0, prev_slow = 1;
  for (double f = 0.95; f >= kMinCapFraction - 1e-9; f -= 0.05) {
    const CapEffect e = PowerCapEffect(h100, 0.85, f);
    EXPECT_GE(e.saved.value(), prev_saved) << f;
    EXPECT_GE(e.slowdown, prev_slow) << f;
    EXPECT_LT(e.draw_ratio * e.slowdown, 1.0 + 1e-12) << "capping never costs device energy, f=" << f;
    prev_saved = e.saved.value();
    prev_slow = e.slowdown;
  }
  // Below the floor the cap is the floor.
  EXPECT_EQ(PowerCapEffect(h100, 0.85, 0.2).slowdown, PowerCapEffect(h100, 0.85, kMinCapFraction).slowdown);
}

TEST(PowerCap, WholeDeviceEnergyPerWorkFallsForTrainingOnH100) {
  // With the host drawing as before for longer, a 70% cap still saves ~8%
  // of a training device's energy per unit of work.
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const CapEffect e = PowerCapEffect(h100, 0.85, 0.7);
  const double uncapped = DevicePower(h100, 0.85).value();
  const double capped = (uncapped - e.saved.value()) * e.slowdown;
  EXPECT_NEAR(capped / uncapped, 0.92, 0.01);
}

}  // namespace
}  // namespace stargate::model
