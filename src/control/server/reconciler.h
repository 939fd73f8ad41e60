// File: reconciler.h
// The control loop of `stargate server`: it keeps what runs on the nodes
// in step with the jobs in the store, with the same sched/ policies the
// twin uses.
//
// Tick (every NodeRegistry::kPassInterval, 250 ms, and when woken):
//   1. a running job with a node that missed its heartbeats loses the
//      attempt: its other nodes are told to stop it, and once they have
//      (they keep their devices meanwhile, so nothing new lands on a node
//      still running the old rank) it goes back to pending, restarts + 1;
//      preemption victims drain the same way;
//   2. the scheduler places pending jobs on live nodes (ClusterState built
//      from the registered nodes; running gangs allocated); a start bumps
//      the job's attempt and records its nodes in rank order; a preemption
//      requeues its victim.
// OnHeartbeat (per agent, ~1 Hz) is level-triggered: the agent reports the
// tasks it runs and those that ended; the reply lists the tasks of this
// node's running jobs it does not run yet, the tasks it runs that are not
// wanted (cancelled, requeued, stale attempts), and the ended tasks whose
// exit is recorded. A job ends when all its ranks exited 0 (succeeded) or
// one exited non-zero (failed; the rest are stopped).
//
// Not thread-safe: the control plane (control_plane.h) calls it under its
// lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/protocol/node_info.h"
#include "control/protocol/task.h"
#include "control/server/audit_log.h"
#include "control/server/dataset_book.h"
#include "control/server/job_registry.h"
#include "control/server/live_cluster.h"
#include "control/server/metrics.h"
#include "control/server/node_registry.h"
#include "control/server/pass_jobs.h"
#include "control/server/run_time_model.h"
#include "control/server/site_book.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/units.h"
#include "sched/cluster_state.h"
#include "sched/decisions.h"
#include "sched/power_ramp.h"
#include "sched/scheduler.h"

namespace stargate::control {

struct ReconcilerOptions {
  // Whole nodes per site kept out of new placements, for gang repair.
  int hot_spares = 0;
  // A gang that loses a node keeps the rest and restarts in place with a
  // spare of the same pool (hot or merely free); false, or no spare:
  // requeued as a whole.
  bool gang_repair = true;
  // When every node of a site goes silent at once, the site is more likely
  // cut off (its WAN link) than dead: its agents keep their tasks running,
  // so its gangs keep their attempt this long after the site was last
  // heard from, and resume as if nothing happened when it rejoins; after
  // that they restart elsewhere (and the site's stale ranks are stopped
  // when it comes back). New work avoids the silent site meanwhile.
  // 0 = a silent site's gangs restart at once, as for a lost node.
  Duration site_partition_grace = Duration::Seconds(60);
  // A job the scheduler rejects (no registered node could ever run it)
  // fails this long after its submission, not at once, so nodes still
  // joining a new cluster can take it (the twin knows its whole topology
  // from the start: 0 there). Meanwhile its reason says why it waits.
  Duration reject_grace = Duration::Seconds(30);
  // What `--sites` says of the sites (site_book.h): where each is (a
  // job's `placement.near` scores sites by the fibre round trip from
  // there; a site not listed is no distance from anywhere and fails any
  // max_rtt), its PUE and power cap, and its grid's carbon and price with
  // their forecast: the scheduler gets them as the twin's does. Null, or a
  // site not listed: 0 g/kWh, 0 $/MWh, PUE 1.2, no cap.
  std::shared_ptr<const SiteBook> sites;
  // Keep the scheduler's view from pass to pass (KeptView); false builds
  // it afresh every pass, as before (bench/server_pass_bench.cc compares).
  bool keep_view = true;
  // Tests: each pass also builds the scheduler's view afresh and aborts
  // the process unless the kept one is the same (ClusterState::SameAs).
  bool check_kept_view = false;
};

class Reconciler {
 public:
  // The registries and the clock must outlive the reconciler. Checkpoint
  // directories default to <data_dir>/checkpoints/<job id>.
  Reconciler(JobRegistry* jobs, NodeRegistry* nodes, std::unique_ptr<sched::Scheduler> scheduler, std::string data_dir,
             const Clock* clock)
      : jobs_(jobs), nodes_(nodes), scheduler_(std::move(scheduler)), data_dir_(std::move(data_dir)), clock_(clock) {}

  void Configure(const ReconcilerOptions& options) {
    options_ = options;
    cluster_built_ = false;  // the sites (location, PUE, power cap) may have changed
  }
  // Placements, repairs, preemptions and rejections go here too (may be
  // null: tests without one).
  void SetAudit(AuditLog* audit) { audit_ = audit; }
  // Queue waits go here (may be null).
  void SetMetrics(Metrics* metrics) { metrics_ = metrics; }
  // Whether rank launches of a job on a node wait (its checkpoint is being
  // staged at the node's site): such a rank is not handed to its agent
  // yet. Null: none waits.
  void SetLaunchGate(std::function<bool(const JobRecord&, const std::string& node)> gate) {
    launch_gate_ = std::move(gate);
  }
  // Why a pending job is not offered to the scheduler this pass (its
  // newest checkpoint is at a site that is down), becoming its reason;
  // nullopt: offered. Null: every job is.
  void SetHoldGate(std::function<std::optional<std::string>(const JobRecord&, Time now)> gate) {
    hold_gate_ = std::move(gate);
  }
  // For a job that resumes: its newest checkpoint a live site holds (size,
  // and those sites), which the scheduler charges a site without it the
  // time to stage (as data gravity); nullopt: none. Null: never.
  void SetRestoreNeed(std::function<std::optional<DataInput>(const JobRecord&)> need) {
    restore_need_ = std::move(need);
  }
  // Where job files' registered inputs (`inputs: [corpus]`) are looked up
  // each pass (may be null: they charge no data gravity).
  void SetDatasets(const DatasetBook* datasets) { datasets_ = datasets; }
  // One pass of the loop at the clock's now.
  Status Tick();
  // How long a job waits before retry `n` (1, 2, ...) after a rank's
  // non-zero exit ended its attempt: 10 s, doubling, at most 5 min.
  static constexpr Duration kFirstRestartBackoff = Duration::Seconds(10);
  static constexpr Duration kMaxRestartBackoff = Duration::Minutes(5);
  static Duration RestartBackoff(int n) {
    Duration d = kFirstRestartBackoff;
    for (int i = 1; i < n && d < kMaxRestartBackoff; ++i) d = d * 2;
    return std::min(d, kMaxRestartBackoff);
  }
  // Why `spec` could never run on the nodes registered now (down ones
  // counted as up; sched::NeverFits), or nullopt when some site could hold
  // it, or no node has registered yet (nothing is known to refuse on).
  std::optional<std::string> NeverRuns(const JobSpec& spec);
  // A heartbeat from `node`'s agent, at the clock's now.
  // `holding`: ended ramped tasks whose devices its agent holds at their
  // draw until told their fall's turn (HeartbeatResult::fall).
  StatusOr<HeartbeatResult> OnHeartbeat(const std::string& node, const NodeTelemetry& telemetry,
                                        const std::vector<TaskReport>& tasks, const std::vector<TaskRef>& holding = {});

  // How long jobs like a job ran (run_time_model.h): fed here as first
  // attempts end; the control plane trains it.
  RunTimeModel& run_times() { return run_times_; }
  const RunTimeModel& run_times() const { return run_times_; }
  // The model's prediction for `r` (cached while the model's version
  // holds; valid until the next call).
  const RunPrediction& PredictionOf(const JobRecord& r);
  // Refreshes the stale cached predictions of `jobs` in one batch.
  void PredictAll(const std::vector<JobRecord>& jobs);
  void PredictAll(const PassJobs& jobs);
  // Drops the entries of jobs not in `jobs` (every job that may still
  // run) once they are as many as the rest.
  void PrunePredictions(const PassJobs& jobs);
  // The run time the scheduler plans `r` with: its file's estimate, or for
  // `estimate: auto` the prediction.
  Duration EstimateOf(const JobRecord& r);
  // A stored job that ended (the server's start refills the model).
  void Remember(const JobRecord& r);

  // Each site's draw as the last pass reckoned it.
  const std::map<std::string, SiteDraw>& site_draw() const { return site_draw_; }
  // Each site's draw (site_draw()) from its live nodes: the catalog's
  // figure for the devices running ranks hold (their kinds' utilisation,
  // less enforced caps' cuts) and for idle ones, or a node's GPU reading
  // plus the host share when that is higher; times the site's PUE. Each
  // pass calls it first. Incremental: only the nodes heard from, gone
  // silent or whose running ranks changed since the last call are
  // reckoned again (all of them the first time).
  void UpdateDraw(Time now);

  // The environment rank `rank` of running job `r` gets (torchrun and
  // Stargate variables, then the job's own env).
  std::map<std::string, std::string> TaskEnv(const JobRecord& r, int rank) const;

 private:
  Status FailLostGangs(PassJobs& jobs, Time now);
  // What node `name` adds to its site's draw now.
  struct NodeDraw {
    std::string site;
    int64_t it_uw = 0;  // microwatts: sums move by exact amounts
    enum Source { kNone, kMeasured, kEstimated } source = kNone;
  };
  NodeDraw ReckonNode(const std::string& name, Time now) const;
  // Forgets the cap reports of ranks no longer running (now and then).
  void PruneCapReports(Time now);
  // Each site's grid signals (site book) and facility draw (site_draw_).
  void SetSiteSignals(sched::ClusterState& state, Time now);
  // `task` is the current attempt of a job with a rank on `node`.
  bool IsRankOf(const TaskRef& task, const std::string& node);
  // Pending jobs that did not start only because a site's power cap held
  // them back: their reason and an audit entry say so.
  Status NotePowerHolds(const sched::ClusterState& state, const sched::Queue& queue, const std::set<uint64_t>& decided,
                        PassJobs& jobs, Time now);
  // Puts in plain words why pending jobs this pass left waiting wait ("waiting
  // for 2 node(s) with 1 free CPU in one site: the best site (s1) has 1
  // now"), for the first kExplainedPerPass in queue order whose reason
  // says nothing more specific, once they have been among them for
  // kExplainAfter: a job placed sooner never needs it, and with thousands
  // queued each pass would otherwise store a reason for each of the next
  // jobs in line just before placing them (as many writes as placements).
  Status ExplainWaits(const sched::ClusterState& state, const sched::Queue& queue, const std::set<uint64_t>& decided,
                      PassJobs& jobs, Time now);
  static constexpr int kExplainedPerPass = 32;
  static constexpr Duration kExplainAfter = Duration::Seconds(1);
  std::map<uint64_t, Time> unexplained_since_;  // the last pass's first jobs left waiting, since when
  Status Schedule(PassJobs& jobs, Time now);
  // Stops the current attempt: ranks still running on live nodes drain
  // first (the job keeps their devices); with none left it is requeued.
  Status StopAttempt(JobRecord& r, const std::string& reason, Time now);
  // No rank of the attempt runs on a live node any more.
  bool Drained(const JobRecord& r, Time now) const;
  // Requeues a stopping job once drained (a repairing one waits for Schedule).
  Status RequeueIfDrained(JobRecord& r, Time now);
  Status Requeue(JobRecord& r);
  // A new attempt on r.nodes (rank order): env, master, checkpoint interval.
  Status BeginAttempt(JobRecord& r, Time now);
  // The scheduler's view of a job (a pending one, or the base of a repair).
  sched::JobRequest RequestOf(const JobRecord& r, const sched::ClusterState& state);
  Status ApplyDecisions(const sched::Decisions& decisions, const std::vector<std::string>& node_names, PassJobs& jobs,
                        Time now);
  TenantId TenantOf(const std::string& name);
  // The interval of an attempt starting on r.nodes: the job's, or Daly's
  // optimum for `interval: auto` (at least a second).
  Duration PlanCheckpointInterval(const JobRecord& r) const;
  static Duration CheckpointInterval(const JobRecord& r);

  JobRegistry* jobs_;
  NodeRegistry* nodes_;
  std::unique_ptr<sched::Scheduler> scheduler_;
  sched::RampChannels ramp_channels_;  // power choreography (sched/power_ramp.h)
  // Ramped gangs that stopped since the last pass, whose agents' holding
  // loads now fall: the next pass's channel waits for them.
  struct Fall {
    TaskRef task;
    std::vector<std::string> nodes;  // the gang's, whose agents may ask for its turn
    std::string site;
    sched::Rise drawn;  // at a PUE of 1
    Time at;
  };
  std::vector<Fall> falls_;
  std::map<uint64_t, uint32_t> fallen_;  // job -> the attempt whose fall is noted
  // When each noted fall begins (its turn on the site's fall channel),
  // told to the agents holding its ranks' devices; kept a while after.
  struct FallTurn {
    Time at;
    std::vector<std::string> nodes;
  };
  std::map<TaskRef, FallTurn> fall_turns_;
  // Gives the falls noted since the last pass their turns (every pass,
  // whether or not anything waits).
  void TakeFallTurns(Time now);
  // A holding rank's turn, asked by `node`'s agent: when known, its wait
  // from `now`; none while its fall is still to be given one; zero for a
  // fall this server never noted (it restarted since, or the rank was no
  // ramped gang's) or of a gang `node` was not part of (nothing of
  // another tenant's job is told).
  std::optional<Duration> FallTurnOf(const TaskRef& task, const std::string& node, Time now) const;
  bool ramps_seeded_ = false;  // the channels hold the stored jobs' rises
  // A ramped attempt's first rank to end (on `node`): its agents' holding
  // loads fall from what it drew (sched/power_ramp.h); once per attempt.
  void NoteFall(const JobRecord& r, const std::string& node, Time now);
  std::string data_dir_;
  const Clock* clock_;
  std::map<std::string, TenantId> tenants_;
  // Per node: tasks it still runs that no job record holds devices for,
  // and their devices (OnHeartbeat); kept out of placements.
  std::map<std::string, std::map<TaskRef, int>> stale_;
  ReconcilerOptions options_;
  std::map<std::string, SiteDraw> site_draw_;
  // UpdateDraw's state: each node's share, and each site's sums of them.
  struct SiteSum {
    int64_t it_uw = 0;
    int nodes = 0, measured = 0, estimated = 0;
  };
  std::unordered_map<std::string, NodeDraw> node_draw_;
  std::map<std::string, SiteSum> site_sum_;
  bool draw_full_ = true;  // reckon every node on the next pass
  // The cluster view of the registered nodes (live_cluster.h), built again
  // only when they (NodeRegistry::version) or the options change.
  const LiveCluster& Cluster();
  LiveCluster cluster_;
  // The cluster's empty state, for NeverRuns (built with Cluster()).
  std::unique_ptr<sched::ClusterState> fit_state_;
  uint64_t fit_build_ = 0;
  bool cluster_built_ = false;
  uint64_t cluster_version_ = 0;
  uint64_t cluster_builds_ = 0;  // how many times Cluster() built the view
  // The scheduler's view, kept from pass to pass while the cluster view
  // stands (built with build number `view_build_`): a pass takes off what
  // the last one laid on it (the nodes it touched, the gangs gone) and lays
  // what holds devices now, so it costs the running work, not the nodes.
  // The policy then refreshes the pools with running work or changes, not
  // all (ClusterState::TakeChangedPools).
  sched::ClusterState& KeptView(const LiveCluster& c);
  // Lays on `state` what holds devices now: stale tasks, the ranks of
  // running and stopping gangs, the nodes that may not be ready. Appends
  // each node it changes to `laid` and the running gangs (for the release
  // calendar) to `gangs`.
  void LayWork(sched::ClusterState& state, const LiveCluster& c, PassJobs& jobs, Time now, std::vector<uint32_t>* laid,
               std::vector<sched::RunningGang>* gangs);
  // ReconcilerOptions::check_kept_view: aborts unless the kept view is one
  // built afresh.
  void CheckKeptView(const LiveCluster& c, PassJobs& jobs, Time now);
  std::unique_ptr<sched::ClusterState> view_;
  uint64_t view_build_ = 0;
  std::vector<uint32_t> view_nodes_;  // nodes the last pass laid work on or took down
  std::vector<JobId> view_gangs_;     // running gangs the last pass laid
  Time caps_pruned_;
  RunTimeModel run_times_;
  // Per job: its features (its file never changes) and its prediction
  // under the model's version `version`.
  struct Predicted {
    uint64_t version = ~uint64_t{0};
    std::optional<RunFeatures> features;
    std::shared_ptr<const RunPrediction> prediction;
  };
  std::unordered_map<uint64_t, Predicted> predicted_;
  // This model version's predictions by features: jobs alike (an array's
  // elements, a job submitted again) share one. Until a model is trained
  // the version moves with every run observed, so without it each pass
  // would predict every waiting job afresh.
  uint64_t memo_version_ = ~uint64_t{0};
  std::unordered_map<RunFeatures, std::shared_ptr<const RunPrediction>, RunFeaturesHash> memo_;
  // The memo for the model's version now (emptied when it moved).
  void UseMemoOf(uint64_t version);
  // Ranks whose power cap state their agent reported (audited once).
  std::map<std::pair<TaskRef, std::string>, TaskReport::Cap> cap_state_;
  AuditLog* audit_ = nullptr;
  Metrics* metrics_ = nullptr;
  std::function<bool(const JobRecord&, const std::string&)> launch_gate_;
  std::function<std::optional<std::string>(const JobRecord&, Time)> hold_gate_;
  const DatasetBook* datasets_ = nullptr;
  std::function<std::optional<DataInput>(const JobRecord&)> restore_need_;
  Status Audit(Time now, const std::string& action, uint64_t job, const std::string& detail) {
    return audit_ == nullptr ? Status() : audit_->Append(now, "scheduler", action, job, detail);
  }
};

}  // namespace stargate::control
