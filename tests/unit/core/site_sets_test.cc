#include "core/site_sets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/scenario_parser.h"

namespace stargate {
namespace {

using ::testing::StartsWith;

SiteSetSpec Edge(int count) {
  SiteSetSpec set;
  set.name = "edge";
  set.count = count;
  set.nodes_min = 1;
  set.nodes_max = 64;
  set.pool.type = AcceleratorType::kH100;
  set.regions.push_back(SiteSetRegion{"us-east", "US", 33, 43, -85, -72, 3});
  set.regions.push_back(SiteSetRegion{"eu-west", "EU", 43, 53, -5, 10, 1});
  return set;
}

TEST(ExpandSiteSets, DrawsNamesRegionsCoordinatesAndSizes) {
  std::vector<SiteSpec> sites;
  ExpandSiteSets({Edge(4000)}, &sites);
  ASSERT_EQ(sites.size(), 4000u);
  EXPECT_EQ(sites.front().name, "edge-0001");
  EXPECT_EQ(sites.back().name, "edge-4000");
  std::map<std::string, int> by_region;
  int small = 0, large = 0;
  for (const SiteSpec& s : sites) {
    ++by_region[s.region];
    const bool us = s.region == "us-east";
    EXPECT_EQ(s.jurisdiction, us ? "US" : "EU");
    EXPECT_GE(s.latitude, us ? 33 : 43);
    EXPECT_LE(s.latitude, us ? 43 : 53);
    EXPECT_GE(s.longitude, us ? -85 : -5);
    EXPECT_LE(s.longitude, us ? -72 : 10);
    ASSERT_EQ(s.pools.size(), 1u);
    EXPECT_GE(s.pools[0].nodes, 1);
    EXPECT_LE(s.pools[0].nodes, 64);
    small += s.pools[0].nodes <= 2;
    large += s.pools[0].nodes >= 32;
  }
  // Weights 3:1.
  EXPECT_NEAR(by_region["us-east"] / 4000.0, 0.75, 0.03);
  // Log-uniform over [1, 65): [1, 3) and [32, 65) are each ~1/6 of the sites.
  EXPECT_NEAR(small / 4000.0, std::log(3.0) / std::log(65.0), 0.03);
  EXPECT_NEAR(large / 4000.0, std::log(65.0 / 32) / std::log(65.0), 0.03);
}

TEST(ExpandSiteSets, TheSetsSeedAndNameDrawTheNetwork) {
  std::vector<SiteSpec> a, b, c;
  ExpandSiteSets({Edge(50)}, &a);
  ExpandSiteSets({Edge(50)}, &b);
  SiteSetSpec other = Edge(50);
  other.seed = 7;
  ExpandSiteSets({other}, &c);
  ASSERT_EQ(a.size(), b.size());
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].latitude, b[i].latitude);
    EXPECT_EQ(a[i].pools[0].nodes, b[i].pools[0].nodes);
    differs = differs || a[i].latitude != c[i].latitude;
  }
  EXPECT_TRUE(differs);
  // A set added before another leaves that one's sites as they were.
  SiteSetSpec first = Edge(10);
  first.name = "core";
  std::vector<SiteSpec> d;
  ExpandSiteSets({first, Edge(50)}, &d);
  ASSERT_EQ(d.size(), 60u);
  EXPECT_EQ(d[10].name, "edge-01");
  EXPECT_EQ(d[10].latitude, a[0].latitude);
}

constexpr char kScenario[] = R"(name: edge
seed: 5
site_sets:
  - name: edge
    count: 300
    nodes: [1, 64]
    pool: {accelerator: H100, accels_per_node: 8}
    pue: 1.3
    carbon: 300
    regions:
      - {name: us-east, jurisdiction: US, latitude: [33, 43], longitude: [-85, -72], weight: 3, carbon: 400}
      - {name: br-south, jurisdiction: BR, latitude: -23.5, longitude: -46.6}
workload:
  jobs:
    - {name: j, accelerator_count: 8, duration: 1h, near: br-south}
)";

TEST(ParseSiteSets, GeneratedSitesAreOrdinarySites) {
  auto s = ParseScenario(kScenario, "t.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->sites.size(), 300u);
  int br = 0;
  for (const SiteSpec& site : s->sites) {
    EXPECT_DOUBLE_EQ(site.pue, 1.3);
    EXPECT_EQ(site.pools[0].accels_per_node, 8);
    if (site.region == "br-south") {
      ++br;
      EXPECT_DOUBLE_EQ(site.latitude, -23.5);
      EXPECT_DOUBLE_EQ(site.carbon.mean, 300);  // the set's grid
    } else {
      EXPECT_DOUBLE_EQ(site.carbon.mean, 400);  // the region's own
    }
  }
  EXPECT_GT(br, 40);
  // The scenario's seed does not move the network.
  std::string other = kScenario;
  other.replace(other.find("seed: 5"), 7, "seed: 6");
  auto t = ParseScenario(other, "t.yaml");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->sites[17].latitude, s->sites[17].latitude);
}

TEST(ParseSiteSets, BadSetsNameTheField) {
  const struct {
    const char* from;
    const char* to;
    const char* error;
  } cases[] = {
      {"count: 300", "count: 0", "t.yaml:5:12: site_sets[0].count: must be in [1, 65534]"},
      {"nodes: [1, 64]", "nodes: [64, 1]", "t.yaml:6:17: site_sets[0].nodes[1]: high (1) is below low (64)"},
      {"nodes: [1, 64]", "nodes: 2.5", "t.yaml:6:12: site_sets[0].nodes: node counts are whole numbers"},
      {"accels_per_node: 8}", "accels_per_node: 8, nodes: 4}", "t.yaml:7:51: site_sets[0].pool: unknown key 'nodes'"},
      {"latitude: -23.5, ", "", "t.yaml:12:9: site_sets[0].regions[1].latitude: required key is missing"},
      {"name: br-south", "name: us-east", "t.yaml:12:9: site_sets[0].regions[1]: duplicate region 'us-east'"},
  };
  for (const auto& c : cases) {
    std::string yaml = kScenario;
    yaml.replace(yaml.find(c.from), std::string(c.from).size(), c.to);
    auto s = ParseScenario(yaml, "t.yaml");
    ASSERT_FALSE(s.ok()) << c.to;
    EXPECT_THAT(std::string(s.status().message()), StartsWith(c.error)) << c.to;
  }
  // An empty list of sets, and no sites at all.
  std::string none = kScenario;
  none.replace(none.find("site_sets:"), none.find("workload:") - none.find("site_sets:"), "site_sets: []\n");
  auto n = ParseScenario(none, "t.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(std::string(n.status().message()), testing::HasSubstr("give at least one site set"));
  // A generated name may not clash with a listed site.
  std::string clash = kScenario;
  clash.insert(clash.find("site_sets:"), "sites:\n  - {name: edge-017, pools: [{accelerator: H100, nodes: 1}]}\n");
  auto s = ParseScenario(clash, "t.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              testing::HasSubstr("site_sets[0]: generated site 'edge-017' has the name of another site"));
}

}  // namespace
}  // namespace stargate
