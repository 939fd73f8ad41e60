#include "core/site_sets.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/rng.h"

namespace stargate {
namespace {

// Index of the region drawn by weight.
size_t DrawRegion(const std::vector<SiteSetRegion>& regions, double total_weight, Rng& rng) {
  double x = rng.Uniform() * total_weight;
  for (size_t i = 0; i + 1 < regions.size(); ++i) {
    if (x < regions[i].weight) return i;
    x -= regions[i].weight;
  }
  return regions.size() - 1;
}

// Log-uniform in [lo, hi + 1), floored: each doubling of size about as
// common (as many sites of 2-3 nodes as of 32-63).
int DrawNodes(int lo, int hi, Rng& rng) {
  if (lo >= hi) return lo;
  const double x = std::exp(rng.Uniform(std::log(lo), std::log(hi + 1.0)));
  return std::clamp(static_cast<int>(x), lo, hi);
}

}  // namespace

void ExpandSiteSets(const std::vector<SiteSetSpec>& sets, std::vector<SiteSpec>* sites) {
  for (const SiteSetSpec& set : sets) {
    // The set's name labels its stream: two sets with one seed differ.
    uint64_t label = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char ch : set.name) label = (label ^ ch) * 1099511628211ULL;
    Rng rng = Rng(set.seed).Fork(label);
    double total_weight = 0;
    for (const SiteSetRegion& r : set.regions) total_weight += r.weight;
    const int width = static_cast<int>(fmt::format("{}", set.count).size());
    for (int i = 0; i < set.count; ++i) {
      const SiteSetRegion& region = set.regions[DrawRegion(set.regions, total_weight, rng)];
      SiteSpec s;
      s.name = fmt::format("{}-{:0{}d}", set.name, i + 1, width);
      s.region = region.name;
      s.jurisdiction = region.jurisdiction;
      s.latitude = rng.Uniform(region.latitude_min, region.latitude_max);
      s.longitude = rng.Uniform(region.longitude_min, region.longitude_max);
      s.pue = set.pue;
      s.carbon = region.has_carbon ? region.carbon : set.carbon;
      s.price = region.has_price ? region.price : set.price;
      s.fabric = set.fabric;
      PoolSpec pool = set.pool;
      pool.nodes = DrawNodes(set.nodes_min, set.nodes_max, rng);
      s.pools.push_back(pool);
      sites->push_back(std::move(s));
    }
  }
}

}  // namespace stargate
