// The WAN backbone (wan_backbone.h) and how ClusterState uses it: a path
// between regions' hubs is the least-latency one (a tie goes to the
// wider) and carries its narrowest link; a site pair's own link wins; a
// site reaches its hub by its uplink (400 Gb/s when it has none); a
// region off the backbone falls back to the sites' uplinks.
#include "sched/wan_backbone.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>

#include "model/geo.h"
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

SiteSpec Located(const char* name, const char* region, double latitude, double longitude) {
  SiteSpec s = At(name, region, 0);
  s.latitude = latitude;
  s.longitude = longitude;
  return s;
}

// Latency takes the route bandwidth does: a pair's own link, else each
// site's leg to its region's hub (the region's centre) and the path
// between the hubs, else fibre straight between the two sites.
TEST(WanBackbone, LatencyFollowsTheSameRoute) {
  SiteSpec lost = At("c2", "ap", 0);
  lost.located = false;
  ClusterState s({Located("a1", "us", 40.7, -74.0), Located("a2", "us", 42.4, -71.1), Located("b1", "eu", 51.5, -0.1),
                  Located("b2", "eu", 48.9, 2.35), Located("c1", "ap", 35.7, 139.7), lost});
  const SiteId a1(0), a2(1), b1(2), b2(3), c1(4), c2(5);
  auto fibre = [](double km) { return model::FiberLatency(km * model::kRouteFactor).seconds(); };
  auto straight = [&](SiteId x, SiteId y) {
    const SiteState &p = s.site(x), &q = s.site(y);
    return fibre(model::HaversineKm(p.latitude, p.longitude, q.latitude, q.longitude));
  };
  // No backbone: straight between the two; nothing for a site to itself,
  // or from a site that is not located.
  EXPECT_DOUBLE_EQ(s.WanLatency(a1, b1), straight(a1, b1));
  EXPECT_GT(s.WanLatency(a1, b1), 0.025);  // New York-London, about 5,600 km great circle
  EXPECT_LT(s.WanLatency(a1, b1), 0.045);
  EXPECT_EQ(s.WanLatency(a1, a1), 0);
  EXPECT_EQ(s.WanLatency(c1, c2), 0);
  // Through the hubs: each leg to its region's centre, and the link's 40 ms.
  s.LinkRegions("us", "eu", 10e9, 0.040);
  double lat = 0, lon = 0;
  ASSERT_TRUE(s.PlaceCoordinates("us", &lat, &lon));
  const double leg_a1 = fibre(model::HaversineKm(40.7, -74.0, lat, lon));
  const double leg_a2 = fibre(model::HaversineKm(42.4, -71.1, lat, lon));
  ASSERT_TRUE(s.PlaceCoordinates("eu", &lat, &lon));
  const double leg_b1 = fibre(model::HaversineKm(51.5, -0.1, lat, lon));
  EXPECT_DOUBLE_EQ(s.WanLatency(a1, b1), leg_a1 + 0.040 + leg_b1);
  EXPECT_EQ(s.WanLatency(b1, a1), s.WanLatency(a1, b1));     // exactly, either way round
  EXPECT_DOUBLE_EQ(s.WanLatency(a1, a2), leg_a1 + leg_a2);   // one hub
  EXPECT_DOUBLE_EQ(s.WanLatency(a1, c1), straight(a1, c1));  // ap is off the backbone
  // Two hops (us-eu-ap, 40 + 50 ms), and a site that is not located has
  // no leg of its own: c1 is ap's only located site, so its hub.
  s.LinkRegions("eu", "ap", 3e9, 0.050);
  EXPECT_DOUBLE_EQ(s.WanLatency(a1, c1), leg_a1 + 0.090);
  EXPECT_DOUBLE_EQ(s.WanLatency(a1, c2), leg_a1 + 0.090);
  EXPECT_EQ(s.WanLatency(c1, a1), s.WanLatency(a1, c1));
  // A pair's own link: its latency, or fibre between the two.
  s.SetWanLink(a2, b2, 1e9, 0.025);
  EXPECT_DOUBLE_EQ(s.WanLatency(b2, a2), 0.025);
  s.SetWanLink(a2, b2, 1e9);
  EXPECT_DOUBLE_EQ(s.WanLatency(a2, b2), straight(a2, b2));
}

}  // namespace
}  // namespace stargate::sched
