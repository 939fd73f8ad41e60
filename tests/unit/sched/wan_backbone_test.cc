// The WAN backbone (wan_backbone.h) and how ClusterState uses it: a path
// between regions' hubs is the least-latency one (a tie goes to the
// wider) and carries its narrowest link; a site pair's own link wins; a
// site reaches its hub by its uplink (400 Gb/s when it has none); a
// region off the backbone falls back to the sites' uplinks.
#include "sched/wan_backbone.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>

#include "sched/cluster_state.h"

namespace stargate::sched {
namespace {

struct LinkArgs {
  const char* a;
  const char* b;
  double bytes_per_s, latency_s;
};

WanBackbone Backbone(std::initializer_list<LinkArgs> links) {
  WanBackbone b;
  for (const LinkArgs& l : links) b.Link(l.a, l.b, l.bytes_per_s, l.latency_s);
  return b;
}

TEST(WanBackbone, ThePathOfLeastLatencyCarriesItsNarrowestLink) {
  WanBackbone b;
  EXPECT_TRUE(b.empty());
  b.Link("us", "eu", 100, 0.040);
  b.Link("eu", "in", 50, 0.060);
  b.Link("us", "in", 500, 0.200);  // wider, but slower than through eu
  EXPECT_FALSE(b.empty());
  EXPECT_EQ(b.PathBytesPerSec("us", "in"), 50);
  EXPECT_DOUBLE_EQ(b.PathLatency("us", "in").value(), 0.100);
  EXPECT_EQ(b.PathBytesPerSec("in", "us"), 50);  // links go both ways
  EXPECT_EQ(b.PathBytesPerSec("us", "us"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(b.PathBytesPerSec("us", "ap"), std::nullopt);  // not on the backbone
  // Relinking replaces: us-in now the fastest way.
  b.Link("in", "us", 500, 0.050);
  EXPECT_EQ(b.PathBytesPerSec("us", "in"), 500);
  // Two paths of equal latency: the wider.
  WanBackbone tie = Backbone({{"a", "b", 10, 0.01}, {"b", "d", 10, 0.01}, {"a", "c", 30, 0.01}, {"c", "d", 20, 0.01}});
  EXPECT_EQ(tie.PathBytesPerSec("a", "d"), 20);
  // Latencies that tie in milliseconds tie exactly (1 + 9 = 10 ms, which
  // doubles in seconds put a hair under 0.010): the wider path.
  const WanBackbone ms = Backbone({{"a", "b", 100, 0.001}, {"b", "c", 100, 0.009}, {"a", "c", 400, 0.010}});
  EXPECT_EQ(ms.PathBytesPerSec("a", "c"), 400);
  // Islands are not joined.
  tie.Link("x", "y", 10, 0.01);
  EXPECT_EQ(tie.PathBytesPerSec("a", "x"), std::nullopt);
}

SiteSpec At(const char* name, const char* region, double uplink) {
  SiteSpec s;
  s.name = name;
  s.region = region;
  s.wan_uplink = BytesPerSec(uplink);
  s.pools.push_back(PoolSpec{AcceleratorType::kH100, 1, 8, 1, 1});
  return s;
}

TEST(WanBackbone, SitesReachEachOtherThroughTheirHubs) {
  ClusterState s(
      {At("a1", "us", 0), At("a2", "us", 20e9), At("b1", "eu", 8e9), At("c1", "ap", 4e9), At("c2", "ap", 2e9)});
  s.LinkRegions("us", "eu", 10e9, 0.04);
  const SiteId a1(0), a2(1), b1(2), c1(3), c2(4);
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(a2, b1), 8e9);   // b1's uplink is the narrowest
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(a1, a2), 20e9);  // one hub: a1 reaches it at 400 Gb/s
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(a1, b1), 8e9);   // a1 without an uplink: the default
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(c1, c2), 2e9);   // ap is off the backbone: the uplinks
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(a2, c1), 4e9);   // likewise across
  s.SetWanLink(a2, b1, 1e9);                         // a pair's own link wins
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(b1, a2), 1e9);
  s.LinkRegions("eu", "ap", 3e9, 0.05);
  EXPECT_DOUBLE_EQ(s.WanBytesPerSec(a1, c1), 3e9);  // us-eu-ap: the eu-ap link is the narrowest
}

}  // namespace
}  // namespace stargate::sched
