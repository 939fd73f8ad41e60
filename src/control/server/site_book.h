// File: site_book.h
// What the server knows of its sites from `--sites FILE` (core/site_file.h):
// the file's figures and each site's carbon and price as series (inline,
// or read from their CSV files), asked for what the scheduler gets at a
// time: the grid signals the twin computes the same way
// (sched/grid_signals.h), with staleness. Immutable once loaded: a reload
// (SIGHUP, POST /v1/sites/reload) loads a new book and the control plane
// swaps it in whole, so a pass never sees half of each.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/site_file.h"
#include "core/status.h"
#include "core/units.h"
#include "sched/cluster_state.h"
#include "sched/grid_signals.h"

namespace stargate::control {

// A site's grid at a time, as /v1/sites and /metrics show it.
struct SiteGridNow {
  sched::SiteSignals signals;  // carbon, price, forecast, staleness (no draw)
  bool carbon_given = false;   // the file gives a carbon figure or series
  bool price_given = false;
  Time carbon_as_of = Time::Never();  // the value's point (Never: a constant, or none)
  Time price_as_of = Time::Never();
};

// A site's draw as the server reckons it: the GPU power its live nodes
// report, or for a node without a reading (no nvidia-smi or rocm-smi) the
// catalog's estimate for its busy and idle devices, times the site's PUE.
struct SiteDraw {
  double it_w = 0;
  double facility_w = 0;
  int measured_nodes = 0;
  int estimated_nodes = 0;
  // "measured", "estimate" or "measured + estimate" (nothing live: "none").
  std::string Source() const;
};

class SiteBook {
 public:
  // Parses `yaml` (named `filename`) and reads each series' `file:`,
  // relative to `filename`'s directory. Errors name the file, line and
  // field, or the CSV file and its line.
  static StatusOr<std::shared_ptr<const SiteBook>> Parse(const std::string& yaml, const std::string& filename);
  // Reads `path`, then as Parse.
  static StatusOr<std::shared_ptr<const SiteBook>> Load(const std::string& path);
  // From parsed sites whose series have no `file:` (tests, and Parse).
  static StatusOr<std::shared_ptr<const SiteBook>> FromSites(std::vector<SiteInfo> sites,
                                                             const std::string& base_dir = ".");

  const std::vector<SiteInfo>& sites() const { return sites_; }
  // The `url:` sources to poll (grid_feed.h).
  struct Source {
    std::string site;
    std::string signal;  // "carbon" or "price"
    std::string url;
    Duration poll;
  };
  std::vector<Source> Sources() const;
  // A copy with `points` for `site`'s `signal`, if it is still fed from
  // `url` (a reload may have changed it); else null.
  // A copy that keeps `old`'s fetched points for each signal fed from the
  // same `url:` in both (a reload does not make them stale).
  std::shared_ptr<const SiteBook> WithFeedsOf(const SiteBook& old) const;
  std::shared_ptr<const SiteBook> WithPoints(const std::string& site, const std::string& signal, const std::string& url,
                                             std::vector<std::pair<Time, double>> points) const;
  // nullptr for a site the file does not list.
  const SiteInfo* Find(const std::string& name) const;
  // Its grid at `now`; a site not in the file, or without a figure, has 0
  // (never stale).
  SiteGridNow GridAt(const std::string& name, Time now) const;

 private:
  struct Series {
    bool given = false;
    bool constant = true;  // a mean alone: never stale
    sched::PointSeries points;
  };
  std::vector<SiteInfo> sites_;
  std::map<std::string, size_t> index_;
  std::vector<Series> carbon_, price_;  // per site
};

}  // namespace stargate::control
