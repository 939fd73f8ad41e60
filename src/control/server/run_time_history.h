// File: run_time_history.h
// What finished jobs took against what their files said (run time over
// `estimate`), by group (the same tenant and name), so that the forecast
// runs a job for what jobs like it took rather than what it says: users
// over-estimate (a backfill scheduler rewards a generous limit), and a
// forecast built on estimates is late by as much.
//
// A job's ratio is its group's median once the group has kMinGroup
// entries, else the median of all jobs once there are kMinAll, else 1 (the
// file's estimate). Only attempts that ran once, whole, count (a restart's
// run time is not the job's). Bounded: kKeep entries per group, the most
// recent; kMaxGroups groups, the least recently added dropped first.
// Medians are cached between adds: the forecast asks for every live job
// under the control plane's lock. Lives in memory: after a restart it
// fills again as jobs finish.
// Not thread-safe (the control plane's lock guards it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace stargate::control {

class RunTimeHistory {
 public:
  static constexpr size_t kKeep = 64;
  static constexpr size_t kMinGroup = 3;
  static constexpr size_t kMinAll = 10;
  static constexpr size_t kMaxGroups = 10'000;

  struct Estimate {
    double ratio = 1.0;  // predicted run time / the file's estimate
    std::string from;    // "3 earlier runs of ml/train", "40 earlier jobs", "the job file"
  };

  // A ratio outside [0.01, 100] (a clock step, a bogus estimate) is dropped.
  void Add(const std::string& tenant, const std::string& name, double ratio);
  Estimate For(const std::string& tenant, const std::string& name) const;
  size_t size() const { return all_.size(); }

 private:
  static double Median(const std::deque<double>& v);

  struct Group {
    std::deque<double> ratios;
    uint64_t last = 0;                     // when it was last added to (adds_)
    mutable std::optional<double> median;  // cached until the next Add
  };
  std::map<std::pair<std::string, std::string>, Group> groups_;
  std::deque<double> all_;  // the most recent kKeep x 16 of any group
  mutable std::optional<double> all_median_;
  uint64_t adds_ = 0;
};

}  // namespace stargate::control
