// File: grid_feed.h
// A site's carbon or price from an HTTP source (`url:` in --sites), polled
// every `poll` by GridPoller on the server's clock. The source answers
// GET with JSON of timestamped values and, optionally, a forecast:
//
//   {"values":   [{"at": "2026-12-03T10:00:00Z", "value": 412.5}, ...],
//    "forecast": [{"at": "2026-12-03T11:00:00Z", "value": 380.0}, ...]}
//
// `at` is a UTC date-time ("Z" optional) or Unix seconds; values are in
// the signal's unit (gCO2/kWh, USD/MWh). Both lists become the series'
// points (a forecast is the points ahead of now), replacing the last
// answer's. A source that fails keeps its last points, which go stale
// after `stale_after` (then the site's mean stands in); failures are
// logged and counted. The request carries no credentials of the server.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/site_file.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

class ControlPlane;

// The points of one answer, in time order (a repeated time: the later
// entry). InvalidArgument naming the entry for anything else.
// Values outside `range` are refused.
StatusOr<std::vector<std::pair<Time, double>>> ParseGridFeed(std::string_view json_text,
                                                             SignalRange range = {-1e300, 1e300});

// Polls every `url:` source of the control plane's current sites (a
// reload's new sources included) and hands their points to it.
class GridPoller {
 public:
  GridPoller(ControlPlane* cp, Clock* clock, std::function<void(const std::string&)> warn)
      : cp_(cp), clock_(clock), warn_(std::move(warn)) {}
  // Polls what is due, then waits on the clock for the next due time (or
  // a minute, or Stop). Returns once stopped.
  void Run();
  void Stop();
  // One round at the clock's now: fetches every source that is due.
  // Returns how many were fetched (tests).
  int PollDue();
  uint64_t failures() const { return failures_.load(); }

 private:
  ControlPlane* cp_;
  Clock* clock_;
  std::function<void(const std::string&)> warn_;
  std::map<std::string, Time> next_;  // source ("site/signal url") -> when it is due
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<uint64_t> failures_{0};
};

}  // namespace stargate::control
