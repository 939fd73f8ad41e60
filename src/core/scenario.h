// File: scenario.h
// A twin scenario: the network (sites, WAN), the workload and the failure
// processes, as parsed from scenario YAML (core/scenario_parser.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/grid_forecast.h"
#include "core/job_spec.h"
#include "core/topology.h"
#include "core/units.h"

namespace stargate {

// What one failing component takes down.
enum class FailureScope : uint8_t {
  kAccelerator,  // rate counts per device; the device's node goes down
  kNode,         // per host (CPU, DRAM, NIC, PSU, software on the host...)
  kSite,         // the whole site (grid or cooling outage)
};

struct FailureComponent {
  std::string name;
  FailureScope scope = FailureScope::kAccelerator;
  double rate_per_year = 0;               // failures per unit (device, node, site) per year
  Duration repair = Duration::Hours(24);  // how long the unit stays out
};

struct FailureSpec {
  bool enabled = true;
  // A named component set the twin expands: "" = none (just `components`),
  // "llama3" = model::LlamaThreeComponents(). The parser leaves `components`
  // empty when a preset is named.
  std::string preset;
  std::vector<FailureComponent> components;
  double rate_scale = 1.0;                   // multiply every rate (sensitivity studies)
  Duration restart = Duration::Minutes(10);  // job re-init after an interruption
  // When a node of a multi-node gang fails: true = the gang keeps its other
  // nodes and the scheduler finds a replacement for the failed one (gang
  // repair); false = the whole gang is released and requeued.
  bool gang_repair = false;
  // Restart time when a repaired gang resumes on its own nodes plus a spare
  // (no re-placement, warm processes on the survivors); negative = `restart`.
  Duration repair_restart = Duration::Nanos(-1);
  // Failures at given times, on top of the random ones (which `enabled:
  // false` turns off): replaying an incident seen on real machines, or a
  // what-if. Node `node` of site `site` (0-based over its pools in order)
  // fails at `at` and is back `repair` later; with `node: all`
  // (kWholeSite) the whole site does (a grid or cooling outage).
  struct Scripted {
    static constexpr int kWholeSite = -1;
    Duration at;
    std::string site;
    int node = 0;
    Duration repair = Duration::Hours(1);
  };
  std::vector<Scripted> scripted;
};

// A synthetic job stream: Poisson arrivals, sizes and lengths from
// distributions. Sampling is done by twin/workload.
struct GeneratorSpec {
  std::string name;
  JobKind kind = JobKind::kBatch;
  int64_t count = 0;  // jobs to emit over the arrival window
  Time start;         // arrival window
  Time end;           // Never() = scenario end
  struct SizeChoice {
    int accelerators;
    double weight;
    int share_milli = 0;  // `share: 0.25`: a share of one device (JobSpec::share_milli)
  };
  std::vector<SizeChoice> sizes = {{8, 1.0}};
  Duration duration_median = Duration::Hours(2);  // lognormal, non-training kinds
  double duration_sigma = 1.0;
  double params_min = 1e9, params_max = 70e9;  // training: log-uniform
  double tokens_per_param = 20;                // Chinchilla-style D = k*N
  double mfu = 0.40;
  std::vector<AcceleratorType> accelerators;  // acceptable; empty = any GPU
  std::vector<std::string> jurisdictions;
  std::vector<std::string> near;  // each job is near one of these places, uniformly
  Duration max_rtt = Duration::Zero();
  int tenants = 1;  // tenant-0 ... tenant-(n-1), uniform
  int priority = 0;
  CheckpointPolicy checkpoint;
  double deferrable_fraction = 0;
  Duration deadline_slack = Duration::Hours(24);
};

enum class TraceFormat : uint8_t { kPhilly, kAlibabaPai, kHelios, kAcme, kOpenb, kJobList };

struct TraceSpec {
  TraceFormat format = TraceFormat::kPhilly;
  std::string path;  // relative to the scenario file
  // alibaba_pai only: pai_job_table.csv (relative to the scenario file),
  // joined by job_name for each job's submit time and user. Empty = none.
  std::string job_table;
  double time_scale = 1.0;                    // stretch (>1) or compress arrivals
  int64_t limit = 0;                          // 0 = all rows
  std::vector<AcceleratorType> accelerators;  // acceptable types for trace jobs
};

struct WorkloadSpec {
  std::vector<GeneratorSpec> generators;
  std::vector<TraceSpec> traces;
  std::vector<JobSpec> jobs;  // explicit jobs
};

// Knobs of the scheduler's policy set (ScenarioSpec::policy names the set;
// the baseline "fifo" ignores them).
struct SchedulerSpec {
  // Site score: a weighted sum of a candidate placement's estimated run time,
  // emissions and energy cost, each relative to the best candidate (1 = as
  // good as the best). Zero turns a term off.
  double weight_time = 1.0;
  double weight_carbon = 1.0;
  double weight_cost = 0.5;
  // Two terms that are not relative to the best candidate: the WAN round
  // trip from the job's users or data (JobSpec::near) in units of
  // `latency_scale`, and the pool's queue: devices that jobs earlier in the
  // pass chose to wait for there, as a fraction of the pool.
  double weight_latency = 1.0;
  Duration latency_scale = Duration::Millis(100);
  double weight_queue = 0.0;
  // Grid intensity is judged as the mean of now and the mean over this
  // window ahead (the twin's series are a perfect forecast).
  Duration carbon_forecast = Duration::Hours(6);
  // How the scheduler foresees those hours (core/grid_forecast.h); the bill
  // is always the actual series. `forecast_model` in a scenario.
  ForecastModel forecast_model = ForecastModel::kPerfect;
  bool power_cap = true;  // never admit work that would push a site over its cap
  bool backfill = true;   // EASY backfill behind a blocked head
  // Topology-aware gang placement: whole-node gangs in one NVLink domain or
  // one leaf when one has room (sched/placement.h FindGangNodes); false =
  // tightest-fit nodes anywhere in the pool, as the baseline does.
  bool topology = true;
  // Find each job's best pools by walking pools sorted by what the score
  // weighs and stopping once no pool left can beat them
  // (sched/candidate_search.h), instead of weighing every pool. The same
  // placements either way; false is for comparing the two.
  bool bounded_search = true;
  // ... on networks of at least this many pools: on a few, weighing every
  // pool is cheaper than keeping sorted orders (bench/RESULTS.md). Not a
  // scenario key; tests set 0 to compare the two on small networks.
  int bounded_search_min_pools = 64;
  // A pass ends after looking at this many jobs it could not start
  // (blocked, waiting, deferred). Like Slurm, which runs a deep backfill
  // every bf_interval and a shallow pass (default_queue_depth) on each
  // event, a full pass of `backfill_depth` runs at most once per
  // `backfill_interval`; passes in between stop after `queue_depth`.
  int backfill_depth = 1000;
  Duration backfill_interval = Duration::Seconds(60);
  int queue_depth = 100;
  // Carbon-aware deferral of deferrable jobs: wait while the best place to
  // run now is more than `defer_threshold` (relative) dirtier than the
  // cleanest place-and-hour in the forecast window, as long as the job can
  // still finish by its deadline with `defer_margin` to spare (relative to
  // its estimated run time).
  bool defer = true;
  double defer_threshold = 0.2;
  double defer_margin = 0.5;
  // Any job may wait for a better-scoring pool that is full now (a cleaner
  // or faster one, per the weights) when the release calendar says it frees
  // up within this fraction of the job's estimated run time, and within
  // `wait_cap` in any case. 0 = never wait.
  double wait_budget = 0.5;
  Duration wait_cap = Duration::Days(7);
  // The same for a job requeued after a failure or preemption, as a
  // fraction of the run time it has left, counted from the requeue: 0 =
  // restart at once wherever there is room (the default: a resumed job
  // keeps its effective training time).
  double resume_wait_budget = 0.0;
  // Ordering within a priority: weighted fair share across tenants (DRF
  // over accelerators, accelerator memory and power; sched/fair_order.h).
  // Tenants not listed weigh 1. false = submit order. Opt-in, as in Kueue
  // and Slurm's multifactor plugin: it trades carbon for tenant fairness
  // (bench/RESULTS.md).
  bool fair_share = false;
  struct TenantWeight {
    std::string tenant;
    double weight = 1.0;
  };
  std::vector<TenantWeight> tenants;
  // Checkpoint-aware preemption (sched/preemption.h): a job that cannot
  // start and would wait longer than `preempt_after` stops gangs of lower
  // priority, those that lose the least work since their last checkpoint
  // first, each warned `preempt_warning` ahead so it can checkpoint.
  // Power saving (twin/power_save.h, as Slurm's SuspendTime): devices idle
  // for `idle_after` are switched off, but for a warm reserve of `warm`
  // (fraction of each pool's devices, at least its hot spares); a start on
  // switched-off devices waits `boot`. Applies under any policy.
  struct PowerSave {
    bool enabled = false;
    Duration idle_after = Duration::Minutes(30);
    // ESTIMATE: DGX-class servers take several minutes to POST, train
    // their links and load drivers.
    Duration boot = Duration::Minutes(10);
    double warm = 0.05;
  } power_save;
  // Carbon-aware power capping (sched/carbon_cap.h): jobs started where the
  // judged grid intensity is at least `above_g_per_kwh` run with devices
  // limited to `tdp_fraction` of TDP (model/power_cap.h: the trade). Off
  // unless given.
  struct CarbonCap {
    bool enabled = false;
    double above_g_per_kwh = 400;
    double tdp_fraction = 0.7;
  } carbon_cap;
  bool preemption = true;
  Duration preempt_after = Duration::Minutes(10);
  Duration preempt_warning = Duration::Minutes(2);
};

// A job already running when the run begins (an exported live forecast,
// twin::RunningAtStart): `job` names an explicit job; it holds `nodes`
// (site and node index within it, 0-based over its pools in order, all
// in one pool) with `per_node` devices each, has `remaining` of its work
// to do, under `power_cap` (a fraction of TDP; 0 = none), with
// `since_checkpoint` of compute done since its last checkpoint (lost if
// it is interrupted before the next).
struct RunningSpec {
  std::string job;
  std::vector<std::pair<std::string, int>> nodes;
  int per_node = 0;
  double remaining = 1.0;
  double power_cap = 0;
  Duration since_checkpoint;
  int share_slot = -1;  // a share of one device: its slot (twin::RunningAtStart)
};

// A node drained at `at` (twin::NodeDrain): it takes no new work from
// then; what runs on it runs to its end.
struct DrainSpec {
  Duration at;
  std::string site;
  int node = 0;
};

struct ScenarioSpec {
  std::string name;
  std::string description;
  uint64_t seed = 1;
  Duration duration = Duration::Days(30);
  Duration sample_interval = Duration::Hours(1);
  std::string policy = "fifo";  // scheduler policy set (sched/): fifo | stargate
  // Other policy sets to run the same scenario under (same seed, same
  // workload and failures); the report compares them with `policy`.
  std::vector<std::string> compare;
  SchedulerSpec scheduler;
  std::vector<SiteSpec> sites;
  std::vector<WanLinkSpec> wan;
  WorkloadSpec workload;
  FailureSpec failures;
  std::vector<RunningSpec> running;
  std::vector<DrainSpec> drains;
};

}  // namespace stargate
