#include "model/failure.h"

#include <gtest/gtest.h>

namespace stargate::model {
namespace {

TEST(LlamaThreeComponents, EighteenRowsWithPositiveRatesAndRepairs) {
  const std::vector<FailureComponent> c = LlamaThreeComponents();
  ASSERT_EQ(c.size(), 18u);
  int accel = 0;
  for (const FailureComponent& f : c) {
    EXPECT_GT(f.rate_per_year, 0) << f.name;
    EXPECT_GT(f.repair, Duration::Zero()) << f.name;
    accel += f.scope == FailureScope::kAccelerator;
    EXPECT_NE(f.scope, FailureScope::kSite) << f.name;
  }
  EXPECT_EQ(accel, 6);
}

TEST(LlamaThreeComponents, ReproduceTheSnapshotRate) {
  const std::vector<FailureComponent> c = LlamaThreeComponents();
  const double expected = 419.0 / (54 * 24);
  EXPECT_NEAR(FailuresPerHour(c, 16384, 2048, 0), expected, 0.001 * expected);
  // Mean time between unexpected interruptions ~3.1 h.
  EXPECT_NEAR(MeanTimeBetweenFailures(c, 16384, 2048).hours(), 54.0 * 24 / 419, 0.01);
}

TEST(LlamaThreeComponents, PerGpuYearRatesMatchTheNotes) {
  // physics-numbers.md §1: ~17% interruptions per GPU-year in all, ~11% from
  // the GPU itself. The ~11% is all six accelerator-scoped rows (268 of 419);
  // faulty GPU + HBM3 alone (220) are 9.1%.
  const std::vector<FailureComponent> c = LlamaThreeComponents();
  double gpu = 0, all = 0;
  for (const FailureComponent& f : c) {
    all += f.scope == FailureScope::kAccelerator ? f.rate_per_year : f.rate_per_year / 8;
    if (f.scope == FailureScope::kAccelerator) gpu += f.rate_per_year;
  }
  EXPECT_NEAR(all, 0.173, 0.002);
  EXPECT_NEAR(gpu, 0.111, 0.002);
  EXPECT_EQ(c[0].name, "faulty_gpu");
  EXPECT_EQ(c[1].name, "gpu_hbm3");
  EXPECT_NEAR(c[0].rate_per_year + c[1].rate_per_year, 0.091, 0.001);
}

TEST(FailuresPerHour, CountsUnitsByScopeAndScales) {
  const std::vector<FailureComponent> c = {
      {"gpu", FailureScope::kAccelerator, 8760, Duration::Hours(1)},
      {"host", FailureScope::kNode, 2 * 8760, Duration::Hours(1)},
      {"grid", FailureScope::kSite, 3 * 8760, Duration::Hours(1)},
  };
  EXPECT_DOUBLE_EQ(FailuresPerHour(c, 10, 2, 1), 10 + 4 + 3);
  EXPECT_DOUBLE_EQ(FailuresPerHour(c, 10, 2, 1, 0.5), 8.5);
  EXPECT_DOUBLE_EQ(FailuresPerHour(c, -1, 0, 0), 0);
  // A gang ignores site-scoped failures.
  EXPECT_EQ(MeanTimeBetweenFailures(c, 10, 2), Duration::FromSeconds(3600.0 / 14));
}

TEST(MeanTimeBetweenFailures, InfiniteWithoutFailures) {
  EXPECT_TRUE(MeanTimeBetweenFailures({}, 100, 10).is_infinite());
  EXPECT_TRUE(MeanTimeBetweenFailures(LlamaThreeComponents(), 0, 0).is_infinite());
  EXPECT_TRUE(MeanTimeBetweenFailures(LlamaThreeComponents(), 8, 1, 0.0).is_infinite());
}

TEST(MeanTimeBetweenFailures, ShrinksAsOneOverGangSize) {
  const std::vector<FailureComponent> c = LlamaThreeComponents();
  const Duration small = MeanTimeBetweenFailures(c, 1024, 128);
  const Duration big = MeanTimeBetweenFailures(c, 131072, 16384);
  EXPECT_NEAR(small.seconds() / big.seconds(), 128, 1e-6);
  // 131K GPUs: one interruption every ~24 minutes.
  EXPECT_NEAR(big.seconds() / 60, 54.0 * 24 * 60 / 419 / 8, 0.1);
}

}  // namespace
}  // namespace stargate::model

namespace stargate::model {
namespace {

TEST(PosteriorRate, StartsAtThePriorAndConvergesToTheMeasurement) {
  const double prior = 1.0 / 6000;  // per node-hour
  EXPECT_DOUBLE_EQ(PosteriorRate(0, 0, prior), prior);
  // One failure in 100 node-hours moves a half-event prior (worth 3,000
  // node-hours here) a little...
  EXPECT_NEAR(PosteriorRate(1, 100, prior), 1.5 / 3100, 1e-15);
  // ...ten thousand node-hours with 20 failures mostly speak for themselves.
  EXPECT_NEAR(PosteriorRate(20, 1e4, prior), 20.5 / 13000, 1e-15);
  EXPECT_NEAR(PosteriorRate(2000, 1e6, prior), 2e-3, 2e-5);  // 2000.5 / 1,003,000
  // No failures over a long time pulls the rate below the prior.
  EXPECT_LT(PosteriorRate(0, 1e5, prior), prior / 10);
}

}  // namespace
}  // namespace stargate::model
