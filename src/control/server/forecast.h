// File: forecast.h
// The live shadow twin: what the next hours hold for the running network,
// from its state now, simulated with the same scheduler.
//
// ControlPlane::ForecastSnapshot copies what a forecast needs under the
// control plane's lock (nodes, their health, the sites file, the jobs,
// the policy); everything here runs on that copy, outside the lock, so a
// forecast never delays a scheduling pass. ForecastScenario turns the
// snapshot into twin inputs: the cluster as the control loop sees it
// (live_cluster.h; silent nodes down for the whole horizon), each site's
// grid carbon and price hour by hour as the sites file and its feeds give
// them (site_book.h: series, forecasts, the mean when stale), each
// running job on its nodes with the work its estimate says is left, the
// queue in order with its constraints, and per site the node failure
// rate measured since the server started. RunForecast runs it once per
// seed (the failures differ) and folds the runs: per job its start and
// finish (p10, p50, p90 over the seeds; a run in which it does not start
// or finish within the horizon counts as later than any that does), its
// likeliest site and its interruptions; per site its power against its
// cap, utilisation and emissions; the network's goodput.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "control/protocol/node_info.h"
#include "control/server/job_registry.h"
#include "control/server/node_registry.h"
#include "control/server/run_time_model.h"
#include "control/server/site_book.h"
#include "core/scenario.h"
#include "core/status.h"
#include "core/units.h"
#include "twin/inputs.h"

namespace stargate::control {

struct ForecastSnapshot {
  Time now;
  std::string policy;  // the server's scheduler (sched::MakeScheduler)
  SchedulerSpec scheduler;
  std::map<std::string, NodeInfo> nodes;
  std::set<std::string> alive;
  std::map<std::string, SiteHealth> health;  // by site
  std::shared_ptr<const SiteBook> sites;     // null: no --sites
  std::vector<JobRecord> jobs;               // pending and running
  // Per job id: the run-time model's prediction (run_time_model.h);
  // absent = the file's estimate.
  std::map<uint64_t, RunPrediction> run_times;
  int hot_spares = 0;
  bool gang_repair = false;
};

struct ForecastOptions {
  Duration horizon = Duration::Hours(24);
  int seeds = 4;
  uint64_t first_seed = 1;
  static constexpr Duration kMaxHorizon = Duration::Days(7);
  static constexpr int kMaxSeeds = 64;
  // Seeds x horizon at most this: 64 seeds of a day, or 9 of a week (one
  // ask holds the forecaster, and any role may ask).
  static constexpr int64_t kMaxSeedHours = 64 * 24;
};

// A what-if: the state changed before it is run ahead, so that the answer
// can be compared with the baseline (the same seeds: what differs is what
// the change does). Times are from now.
struct WhatIf {
  struct Drain {  // a site's nodes or one node take no new work from `at`
    std::string target;
    Duration at;
  };
  struct AddNodes {  // `count` new nodes of `per_node` x `type` at `site` (a new site too)
    std::string site;
    int count = 1;
    AcceleratorType type = AcceleratorType::kH100;
    int per_node = 8;
  };
  struct Spike {  // the site's grid carbon (g/kWh) or price ($/MWh) is `value` over [from, to)
    std::string site;
    bool carbon = true;
    double value = 0;
    Duration from, to;
  };
  std::vector<Drain> drains;
  std::vector<AddNodes> add_nodes;
  std::string policy;                     // "" = the server's
  std::map<std::string, double> weights;  // the stargate policy's: time, carbon, cost, latency, queue
  std::vector<Spike> spikes;
  std::string submit;  // a job file submitted now ("" = none), and its name for messages
  std::string submit_filename = "what-if.yaml";
  bool empty() const {
    return drains.empty() && add_nodes.empty() && policy.empty() && weights.empty() && spikes.empty() && submit.empty();
  }
};

// p10, p50, p90 over the seeds; Time::Never() = not within the horizon.
using Quantiles = std::array<Time, 3>;

struct JobForecast {
  uint64_t id = 0;
  std::string name, tenant;
  JobState state = JobState::kPending;                           // now
  int started = 0, finished = 0;                                 // seeds in which it did, within the horizon
  Quantiles start{Time::Never(), Time::Never(), Time::Never()};  // pending jobs
  Quantiles finish{Time::Never(), Time::Never(), Time::Never()};
  std::string site;           // where it ran in most seeds ("" = none)
  double site_share = 0;      // in that many of the seeds
  double interruptions = 0;   // mean over the seeds
  double co2_kg = 0;          // of its work within the horizon, mean over the seeds
  Duration run_time;          // what the runs took it to run for (run_time_model.h)
  std::string run_time_from;  // where that came from
  double fail_early = 0;      // the model's chance its next attempt fails early (a pending job's runs draw it)
  bool added = false;         // the what-if's submitted job
};

struct SiteForecast {
  std::string name;
  int64_t accelerators = 0;
  double power_cap_mw = 0;  // 0 = none
  double mean_mw = 0, peak_mw = 0;
  double utilisation = 0;
  double tco2 = 0;
  double node_failures_per_year = 0;  // the measured rate the runs used
};

struct Forecast {
  Time now;
  Duration horizon;
  int seeds = 0;
  std::string policy;
  std::vector<JobForecast> jobs;  // in id order
  std::vector<SiteForecast> sites;
  double goodput = 0;          // useful / allocated device-time, mean over the seeds
  double useful_device_h = 0;  // mean over the seeds
  double tco2 = 0;
  double cpu_seconds = 0;  // what the runs took
};

// A what-if's forecast against the baseline's (the same seeds): the jobs
// whose p50 start, p50 finish or likeliest site moved, and the submitted
// one; every site's figures before and after; the network's.
struct ForecastDiff {
  struct Job {
    uint64_t id = 0;
    std::string name, tenant;
    bool added = false;
    Time start_before = Time::Never(), start_after = Time::Never();
    Time finish_before = Time::Never(), finish_after = Time::Never();
    std::string site_before, site_after;
    double co2_kg_before = 0, co2_kg_after = 0;
  };
  struct Site {
    std::string name;
    double tco2_before = 0, tco2_after = 0;
    double mean_mw_before = 0, mean_mw_after = 0;
    double utilisation_before = 0, utilisation_after = 0;
  };
  std::vector<Job> jobs;    // in id order
  std::vector<Site> sites;  // by name
  double goodput_before = 0, goodput_after = 0;
  double tco2_before = 0, tco2_after = 0;
};
ForecastDiff Diff(const Forecast& baseline, const Forecast& what_if);

// The twin inputs for `snapshot` over `horizon` (seed 1) with `what_if`
// applied. `job_ids[i]` is the server's id of the twin's job i (the
// submitted job's: one past the largest). InvalidArgument, naming the
// field, for a what-if that names no such site or node, a bad job file or
// policy.
StatusOr<twin::TwinInputs> ForecastScenario(const ForecastSnapshot& snapshot, Duration horizon, const WhatIf& what_if,
                                            std::vector<uint64_t>* job_ids);

// The scenario the forecast's first seed runs, as a scenario file
// (twin/scenario_export.h) that `stargate twin run` reruns to the same
// results: each job named NAME#ID, the early failures that seed draws in
// place. Errors as RunForecast's.
StatusOr<std::string> ExportForecast(const ForecastSnapshot& snapshot, const ForecastOptions& options,
                                     const WhatIf& what_if = {});

// InvalidArgument for a horizon outside (0, 7 days] or seeds outside
// [1, 64], or a bad what-if.
StatusOr<Forecast> RunForecast(const ForecastSnapshot& snapshot, const ForecastOptions& options,
                               const WhatIf& what_if = {});

}  // namespace stargate::control
