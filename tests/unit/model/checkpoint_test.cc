#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stargate::model {
namespace {

double Minutes(Duration d) { return d.seconds() / 60; }

// Daly (FGCS 2006) worked cases, R = 10 min, delta = 5 min. Only the
// higher-order formula with "- delta" reproduces all three.
TEST(SnapshotStallTime, IsTheShardOverTheHostLink) {
  // Llama 3 405B: 6.48 TB over 16,384 GPUs at 25 GB/s each: ~15.8 ms.
  TrainingSpec t;
  t.params = 405e9;
  const Duration d = SnapshotStallTime(CheckpointBytes(t), 16384);
  EXPECT_NEAR(d.seconds(), 405e9 * 16 / (16384 * 25e9), 1e-9);
  EXPECT_EQ(SnapshotStallTime(Bytes(0), 8), Duration::Zero());
  EXPECT_EQ(SnapshotStallTime(Bytes(25e9), 0), Duration::Seconds(1));
}

TEST(DalyInterval, ReproducesThePublishedCases) {
  const Duration write = Duration::Minutes(5);
  EXPECT_NEAR(Minutes(DalyInterval(write, Duration::Hours(24))), 117, 0.02 * 117);
  EXPECT_NEAR(Minutes(DalyInterval(write, Duration::Hours(6))), 57, 0.02 * 57);
  EXPECT_NEAR(Minutes(DalyInterval(write, Duration::Minutes(15))), 9.1, 0.02 * 9.1);
}

TEST(DalyInterval, OtherVariantsMissTheShortMtbfCase) {
  const double delta = 5, m = 15, r = 10;  // minutes
  // Young: sqrt(2 delta M) = 12.2 min, 34% long.
  EXPECT_GT(Minutes(YoungInterval(Duration::Minutes(5), Duration::Minutes(15))), 1.3 * 9.1);
  // sqrt(2 delta (M + R)) - delta = 10.8 min, 18% long.
  EXPECT_GT(std::sqrt(2 * delta * (m + r)) - delta, 1.15 * 9.1);
  // Dropping "- delta" from Daly's series: 14.1 min.
  const double x = delta / (2 * m);
  EXPECT_GT(std::sqrt(2 * delta * m) * (1 + std::sqrt(x) / 3 + x / 9), 1.5 * 9.1);
}

TEST(DalyInterval, IsTheMtbfOnceWritingTakesTwoMtbfs) {
  EXPECT_EQ(DalyInterval(Duration::Hours(2), Duration::Hours(1)), Duration::Hours(1));
  EXPECT_EQ(DalyInterval(Duration::Hours(5), Duration::Hours(1)), Duration::Hours(1));
  EXPECT_LT(DalyInterval(Duration::Minutes(119), Duration::Hours(1)), Duration::Hours(2));
}

TEST(DalyInterval, ApproachesYoungWhenWritesAreCheap) {
  const Duration write = Duration::Seconds(3);  // ~5 TB at 2 TB/s
  const Duration mtbf = Duration::Hours(3);
  EXPECT_NEAR(DalyInterval(write, mtbf).seconds() / YoungInterval(write, mtbf).seconds(), 1, 0.02);
}

TEST(YoungInterval, SquareRootOfTwoDeltaM) {
  EXPECT_EQ(YoungInterval(Duration::Minutes(5), Duration::Hours(24)), Duration::Minutes(120));
  EXPECT_EQ(YoungInterval(Duration::Minutes(5), Duration::Hours(6)), Duration::Minutes(60));
  EXPECT_EQ(YoungInterval(Duration::Seconds(8), Duration::Seconds(100)), Duration::Seconds(40));
}

TEST(Intervals, InfiniteMtbfMeansNoCheckpointForFailures) {
  EXPECT_TRUE(YoungInterval(Duration::Minutes(5), Duration::Infinite()).is_infinite());
  EXPECT_TRUE(DalyInterval(Duration::Minutes(5), Duration::Infinite()).is_infinite());
}

TEST(CheckpointBytes, SixteenBytesPerParamForLlama405B) {
  TrainingSpec t;
  t.params = 405e9;
  EXPECT_DOUBLE_EQ(CheckpointBytes(t).value(), 405e9 * 16);
}

TEST(CheckpointWriteTime, StateOverBandwidth) {
  // Llama 3 405B state at Tectonic's 2 TB/s sustained: ~3.2 s.
  EXPECT_EQ(CheckpointWriteTime(Bytes(6.48e12), GigabytesPerSec(2000)), Duration::Millis(3240));
  EXPECT_TRUE(CheckpointWriteTime(Bytes(1), BytesPerSec(0)).is_infinite());
  EXPECT_EQ(CheckpointWriteTime(Bytes(0), BytesPerSec(0)), Duration::Zero());
}

TEST(ExpectedEfficiency, FirstOrderFormula) {
  const Duration tau = Duration::Minutes(60), delta = Duration::Minutes(5);
  const Duration r = Duration::Minutes(10), m = Duration::Hours(24);
  const double expected = 60.0 / 65 * (1 - (10 + 32.5) / 1440);
  EXPECT_NEAR(ExpectedEfficiency(tau, delta, r, m), expected, 1e-12);
  EXPECT_NEAR(ExpectedEfficiency(tau, delta, r, Duration::Infinite()), 60.0 / 65, 1e-12);
  EXPECT_EQ(ExpectedEfficiency(Duration::Zero(), delta, r, m), 0);
  EXPECT_EQ(ExpectedEfficiency(tau, delta, r, Duration::Minutes(10)), 0);  // clamped
}

TEST(ExpectedEfficiency, DalyIntervalIsNearTheBest) {
  const Duration delta = Duration::Minutes(5), r = Duration::Minutes(10);
  for (const Duration m : {Duration::Hours(24), Duration::Hours(6), Duration::Hours(3)}) {
    const Duration daly = DalyInterval(delta, m);
    const double at_daly = ExpectedEfficiency(daly, delta, r, m);
    for (int minutes = 5; minutes <= 600; minutes += 5) {
      EXPECT_LE(ExpectedEfficiency(Duration::Minutes(minutes), delta, r, m), at_daly + 1e-3)
          << m.hours() << " h, tau " << minutes << " min";
    }
  }
}

}  // namespace
}  // namespace stargate::model
