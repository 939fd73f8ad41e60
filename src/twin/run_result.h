// File: run_result.h
// Everything a twin run produces, as plain data: one record per job, hourly
// series per site, and the aggregate summary. Report writers (report_*.h)
// only read this; the engine only writes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/accelerator.h"
#include "core/hour_values.h"
#include "core/job_spec.h"
#include "core/units.h"

namespace stargate::twin {

enum class JobOutcome : uint8_t { kFinished, kRunning, kPending, kRejected };
std::string_view Name(JobOutcome o);

struct JobRecord {
  uint32_t id = 0;
  std::string name;
  std::string tenant;
  JobKind kind = JobKind::kBatch;
  int accelerators = 0;
  int nodes = 0;
  AcceleratorType accelerator = AcceleratorType::kCpu;  // of the last placement
  int site = -1;  // index into RunResult::sites of the last placement; -1 never ran
  Time submit;
  Time first_start = Time::Never();
  Time end = Time::Never();       // finish time, or Never if it did not finish
  Duration wait;                  // total time pending (first wait plus waits after failures)
  int restarts = 0;               // interruptions that sent it back to the scheduler
  double useful_device_s = 0;     // device-seconds of work that counted
  double allocated_device_s = 0;  // device-seconds held (useful + checkpoint + restart + lost)
  double work_done = 0;           // fraction of its whole work done in this run (0..1)
  Duration checkpoint_interval;   // chosen interval (0 = none)
  double energy_kwh = 0;          // facility energy of its devices while held (x PUE)
  double co2_kg = 0;              // that energy x the hourly grid intensity it ran in
  double cost_usd = 0;            // that energy x the hourly price
  bool sla_missed = false;        // had a deadline and did not finish by it
  JobOutcome outcome = JobOutcome::kPending;
  std::string reason;  // the last scheduling decision's reason (see AuditRecord)
};

// The audit trail: every scheduling decision the twin applied, in order.
enum class AuditAction : uint8_t { kStart, kDefer, kPreempt, kReject, kRepair };
std::string_view Name(AuditAction a);

// A job deferred again and again (it wakes, is looked at, and waits on)
// is one record: `count` decisions from `at` to `last`, with the latest
// reason, so the trail grows with decisions that change something.
struct AuditRecord {
  Time at;
  uint32_t job = 0;
  AuditAction action = AuditAction::kStart;
  int site = -1;       // where it started or ran; -1 = none
  std::string detail;  // the scheduler's reason (the latest, when count > 1)
  uint32_t count = 1;
  Time last;  // time of the latest of the `count` decisions
};

// One value per hour of simulated time (`up` may be empty: see there).
struct SiteSeries {
  std::string name;
  std::string jurisdiction;
  int64_t accelerators = 0;
  double power_cap_mw = 0;
  std::vector<double> utilisation;  // busy device-hours / device-hours
  std::vector<double> facility_mw;  // mean facility power over the hour
  HourValues carbon;                // grid gCO2/kWh (shared with the run's inputs where they hold exactly its hours)
  HourValues price;                 // USD/MWh (likewise)
  std::vector<double> up;  // fraction of the hour the site was up (an outage draws nothing); empty: up throughout
  double energy_mwh = 0;
  double peak_mw = 0;  // instantaneous maximum facility power
  // Its largest move at one instant, and within any minute (twin/power_swings.h).
  double largest_step_mw = 0, largest_ramp_mw_per_min = 0;
  double tco2 = 0;
  double cost_usd = 0;
  double busy_device_h = 0;  // device-hours its jobs held, all hours
  int64_t failures = 0;      // component failures at the site
};

struct Percentiles {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};

// Per job kind, so a policy's trade-offs show where they land (a carbon-aware
// wait falls mostly on long training runs, not on short batch jobs).
struct KindSummary {
  int64_t jobs = 0, started = 0, finished = 0;
  double jct_mean_h = 0;   // finished jobs
  double wait_mean_h = 0;  // jobs that started
  double workload_tco2 = 0;
};
inline constexpr int kNumJobKinds = 4;

// Checkpoints across sites (issue 22): replication traffic over the WAN,
// restores at another site, and what site outages did to the jobs whose
// checkpoints they held.
struct CheckpointTraffic {
  double replication_tb = 0;  // replica copies of every checkpoint written
  int64_t restores = 0;       // restarts that first copied a checkpoint from another site
  double restore_tb = 0;
  double staging_h = 0;      // their copy time, before the job computed again
  int64_t site_losses = 0;   // running jobs whose site went down under them
  int64_t waited = 0;        // of those: waited for the site and resumed from its store
  double waited_h = 0;       // time all of them waited for their site
  int64_t from_replica = 0;  // restarted elsewhere from a replica
  int64_t from_scratch = 0;  // restarted from their start (no reachable checkpoint)
  double redone_h = 0;       // work those restarts did again (wall hours on the gang)
  bool any() const { return replication_tb > 0 || restores > 0 || site_losses > 0; }
};

// Input data brought to where jobs ran (data gravity, JobSpec::inputs).
struct DataMoves {
  int64_t moves = 0;  // starts that first moved data
  double tb = 0;
  double hours = 0;  // their move time, before the job computed
};

// Trace replay: the queueing a trace recorded for its jobs (start less
// submit) beside the twin's for the same jobs, those that started in the
// run. With a trace's time_scale other than 1 the two are not on one clock.
struct TraceReplay {
  int64_t jobs = 0;
  Percentiles recorded_wait_h;
  Percentiles twin_wait_h;
};

// The oracle bound (oracle/oracle_bound.h), when `twin run --bound` asked
// for it: the least tCO2 and cost any schedule could have spent on this
// run's work, from a time-indexed linear program. `fixed_*` is the part no
// schedule avoids (idle devices that stay powered).
struct BoundFigures {
  bool computed = false;
  double tco2 = 0, cost_usd = 0;
  double fixed_tco2 = 0, fixed_cost_usd = 0;
  // Where the optimum puts the work, per site of the run (in its order):
  // the least-tCO2 solution's busy device-hours and tonnes, the least-cost
  // solution's dollars, each with the site's share of the fixed part. They
  // add up to the solutions' optima, which a proven figure may undercut by
  // up to a relative 1e-4: beside the run's own per site, they show where
  // its gap is.
  struct Site {
    double busy_device_h = 0, tco2 = 0, cost_usd = 0;
  };
  std::vector<Site> sites;
  double slot_h = 1;    // the program's time step (carbon and price: the slot's lowest hour)
  bool proven = false;  // both figures are duality bounds (else the solver's optimum, within its tolerance)
  int64_t classes = 0, rows = 0, columns = 0;
};

struct Summary {
  std::string scenario;
  uint64_t seed = 0;
  std::string policy;
  double simulated_days = 0;
  int64_t accelerators = 0;
  int64_t nodes = 0;
  int64_t jobs_total = 0, jobs_finished = 0, jobs_running = 0, jobs_pending = 0, jobs_rejected = 0;
  Percentiles jct_h;           // finished jobs, submit -> end, hours
  Percentiles wait_h;          // jobs that started, total pending time, hours
  double utilisation = 0;      // busy device-time / device-time, all sites
  double goodput = 0;          // useful device-time / allocated device-time
  double useful_device_h = 0;  // work done: device-hours that counted, all jobs
  double ettr = 0;             // training jobs: useful wall / (end or horizon - first start)
  int64_t interruptions = 0;   // job interruptions by failures
  int64_t gang_repairs = 0;    // failed gang nodes replaced in place (failures.gang_repair)
  int64_t failures = 0;        // component failures anywhere
  double energy_mwh = 0;
  double peak_mw = 0;                                       // max over sites of site peak
  double largest_step_mw = 0, largest_ramp_mw_per_min = 0;  // max over sites
  std::string largest_step_site;                            // where the largest step was
  // Power choreography at ramp-limited sites (sched/power_ramp.h): starts
  // given a ramp, the job time they lost to it, the holding loads' energy;
  // stopped gangs held for their fall's turn, and those whose turn would
  // have come after sched::kMaxFallWait (fell beside others).
  int64_t ramped_starts = 0;
  int64_t held_falls = 0, overdue_falls = 0;
  double ramp_wait_h = 0;
  double holding_mwh = 0;
  double tco2 = 0;
  double cost_usd = 0;
  // The part of energy, emissions and cost drawn by devices while jobs held
  // them (idle capacity excluded): what placement and timing can change.
  double workload_energy_mwh = 0;
  double workload_tco2 = 0;
  double workload_cost_usd = 0;
  int64_t sla_misses = 0;           // jobs with a deadline that did not finish by it
  int64_t deferrals = 0;            // carbon-aware Defer decisions applied
  int64_t power_capped_starts = 0;  // starts under a carbon-aware power cap
  int64_t preemptions = 0;          // running jobs stopped (after a warning) for higher priority
  CheckpointTraffic checkpoints;
  DataMoves inputs;
  TraceReplay replay;
  BoundFigures bound;
  // The same with every finished job due by the hour this run finished it
  // (oracle::BoundOptions::by_run_ends).
  BoundFigures bound_at_run_ends;
  KindSummary by_kind[kNumJobKinds];  // indexed by JobKind
  int64_t events = 0;
  int64_t scheduler_passes = 0;
};

struct RunResult {
  Summary summary;
  std::vector<JobRecord> jobs;
  std::vector<SiteSeries> sites;
  std::vector<AuditRecord> audit;
};

// The indexes of `r`'s sites by how far their tCO2 is from the oracle
// bound's share of it (Summary::bound's sites), furthest first (ties in site
// order), at most `limit`: where the run's gap is. Empty without a bound.
std::vector<size_t> SitesFurthestFromBound(const RunResult& r, size_t limit);

}  // namespace stargate::twin
