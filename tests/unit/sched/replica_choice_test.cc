#include "sched/replica_choice.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/rng.h"

namespace stargate::sched {
namespace {

ReplicaLoad Replica(double network_ms, int inflight, double service_ms, bool routable = true) {
  return ReplicaLoad{routable, Duration::Micros(static_cast<int64_t>(network_ms * 1000)), inflight,
                     Duration::Micros(static_cast<int64_t>(service_ms * 1000))};
}

constexpr Duration kFallback = Duration::Millis(10);

TEST(ReplicaChoice, NearIdleReplicaWins) {
  const std::vector<ReplicaLoad> r = {Replica(80, 0, 20), Replica(2, 0, 20)};
  EXPECT_EQ(PickReplica(r, {}, kFallback), 1u);
}

TEST(ReplicaChoice, FarReplicaWinsOnceTheNearQueueCostsMoreThanTheDistance) {
  // Near: 2 + (4+1) x 20 = 102 ms; far: 80 + 1 x 20 = 100 ms.
  std::vector<ReplicaLoad> r = {Replica(80, 0, 20), Replica(2, 4, 20)};
  EXPECT_EQ(PickReplica(r, {}, kFallback), 0u);
  r[1].inflight = 3;  // 82 ms: near again
  EXPECT_EQ(PickReplica(r, {}, kFallback), 1u);
}

TEST(ReplicaChoice, SkipsUnroutableAndTriedReplicas) {
  const std::vector<ReplicaLoad> r = {Replica(1, 0, 5, false), Replica(3, 0, 5), Replica(9, 0, 5)};
  EXPECT_EQ(PickReplica(r, {}, kFallback), 1u);
  const std::vector<size_t> tried = {1};
  EXPECT_EQ(PickReplica(r, tried, kFallback), 2u);
  const std::vector<size_t> all = {1, 2};
  EXPECT_FALSE(PickReplica(r, all, kFallback).has_value());
  EXPECT_FALSE(PickReplica(std::vector<ReplicaLoad>{}, {}, kFallback).has_value());
}

TEST(ReplicaChoice, UnmeasuredReplicaUsesTheFallbackAndTiesGoToFewerInFlight) {
  EXPECT_EQ(ExpectedLatency(Replica(1, 2, 0), kFallback), Duration::Millis(31));
  // Both 40 ms: 10 + 3 x 10 vs 20 + 2 x 10; the second has fewer in flight.
  const std::vector<ReplicaLoad> r = {Replica(10, 2, 10), Replica(20, 1, 10)};
  EXPECT_EQ(PickReplica(r, {}, kFallback), 1u);
}

TEST(ReplicaChoice, ServiceEwma) {
  EXPECT_EQ(NextServiceEwma(Duration::Zero(), Duration::Millis(8), 0.2), Duration::Millis(8));
  EXPECT_EQ(NextServiceEwma(Duration::Millis(10), Duration::Millis(20), 0.25), Duration::Micros(12500));
}

// The index answers as PickReplica does, through random changes of load,
// health and measurement, with ties (equal latencies) and retries.
TEST(ReplicaIndex, PicksAsTheFullScanDoes) {
  Rng rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t n = 1 + rng.Below(40);
    std::vector<ReplicaLoad> loads(n);
    ReplicaIndex index;
    auto random_load = [&] {
      ReplicaLoad r;
      r.routable = rng.Bernoulli(0.85);
      r.network = Duration::Millis(static_cast<int64_t>(rng.Below(5)) * 10);  // few values: ties
      r.inflight = static_cast<int>(rng.Below(4));
      r.service =
          rng.Bernoulli(0.2) ? Duration::Zero() : Duration::Millis(5 * (1 + static_cast<int64_t>(rng.Below(4))));
      return r;
    };
    for (size_t i = 0; i < n; ++i) {
      loads[i] = random_load();
      index.Set(i, loads[i]);
    }
    for (int step = 0; step < 300; ++step) {
      const size_t i = rng.Below(n);
      loads[i] = random_load();
      index.Set(i, loads[i]);
      std::vector<size_t> tried;
      for (int k = static_cast<int>(rng.Below(3)); k > 0; --k) tried.push_back(rng.Below(n));
      const Duration fallback = Duration::Millis(5 * (1 + static_cast<int64_t>(rng.Below(4))));
      ASSERT_EQ(index.Pick(tried, fallback), PickReplica(loads, tried, fallback)) << trial << " " << step;
    }
  }
}

}  // namespace
}  // namespace stargate::sched
