// File: site_set.h
// A set of sites by index, of any size: the sites a job may use once its
// jurisdictions and regions are resolved against a cluster (a network of
// thousands of small sites has more than any fixed-width mask holds).
// Built once per distinct ask and shared, read-only, by every request that
// asks it (ClusterState::AllowedSites interns them).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/ids.h"

namespace stargate::sched {

class SiteSet {
 public:
  // No site of `num_sites`.
  explicit SiteSet(size_t num_sites) : words_((num_sites + 63) / 64, 0) {}

  void Add(SiteId s) { words_[s.value() / 64] |= uint64_t{1} << (s.value() % 64); }
  // False for a site past the set's size.
  bool Has(SiteId s) const {
    const size_t w = s.value() / 64;
    return w < words_.size() && ((words_[w] >> (s.value() % 64)) & 1) != 0;
  }
  size_t Count() const {
    size_t n = 0;
    for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
    return n;
  }
  bool empty() const { return Count() == 0; }
  bool operator==(const SiteSet&) const = default;

 private:
  std::vector<uint64_t> words_;
};

}  // namespace stargate::sched
