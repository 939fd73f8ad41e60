// File: engine.h
// The twin's discrete-event engine. It owns the simulated cluster, feeds the
// scheduler through the same seam the orchestrator uses
// (sched::Scheduler::Schedule), applies its decisions as simulated runs, and
// injects component failures. Time is integer nanoseconds; ties break on
// insertion order; all randomness comes from the scenario seed, so a run is
// byte-for-byte reproducible.
//
// Single-threaded; one Engine per run (many may run side by side).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "model/placement_shape.h"
#include "sched/cluster_state.h"
#include "sched/queue.h"
#include "sched/request_of.h"
#include "sched/scheduler.h"
#include "twin/event_queue.h"
#include "twin/inputs.h"
#include "twin/node_jobs.h"
#include "twin/power_save.h"
#include "twin/run_result.h"
#include "twin/segment.h"
#include "twin/series_integral.h"
#include "twin/site_meter.h"
#include "twin/site_ramp.h"

namespace stargate::twin {

class Engine {
 public:
  static constexpr uint32_t kNoNode = UINT32_MAX;

  // `inputs` must outlive the engine.
  Engine(const TwinInputs& inputs, std::unique_ptr<sched::Scheduler> scheduler);

  // Record the audit trail (RunResult::audit); on by default. A 10 GW year
  // makes millions of decisions: the trail costs ~15% of run time and
  // ~150 MiB there, so bulk runs may turn it off.
  void set_audit(bool on) { audit_on_ = on; }

  // Called with the fraction of simulated time done, at most ~200 times.
  using Progress = std::function<void(double)>;
  // Once per engine: what only the run needs (the scheduler's indexes, the
  // staged grid figures) is freed before the result is built, where a year
  // of 10,000 sites peaks.
  RunResult Run(const Progress& progress = {});

 private:
  struct JobState {
    JobOutcome outcome = JobOutcome::kPending;
    bool arrived = false;
    uint32_t epoch = 0;
    int per_node = 0;
    uint16_t pool = 0;
    // A share of one device (sched::Start::share_milli) in slot share_slot
    // of its one node; 0 = whole devices.
    int16_t share_milli = 0;
    uint8_t share_slot = 0;
    int restarts = 0;
    float utilisation = 0;
    double remaining = 1.0;        // fraction of the job's work still to do
    double start_remaining = 1.0;  // ... when the run began (less for a job running then)
    double place_total_s = 0;      // whole job's runtime on the current placement
    Segment seg;
    Duration head;  // running when the run began: compute since its last checkpoint (its first segment's head)
    Time seg_start;
    Time pending_since;
    Duration wait;
    Time first_start = Time::Never();
    Time end = Time::Never();
    double useful_device_s = 0;
    double allocated_device_s = 0;
    double useful_wall_s = 0;
    double energy_j = 0;  // facility energy of the devices it held
    double co2_g = 0;
    double cost_usd = 0;
    std::vector<uint32_t> nodes;     // held nodes (survivors only while repairing)
    std::vector<uint32_t> failed;    // gang nodes lost and not yet replaced
    bool holding = false;            // pending a gang repair, keeping `nodes` (idle: its draw taken off)
    bool shape_stale = true;         // `shape` no longer matches `nodes`
    bool resumed_in_place = false;   // this segment follows a gang repair
    model::PlacementShape shape;     // span of `nodes`, for the step-time model
    Time hold_start;                 // hold time is booked from here
    Time warned_at = Time::Never();  // preempted: the warning went out then
    bool booting = false;            // its next segment first waits for switched-off devices
    Duration ramp_wait;              // its next segment first waits for its power ramp (sched/power_ramp.h)
    double cut_w = 0;                // device draw its power cap saves, per device
    double power_cap = 0;            // its Start's (a fraction of TDP; 0 = none)
    double slowdown = 1.0;           // wall time under its power cap / uncapped
    // The site whose store holds its newest checkpoint (-1: none yet): a
    // restart elsewhere first copies it over the WAN (staging), and a site
    // outage strands it there unless a replica is elsewhere.
    int32_t ckpt_site = -1;
    int32_t data_site = -1;   // where its input data was last brought (-1: not yet)
    std::string reason;       // of its last decision that gave one
    int64_t last_audit = -1;  // audit_ index of its last decision
  };

  void Arrive(uint32_t j, Time now);
  // A job running when the run begins (TwinInputs::running), on its nodes.
  void StartRunning(const RunningAtStart& r);
  void RunSchedulerPass(Time now);
  void StartJob(const sched::Start& s, Time now);
  void ApplyRepair(const sched::Repair& r, Time now);
  void BeginSegment(uint32_t j, Time now);
  // Node `index` of site `site`, counted over its pools in order.
  uint32_t SiteNode(const std::string& site, int index) const;
  // Adds (or with negative `devices`, removes) the draw of `devices` of job
  // `j`'s devices to its pool's utilisation sum and power-cap savings.
  void AddDraw(uint32_t j, double devices);
  void FinishJob(uint32_t j, Time now);
  // Preempt decision: warn the running job now, stop it `warning` later.
  // False when it does not apply (not running, or already warned).
  bool WarnJob(uint32_t j, Duration warning, Time now);
  // Appends to the audit trail.
  void Audit(uint32_t j, Time now, AuditAction action, int site, std::string detail);
  // The warning is over: keep what the job saved, free its gang, requeue it.
  void StopPreempted(uint32_t j, Time now);
  // `failed` = the node whose failure stops the job, or kNoNode when the
  // whole gang is lost (site outage); gang repair only applies to the former.
  void InterruptJob(uint32_t j, Time now, uint32_t failed);
  // A running job's attempt is over: one restart more, pending from now.
  void BackToPending(uint32_t j, Time now);
  // Gives back every node of job `j`'s gang (survivors of a repair too).
  void ReleaseGang(uint32_t j, Time now);
  // Running job `j` loses site `site` (down for `repair`), with its
  // checkpoint store: as the server's replicator does, it waits for the
  // site while waiting costs less than the work at stake (its
  // checkpoint.site_wait), else restarts from the replica another site
  // holds (one copy behind), or from its start.
  void LoseSite(uint32_t j, uint32_t site, Duration repair, Time now);
  // A job's checkpoint size (training jobs; 0 for the rest), and how long
  // a copy of it takes from site `a` to site `b` over their WAN link.
  double CheckpointBytesOf(uint32_t j) const;
  Duration CopyTime(uint32_t j, int a, int b) const;
  // Where job `j`'s replica is when `site` holds its checkpoints: the
  // nearest other site that is up and inside its jurisdictions (-1: none,
  // or the job keeps one copy).
  int ReplicaSite(uint32_t j, uint32_t site) const;
  void BookHold(uint32_t j, Time now);
  // Charges job `j` for holding its devices over [from, to] at `utilisation`.
  void ChargeEnergy(uint32_t j, Time from, Time to, double utilisation);
  // Keeps js.shape exact when the gang swaps failed node `out` for `in`
  // (already recorded in jobs_on_node_), scanning only their blocks.
  void SwapInShape(uint32_t j, uint32_t out, uint32_t in);
  // The sites `nodes` span and, over more than one, the WAN between them
  // (the largest latency and the narrowest bandwidth among their pairs)
  // into `shape`.
  void SpreadOverSites(const std::vector<uint32_t>& nodes, model::PlacementShape* shape) const;
  // True if job `j` holds a node in global range [begin, end) other than `skip`.
  bool HoldsIn(uint32_t j, uint32_t begin, uint32_t end, uint32_t skip) const;
  // The scheduler request for pending job `j` (a repair request while it holds a gang).
  sched::JobRequest RequestFor(uint32_t j) const;
  void ReleaseNodes(uint32_t j, Time now);
  void FailNode(uint32_t node, Duration repair, Time now);
  void OnPoolFailure(uint32_t pool, Time now);
  void OnSiteFailure(uint32_t site, Time now);
  // The whole site down for `repair` (a random site failure or a scripted one).
  void TakeSiteDown(uint32_t site, Duration repair, Time now);
  void ScheduleNextPoolFailure(uint32_t pool, Time now);
  void ScheduleNextSiteFailure(uint32_t site, Time now);
  void RefreshSitePower(uint32_t site, Time now);
  // Power choreography (sched/power_ramp.h): whether `site` has a ramp
  // limit; job `j`'s gang's facility watts above idle; the site's next
  // ramp change scheduled.
  bool Choreographed(uint32_t site) const { return state_.site(SiteId(static_cast<uint16_t>(site))).ramp_w_per_s > 0; }
  sched::Rise RiseOf(uint32_t j) const;
  void StepRamp(uint32_t site, Time now);
  // Gang `j`, just started or restarted on `slot` (from Choreograph): its
  // rise planned where its site is choreographed, and the time it costs.
  void PlanRise(uint32_t j, const sched::RampSlot& slot, Time now);
  // Gang `j` at choreographed `site` stops drawing: its agents' holding
  // load falls (SiteRamp::Stop) and the site's channel waits for it.
  void HoldFall(uint32_t j, uint32_t site, Time now);
  // Power saving: `devices` of pool `p` became idle / are taken by job `j`.
  void FreedDevices(uint32_t p, int64_t devices, Time now);
  void TakeDevices(uint32_t p, int64_t devices, uint32_t j);
  // Pushes each site's grid carbon (now and ahead) and price to the
  // scheduler's view, once per simulated hour.
  void PushGridSignals(Time now);
  // Every site's grid figures for the kStagedHours from `hour` on, site by
  // site (each site's series read once, in order) into staged_.
  void StageGridSignals(int64_t hour);
  // Books the segment that ends at `now`, of which `useful` compute counts.
  void Account(uint32_t j, Time now, Duration useful, bool finished);
  // Takes `useful` compute on the current placement off the work left.
  static void DoneWork(JobState& js, Duration useful);
  // The release-calendar entry for running job `j`, ending at `end`.
  sched::RunningGang GangOf(uint32_t j, Time end) const;
  // Devices whose draw and time a job is charged: its share of one, or
  // its nodes' devices.
  static double Drawn(const JobState& js) {
    return js.share_milli > 0 ? js.share_milli / 1000.0 : static_cast<double>(js.nodes.size()) * js.per_node;
  }
  RunResult Collect(Time horizon);

  const TwinInputs& in_;
  std::unique_ptr<sched::Scheduler> scheduler_;
  sched::ClusterState state_;
  sched::Queue queue_;
  EventQueue events_;
  Rng rng_;
  std::vector<JobState> jobs_;
  NodeJobs jobs_on_node_;
  std::vector<SiteMeter> meters_;
  std::vector<SiteRamp> ramps_;         // per site (twin/site_ramp.h)
  std::vector<Time> ramp_step_at_;      // per site: its kRampStep event pending (Never: none)
  sched::RampChannels ramp_channels_;   // the scheduler side of the choreography
  std::vector<double> pool_util_sum_;   // sum over busy devices of utilisation
  std::vector<double> pool_cut_w_;      // sum over busy devices of power-cap savings
  std::vector<PoolPowerSaver> savers_;  // per pool, when scheduler.power_save is on
  std::vector<double> pool_fail_rate_;  // failures per ns
  std::vector<double> site_fail_rate_;  // site-scope failures per ns
  std::vector<int64_t> site_failures_;
  std::vector<int> site_down_;  // outstanding site outages
  std::vector<bool> drained_;   // per node: out of service (TwinInputs::drains), never back up
  // Per job: its placement asks resolved against the sites (types,
  // jurisdictions, regions, where its users are), as an index into the
  // distinct ones.
  std::vector<sched::ResolvedPlacement> placements_;
  std::vector<uint32_t> placement_of_;
  std::vector<Duration> estimate_;  // per job, on its reference accelerator
  std::vector<AuditRecord> audit_;
  std::vector<TenantId> tenant_;                                  // per job: its tenant, interned in first-seen order
  std::vector<SeriesIntegral> carbon_integral_, price_integral_;  // per site
  int64_t signals_hour_ = -1;                                     // hour the grid signals were last pushed for
  // A site's grid figures at the start of one hour, as SetGridSignals
  // gives them. A `min_at` at that start says the window's least is now's
  // own value: its carbon_min_at is then the push's time.
  struct StagedSignals {
    double carbon = 0, price = 0, ahead = 0, min_ahead = 0;
    Time min_at;
  };
  static constexpr int64_t kStagedHours = 24;  // 9.6 MB at 10,000 sites, freed before the result is built
  std::vector<StagedSignals> staged_;          // [hour - staged_from_][site]
  int64_t staged_from_ = -1;
  std::vector<uint32_t> mark_domain_, mark_leaf_, mark_pod_;  // StartJob scratch
  uint32_t mark_generation_ = 0;
  int64_t events_processed_ = 0;
  int64_t passes_ = 0;
  int64_t interruptions_ = 0;
  int64_t gang_repairs_ = 0;
  int64_t deferrals_ = 0;
  int64_t preemptions_ = 0;
  int64_t capped_starts_ = 0;
  int64_t ramped_starts_ = 0;  // starts given a power ramp
  bool losing_site_ = false;   // TakeSiteDown is ending the site's gangs
  double ramp_wait_s_ = 0;     // their time lost to it (JobState::ramp_wait)
  int64_t failures_ = 0;
  // Checkpoints across sites (issue 22).
  CheckpointTraffic ckpt_;
  DataMoves inputs_;
  bool dirty_ = false;
  bool audit_on_ = true;
};

// Loads nothing: runs `inputs` with the policy the scenario names.
StatusOr<RunResult> RunTwin(const TwinInputs& inputs, const Engine::Progress& progress = {}, bool audit = true);

}  // namespace stargate::twin
