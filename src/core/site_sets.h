// File: site_sets.h
// Generated sites: a scenario's `site_sets` describe many sites in a few
// lines (a decentralized network has thousands of small sites, not ten
// campuses), and ExpandSiteSets turns each into ordinary SiteSpecs. Sites
// draw their region by weight, their coordinates uniformly inside the
// region's box and their node count log-uniformly between the set's bounds
// (each doubling of size about as common, so small sites outnumber big
// ones), all from the set's own seed: the
// network stays the same while a scenario's seed varies its workload and
// failures, and another `seed` on the set draws another network. Pure: no
// I/O, clock or globals.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/series.h"
#include "core/topology.h"

namespace stargate {

struct SiteSetRegion {
  std::string name;          // each site's region
  std::string jurisdiction;  // each site's jurisdiction
  double latitude_min = 0, latitude_max = 0;
  double longitude_min = 0, longitude_max = 0;
  double weight = 1;  // share of the set's sites, relative to the others
  // The region's grid; unset (has_*) takes the set's.
  bool has_carbon = false, has_price = false;
  SeriesSpec carbon, price;
};

struct SiteSetSpec {
  std::string name;  // sites are NAME-0001, NAME-0002, ... (zero-padded to the count's width)
  int count = 0;
  int nodes_min = 1, nodes_max = 1;  // per site, drawn log-uniformly in [min, max]
  PoolSpec pool;                     // every site's one pool; `nodes` is drawn
  std::vector<SiteSetRegion> regions;
  double pue = 1.2;
  SeriesSpec carbon, price;  // for regions that give none
  FabricSpec fabric;
  uint64_t seed = 0;  // draws the sites; not the scenario's seed
};

// Appends each set's sites to *sites, in set order, each set drawing from
// its own seed and name (adding a set leaves the others' sites as they
// were). Each set needs count >= 1, a non-empty region list
// with positive weights, and nodes_min in [1, nodes_max]; the parser
// checks these and the names.
void ExpandSiteSets(const std::vector<SiteSetSpec>& sets, std::vector<SiteSpec>* sites);

}  // namespace stargate
