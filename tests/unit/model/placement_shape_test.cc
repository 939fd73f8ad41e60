#include "model/placement_shape.h"

#include <gtest/gtest.h>

#include "model/geo.h"

namespace stargate::model {
namespace {

// A Meta-like fabric: 400G per GPU, 7:1 oversubscribed between pods.
FabricSpec MetaFabric() {
  FabricSpec f;
  f.oversubscription = 7.0;
  return f;
}

PlacementShape H100Gang(int nodes, int leaves, int pods, int sites) {
  PlacementShape s;
  s.devices = nodes * 8;
  s.nodes = nodes;
  s.devices_per_node = 8;
  s.domains = nodes;  // HGX H100: one node per NVLink domain
  s.leaves = leaves;
  s.pods = pods;
  s.sites = sites;
  return s;
}

TEST(WidestLevel, PicksTheNarrowestLevelHoldingTheGang) {
  PlacementShape s;
  EXPECT_EQ(WidestLevel(s), SpanLevel::kNode);
  s.nodes = 18;  // one NVL72 domain
  EXPECT_EQ(WidestLevel(s), SpanLevel::kDomain);
  s.domains = 2;
  EXPECT_EQ(WidestLevel(s), SpanLevel::kLeaf);
  s.leaves = 3;
  EXPECT_EQ(WidestLevel(s), SpanLevel::kPod);
  s.pods = 2;
  EXPECT_EQ(WidestLevel(s), SpanLevel::kSpine);
  s.sites = 2;
  EXPECT_EQ(WidestLevel(s), SpanLevel::kWan);
}

TEST(LinkAt, FollowsTheDocumentedTable) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const FabricSpec f = MetaFabric();
  PlacementShape s = H100Gang(4, 2, 2, 2);
  s.wan_latency = FiberLatency(1000);
  s.wan_bandwidth = GigabitsPerSec(800);

  for (SpanLevel l : {SpanLevel::kNode, SpanLevel::kDomain}) {
    const Link link = LinkAt(l, h100, f, s);
    EXPECT_EQ(link.bandwidth, h100.scale_up_bw * h100.scale_up_allreduce);
    EXPECT_EQ(link.alpha, f.alpha_scale_up);
  }
  EXPECT_EQ(LinkAt(SpanLevel::kLeaf, h100, f, s).bandwidth, h100.scale_out_bw);
  EXPECT_EQ(LinkAt(SpanLevel::kLeaf, h100, f, s).alpha, f.alpha_leaf);
  EXPECT_EQ(LinkAt(SpanLevel::kPod, h100, f, s).bandwidth, h100.scale_out_bw);
  EXPECT_EQ(LinkAt(SpanLevel::kPod, h100, f, s).alpha, f.alpha_spine);
  EXPECT_DOUBLE_EQ(LinkAt(SpanLevel::kSpine, h100, f, s).bandwidth.value(), h100.scale_out_bw.value() / 7.0);
  const Link wan = LinkAt(SpanLevel::kWan, h100, FabricSpec{}, s);
  EXPECT_EQ(wan.alpha, FiberLatency(1000) + f.alpha_spine);
  // 800 Gb/s shared by one outer ring per device of a domain (8).
  EXPECT_DOUBLE_EQ(wan.bandwidth.value(), GigabitsPerSec(800).value() / 8);
}

TEST(LinkAt, WanShareNeverExceedsTheDevicesOwnPath) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  PlacementShape s = H100Gang(2, 2, 2, 2);
  s.wan_bandwidth = GigabitsPerSec(100000);
  EXPECT_EQ(LinkAt(SpanLevel::kWan, h100, MetaFabric(), s).bandwidth,
            LinkAt(SpanLevel::kSpine, h100, MetaFabric(), s).bandwidth);
}

TEST(LinkAt, DeviceWithoutScaleUpUsesTheNic) {
  const AcceleratorSpec& cpu = Spec(AcceleratorType::kCpu);
  const Link link = LinkAt(SpanLevel::kNode, cpu, FabricSpec{}, PlacementShape{});
  EXPECT_EQ(link.bandwidth, cpu.scale_out_bw);
}

TEST(GradientAllReduce, SingleDeviceIsFreeSingleNodeIsANvlinkRing) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const Bytes n = Gigabytes(1);
  EXPECT_EQ(GradientAllReduce(n, h100, FabricSpec{}, PlacementShape{}), Duration::Zero());
  const PlacementShape node = H100Gang(1, 1, 1, 1);
  EXPECT_EQ(GradientAllReduce(n, h100, FabricSpec{}, node),
            RingAllReduce(n, 8, {h100.scale_up_bw * h100.scale_up_allreduce, FabricSpec{}.alpha_scale_up}));
}

TEST(GradientAllReduce, GrowsAsTheGangSpreads) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const FabricSpec f = MetaFabric();
  const Bytes n = Gigabytes(4);
  PlacementShape wan = H100Gang(64, 4, 2, 2);
  wan.wan_latency = FiberLatency(1400);
  wan.wan_bandwidth = GigabitsPerSec(3200);
  const Duration node = GradientAllReduce(n, h100, f, H100Gang(1, 1, 1, 1));
  const Duration leaf = GradientAllReduce(n, h100, f, H100Gang(64, 1, 1, 1));
  const Duration pod = GradientAllReduce(n, h100, f, H100Gang(64, 4, 1, 1));
  const Duration spine = GradientAllReduce(n, h100, f, H100Gang(64, 4, 2, 1));
  const Duration cross = GradientAllReduce(n, h100, f, wan);
  EXPECT_LT(node, leaf);
  EXPECT_LT(leaf, pod);
  EXPECT_LT(pod, spine);
  EXPECT_LT(spine, cross);
}

TEST(GradientAllReduce, HierarchicalBeatsAFlatRingOverTheNics) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const FabricSpec f;
  const Bytes n = Gigabytes(4);
  const PlacementShape s = H100Gang(16, 1, 1, 1);
  EXPECT_LT(GradientAllReduce(n, h100, f, s), RingAllReduce(n, s.devices, LinkAt(SpanLevel::kLeaf, h100, f, s)));
}

TEST(GradientAllReduce, NoWanBandwidthMeansNoSync) {
  const AcceleratorSpec& h100 = Spec(AcceleratorType::kH100);
  const PlacementShape s = H100Gang(4, 2, 2, 2);  // wan_bandwidth left 0
  EXPECT_TRUE(GradientAllReduce(Gigabytes(1), h100, FabricSpec{}, s).is_infinite());
}

TEST(DataParallelAllReduce, ModelParallelOneIsGradientAllReduce) {
  const AcceleratorSpec& gb200 = Spec(AcceleratorType::kGB200);
  PlacementShape s;  // two NVL72 domains of 18 trays x 4
  s.devices = 144;
  s.nodes = 36;
  s.devices_per_node = 4;
  s.domains = 2;  // both under one leaf
  const Bytes n = Gigabytes(2);
  EXPECT_EQ(DataParallelAllReduce(n, 1, gb200, FabricSpec{}, s), GradientAllReduce(n, gb200, FabricSpec{}, s));
  // TP=8 inside a 72-GPU domain: 9 replicas per domain reduce over NVLink
  // first, then 2 domains over the NICs.
  const Link nvl{gb200.scale_up_bw * gb200.scale_up_allreduce, FabricSpec{}.alpha_scale_up};
  const Link nic{gb200.scale_out_bw, FabricSpec{}.alpha_leaf};
  EXPECT_EQ(DataParallelAllReduce(n, 8, gb200, FabricSpec{}, s), HierarchicalAllReduce(n, 9, nvl, 2, nic));
  // One replica: nothing to sync.
  EXPECT_EQ(DataParallelAllReduce(n, 144, gb200, FabricSpec{}, s), Duration::Zero());
}

}  // namespace
}  // namespace stargate::model
