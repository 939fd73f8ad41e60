// Dominant Resource Fairness shares: the largest resource fraction wins,
// weights divide it, and removing usage never goes negative.
#include "sched/tenant_ledger.h"

#include <gtest/gtest.h>

#include "sched/cluster_state.h"
#include "test_cluster.h"

namespace stargate::sched {
namespace {

TEST(TenantLedger, DominantShareIsTheLargestFractionOverTheWeight) {
  TenantLedger ledger;
  ledger.SetCapacity(TenantUsage{100, 1000, 10000});
  ledger.Add(TenantId(0), TenantUsage{10, 500, 1000});  // memory-heavy: 50% of memory
  EXPECT_DOUBLE_EQ(ledger.DominantShare(TenantId(0)), 0.5);
  ledger.SetWeight(TenantId(0), 2.0);
  EXPECT_DOUBLE_EQ(ledger.DominantShare(TenantId(0)), 0.25);
  // Extra usage counts as if held.
  EXPECT_DOUBLE_EQ(ledger.DominantShare(TenantId(0), TenantUsage{80, 0, 0}), 0.45);
  // Unknown tenants hold nothing and weigh 1.
  EXPECT_DOUBLE_EQ(ledger.DominantShare(TenantId(7)), 0.0);
  EXPECT_DOUBLE_EQ(ledger.Weight(TenantId(7)), 1.0);
  ledger.Remove(TenantId(0), TenantUsage{20, 600, 2000});
  EXPECT_DOUBLE_EQ(ledger.DominantShare(TenantId(0)), 0.0);
  ledger.SetWeight(TenantId(1), -3);
  EXPECT_DOUBLE_EQ(ledger.Weight(TenantId(1)), 1.0);
}

TEST(TenantLedger, ClusterStateChargesRunningGangsByAcceleratorType) {
  // Half the devices of each type: the H200 half holds more memory, so a
  // tenant on H200s has the larger dominant share for the same device count.
  ClusterState s =
      testing::OneSite({PoolSpec{AcceleratorType::kH100, 4, 8, 1, 1}, PoolSpec{AcceleratorType::kH200, 4, 8, 1, 1}}, 4);
  RunningGang a = RunningGang::Ending(JobId(1), PoolId(0), 16, Time::Epoch() + Duration::Hours(1));
  a.tenant = TenantId(0);
  RunningGang b = RunningGang::Ending(JobId(2), PoolId(1), 16, Time::Epoch() + Duration::Hours(1));
  b.tenant = TenantId(1);
  s.AddRunning(a);
  s.AddRunning(b);
  const double on_h100 = s.tenants().DominantShare(TenantId(0));
  const double on_h200 = s.tenants().DominantShare(TenantId(1));
  EXPECT_GT(on_h200, on_h100);
  EXPECT_GE(on_h100, 0.25 - 1e-12);  // 16 of 64 devices at least
  s.RemoveRunning(JobId(2));
  EXPECT_DOUBLE_EQ(s.tenants().DominantShare(TenantId(1)), 0.0);
  EXPECT_DOUBLE_EQ(s.tenants().Usage(TenantId(0)).devices, 16);
}

TEST(RunningGang, LostWorkIsTheTimeSinceTheLastDurableCheckpoint) {
  RunningGang g = RunningGang::Ending(JobId(1), PoolId(0), 8, Time::Never());
  g.checkpoint_origin = Time::Epoch() + Duration::Minutes(10);
  EXPECT_EQ(g.LostIfStoppedAt(Time::Epoch()), Duration::Zero());                               // still restarting
  EXPECT_EQ(g.LostIfStoppedAt(Time::Epoch() + Duration::Minutes(70)), Duration::Minutes(60));  // no checkpoints
  g.checkpoint_period = Duration::Minutes(25);
  EXPECT_EQ(g.LostIfStoppedAt(Time::Epoch() + Duration::Minutes(70)), Duration::Minutes(10));
  // Async: the snapshot at 60 min is durable only 15 min later, so a stop at
  // 70 min still loses what the 35 min snapshot did not cover.
  g.checkpoint_lag = Duration::Minutes(15);
  EXPECT_EQ(g.LostIfStoppedAt(Time::Epoch() + Duration::Minutes(70)), Duration::Minutes(35));
  EXPECT_EQ(g.LostIfStoppedAt(Time::Epoch() + Duration::Minutes(75)), Duration::Minutes(15));
  EXPECT_EQ(g.LostIfStoppedAt(Time::Epoch() + Duration::Minutes(45)), Duration::Minutes(35));  // none durable yet
}

}  // namespace
}  // namespace stargate::sched
