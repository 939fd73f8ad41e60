#include "model/geo.h"

#include <gtest/gtest.h>

namespace stargate::model {
namespace {

// Reference distances: WGS84 ellipsoidal geodesic (Vincenty inverse).
TEST(HaversineKm, AbileneToAtlantaWithinTwoPercent) {
  // Abilene, TX (32.4487 N, 99.7331 W) -> Atlanta, GA (33.7490 N, 84.3880 W):
  // 1,438 km (~894 mi) on the ellipsoid.
  const double km = HaversineKm(32.4487, -99.7331, 33.7490, -84.3880);
  EXPECT_NEAR(km, 1438.3, 0.02 * 1438.3);
}

TEST(HaversineKm, LondonHeathrowToNewYorkJfk) {
  const double km = HaversineKm(51.4700, -0.4543, 40.6413, -73.7781);
  EXPECT_NEAR(km, 5554.9, 0.01 * 5554.9);
}

TEST(HaversineKm, SymmetricAndZeroForSamePoint) {
  EXPECT_DOUBLE_EQ(HaversineKm(10, 20, -30, 40), HaversineKm(-30, 40, 10, 20));
  EXPECT_DOUBLE_EQ(HaversineKm(45, 9, 45, 9), 0.0);
}

TEST(HaversineKm, AntipodesAreHalfTheCircumference) {
  EXPECT_NEAR(HaversineKm(0, 0, 0, 180), kEarthRadiusKm * 3.14159265358979, 1e-6);
}

TEST(FiberLatency, FourPointNineMicrosPerKm) {
  EXPECT_EQ(FiberLatency(1000), Duration::Micros(4900));  // ~10 ms RTT per 1,000 km
  EXPECT_EQ(FiberLatency(1), Duration::Nanos(4900));
  EXPECT_EQ(FiberLatency(0), Duration::Zero());
  EXPECT_EQ(FiberLatency(-3), Duration::Zero());
}

}  // namespace
}  // namespace stargate::model
