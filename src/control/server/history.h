// File: history.h
// The last 24 hours of the network at one-minute resolution, kept in the
// server's memory for the dashboard's time-series panels (GET
// /v1/history): per site its facility draw against its cap, its busy
// devices and its grid carbon; the queue depth; jobs started and finished
// per minute. A ring of kSamples; a restarted server starts it empty
// (Prometheus scraping /metrics keeps longer history). Sites past
// kMaxSites (in name order) are in the totals only: a network of
// thousands of sites keeps 24 h in a bounded few MB. Not thread-safe (the
// control plane's lock).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/units.h"

namespace stargate::control {

struct SiteSample {
  float facility_w = 0;  // the draw the server reckons (site_book.h)
  float cap_w = 0;       // 0: no cap
  float busy = 0;        // devices held by running ranks
  float devices = 0;     // on live nodes
  float carbon = -1;     // g/kWh; -1: unknown
};

struct HistorySample {
  Time at;
  int64_t pending = 0, running = 0;
  int64_t started = 0, finished = 0;  // in the minute before `at`
  SiteSample total;                   // every site (carbon: draw-weighted)
  std::vector<SiteSample> sites;      // by History::sites() index
};

class History {
 public:
  static constexpr Duration kEvery = Duration::Seconds(60);
  static constexpr size_t kSamples = 24 * 60;
  static constexpr size_t kMaxSites = 256;

  // True once a sample is due at `now` (the first at once).
  bool Due(Time now) const { return samples_.empty() || now >= samples_.back().at + kEvery; }
  // Adds `s`, whose per-site samples come in `by_site` (name -> sample):
  // the first kMaxSites names met are kept by name, the rest summed only.
  void Add(HistorySample s, const std::map<std::string, SiteSample>& by_site);
  const std::deque<HistorySample>& samples() const { return samples_; }
  const std::vector<std::string>& sites() const { return sites_; }
  // The JSON of GET /v1/history (docs/rest-api.md): columns, uPlot style.
  nlohmann::json ToJson() const;

 private:
  std::deque<HistorySample> samples_;
  std::vector<std::string> sites_;
  std::map<std::string, size_t> index_;
};

}  // namespace stargate::control
