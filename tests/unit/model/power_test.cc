#include "model/power.h"

#include <gtest/gtest.h>

namespace stargate::model {
namespace {

TEST(DevicePower, EndpointsForH100) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  // idle 80 W + 40% of the 450 W host share; full: 700 W + 450 W.
  EXPECT_DOUBLE_EQ(DevicePower(h100, 0).value(), 80 + 0.4 * 450);
  EXPECT_DOUBLE_EQ(DevicePower(h100, 1).value(), 700 + 450);
  // Clamped outside [0, 1].
  EXPECT_EQ(DevicePower(h100, -1), DevicePower(h100, 0));
  EXPECT_EQ(DevicePower(h100, 2), DevicePower(h100, 1));
}

TEST(DevicePower, MonotoneInUtilisationForEveryType) {
  for (const AcceleratorSpec& spec : Catalog()) {
    Watts prev = DevicePower(spec, 0);
    for (int i = 1; i <= 100; ++i) {
      const Watts w = DevicePower(spec, i / 100.0);
      EXPECT_GE(w, prev) << spec.name << " u=" << i;
      prev = w;
    }
    EXPECT_GT(DevicePower(spec, 1), DevicePower(spec, 0)) << spec.name;
  }
}

TEST(PoolPower, BusyAtLoadRestIdle) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const Watts pool = PoolPower(h100, 100, 30, 0.8);
  EXPECT_DOUBLE_EQ(pool.value(), 30 * DevicePower(h100, 0.8).value() + 70 * DevicePower(h100, 0).value());
  EXPECT_EQ(PoolPower(h100, 100, 500, 1.0), DevicePower(h100, 1.0) * 100);
  EXPECT_EQ(PoolPower(h100, 100, -5, 1.0), DevicePower(h100, 0) * 100);
  EXPECT_EQ(PoolPower(h100, 0, 0, 1.0), Watts(0));
  EXPECT_LT(PoolPower(h100, 100, 30, 0.5), PoolPower(h100, 100, 30, 0.9));
  EXPECT_LT(PoolPower(h100, 100, 30, 0.9), PoolPower(h100, 100, 31, 0.9));
}

TEST(PoolPower, HundredThousandH100sAreAboutOneHundredFiftyMegawatts) {
  // SemiAnalysis's ~150 MW for a 100K H100 cluster (physics-numbers.md §2),
  // here at full load and a PUE of 1.3.
  const Watts it = PoolPower(Spec(AcceleratorType::kH100), 100000, 100000, 1.0);
  EXPECT_NEAR(FacilityPower(it, 1.3).value(), 150e6, 0.05 * 150e6);
}

TEST(FacilityPower, TimesPueAndNeverBelowIt) {
  EXPECT_DOUBLE_EQ(FacilityPower(Megawatts(100), 1.1).value(), 110e6);
  EXPECT_EQ(FacilityPower(Megawatts(100), 0.8), Megawatts(100));
}

}  // namespace
}  // namespace stargate::model
