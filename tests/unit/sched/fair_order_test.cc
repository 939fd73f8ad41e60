// The pass order: priority, then weighted DRF across tenants, then submit.
#include "sched/fair_order.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "sched/stargate_policy.h"
#include "test_cluster.h"

namespace stargate::sched {
namespace {

JobRequest Req(uint32_t id, uint16_t tenant, int64_t submit_s, int priority = 0, int devices = 8) {
  JobRequest r;
  r.id = JobId(id);
  r.tenant = TenantId(tenant);
  r.accelerators = devices;
  r.priority = priority;
  r.estimate = Duration::Hours(1);
  r.submit = Time::Epoch() + Duration::Seconds(submit_s);
  return r;
}

ClusterState Cluster(int nodes) { return testing::OneSite({PoolSpec{AcceleratorType::kH100, nodes, 8, 1, 1}}, 4); }

std::vector<uint32_t> Walk(FairOrder& order, bool charge_each) {
  std::vector<uint32_t> ids;
  while (const JobRequest* r = order.Next()) {
    ids.push_back(r->id.value());
    if (charge_each) order.Charge(TenantUsage::Of(AcceleratorType::kH100, r->accelerators));
  }
  return ids;
}

TEST(FairOrder, WithoutFairShareItIsQueueOrder) {
  ClusterState s = Cluster(8);
  Queue q;
  q.KeepTenantOrder();
  for (uint32_t i = 0; i < 6; ++i) q.Push(Req(i, static_cast<uint16_t>(i % 2), 100 - i, i == 4 ? 1 : 0));
  FairOrder order;
  order.Begin(s, q, /*fair=*/false);
  std::vector<uint32_t> expected;
  for (const JobRequest& r : q) expected.push_back(r.id.value());
  EXPECT_EQ(Walk(order, true), expected);
  EXPECT_EQ(expected.front(), 4u);  // priority first
}

TEST(FairOrder, AlternatesTenantsAsTheirSharesGrow) {
  // Tenant 0 submitted everything first; with fair share the pass still
  // takes tenant 1 as soon as tenant 0 is ahead in share.
  ClusterState s = Cluster(8);
  Queue q;
  q.KeepTenantOrder();
  for (uint32_t i = 0; i < 4; ++i) q.Push(Req(i, 0, i));
  for (uint32_t i = 4; i < 8; ++i) q.Push(Req(i, 1, 100 + i));
  FairOrder order;
  order.Begin(s, q, /*fair=*/true);
  EXPECT_EQ(Walk(order, true), (std::vector<uint32_t>{0, 4, 1, 5, 2, 6, 3, 7}));
  // Nothing charged (nothing started): shares stay equal, submit order.
  order.Begin(s, q, true);
  EXPECT_EQ(Walk(order, false), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  // A queue that does not keep tenant order gives queue order.
  Queue plain;
  for (const JobRequest& r : q) plain.Push(r);
  EXPECT_TRUE(plain.by_tenant().empty());
  order.Begin(s, plain, true);
  EXPECT_EQ(Walk(order, true), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(FairOrder, PriorityBeatsShareAndRunningUsageCounts) {
  ClusterState s = Cluster(8);
  RunningGang g = RunningGang::Ending(JobId(99), PoolId(0), 32, Time::Epoch() + Duration::Hours(1));
  g.tenant = TenantId(0);
  s.AddRunning(g);  // tenant 0 already holds half the cluster
  Queue q;
  q.KeepTenantOrder();
  q.Push(Req(1, 0, 0));
  q.Push(Req(2, 1, 50));
  q.Push(Req(3, 0, 60, /*priority=*/5));
  FairOrder order;
  order.Begin(s, q, true);
  EXPECT_EQ(Walk(order, true), (std::vector<uint32_t>{3, 2, 1}));
}

// The policy end to end: two tenants queue more than fits; each gets half,
// or two thirds against one third with weights 2:1.
std::map<uint16_t, int> StartsByTenant(double weight0) {
  ClusterState s = Cluster(12);
  s.SetTenantWeight(TenantId(0), weight0);
  Queue q;
  q.KeepTenantOrder();
  for (uint32_t i = 0; i < 12; ++i) q.Push(Req(i, 0, i));         // tenant 0 came first
  for (uint32_t i = 12; i < 24; ++i) q.Push(Req(i, 1, 100 + i));  // then tenant 1
  SchedulerSpec spec;
  spec.wait_budget = 0;
  spec.fair_share = true;
  StargatePolicy policy(spec);
  EXPECT_TRUE(policy.UsesTenantOrder());
  std::map<uint16_t, int> starts;
  for (const Decision& d : policy.Schedule(s, q, Time::Epoch() + Duration::Hours(1)).items) {
    if (const auto* st = std::get_if<Start>(&d)) ++starts[q.at(st->job.value()).tenant.value()];
  }
  return starts;
}

TEST(FairOrder, StargatePolicySplitsByWeight) {
  EXPECT_EQ(StartsByTenant(1.0), (std::map<uint16_t, int>{{0, 6}, {1, 6}}));
  EXPECT_EQ(StartsByTenant(2.0), (std::map<uint16_t, int>{{0, 8}, {1, 4}}));
}

}  // namespace
}  // namespace stargate::sched
