// File: control_plane.h
// The state of one `stargate server` and its only owner: the job and node
// registries over the store, the audit log, the metrics and the
// reconciler, behind one lock that nothing outside sees. The REST API,
// the agent API and the control loop each call a narrow method here,
// which takes the lock, does its work on the registries and returns plain
// values; so the store sees one writer at a time, every request sees and
// leaves a whole state, and the lock is never held across the network
// (a log fetch, a slow client). Time comes from the injected Clock, so a
// test drives the whole control plane on a ManualClock.
//
// Thread-safe: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <absl/base/thread_annotations.h>

#include "control/protocol/agent_proto.h"
#include "control/protocol/node_info.h"
#include "control/protocol/task.h"
#include "control/server/audit_log.h"
#include "control/server/checkpoint_replicator.h"
#include "control/server/dataset_book.h"
#include "control/server/forecast.h"
#include "control/server/history.h"
#include "control/server/job_registry.h"
#include "control/server/metrics.h"
#include "control/server/node_identity.h"
#include "control/server/node_registry.h"
#include "control/server/reconciler.h"
#include "control/store/store.h"
#include "core/clock.h"
#include "core/site_file.h"
#include "core/units.h"
#include "sched/scheduler.h"

namespace stargate::control {

struct ControlPlaneOptions {
  // Absolute: a job's checkpoints default to <data_dir>/checkpoints/<id>,
  // and its tasks run elsewhere.
  std::string data_dir;
  // A node is down once it has missed heartbeats this long.
  Duration heartbeat_timeout = Duration::Seconds(5);
  // At most this many heartbeats wait in long polls at once. Each is
  // looked at again at every change; past this a heartbeat is answered at
  // once and its agent told to beat again in 1-2 s (a node count or a
  // client that would park without end costs poll latency instead).
  int max_long_polls = 1024;
  ReconcilerOptions reconciler;
  // `--sites FILE` (site_book.h): location, power cap, PUE, grid carbon
  // and price of each site; sites it does not list have none of it. Null:
  // no file. `sites_file` is read again by ReloadSites.
  std::shared_ptr<const SiteBook> sites;
  std::string sites_file;
  // Told of events an operator lines up with others (a stall of the
  // control loop); null = stderr.
  std::function<void(const std::string&)> log;
  // How agents prove which node they are (node_identity.h).
  NodeAuth node_auth = NodeAuth::kNone;
  // A gap between passes longer than NodeRegistry::kStall is a stall of
  // the loop, and moves the nodes' heartbeat deadlines by it (a server
  // paused is not every node silent). Off only for a driver that passes
  // at events instead of on the loop's cadence (the conformance test on
  // the manual clock), where hours between passes are no stall.
  bool credit_stalls = true;
  // What the scheduler was made with: the live forecast (forecast.h) makes
  // its own of the same policy from it.
  SchedulerSpec scheduler_spec;
};

class ControlPlane {
 public:
  // The heartbeat interval agents are told to keep.
  static constexpr Duration kHeartbeatInterval = Duration::Seconds(1);
  // A heartbeat's long poll never holds its reply longer.
  static constexpr Duration kMaxHeartbeatWait = Duration::Seconds(5);
  // A heartbeat that reports ends waits at most this for the pass they
  // wake, to carry the new work that pass places on the node.
  static constexpr Duration kHoldForPass = Duration::Millis(100);

  // `store` and `clock` must outlive the control plane.
  ControlPlane(Store* store, Clock* clock, std::unique_ptr<sched::Scheduler> scheduler, ControlPlaneOptions options);
  // Answers the parked polls (StopLoop) and ends the keeper's threads.
  ~ControlPlane();

  // Reads the nodes the store knows (each alive for the restart grace),
  // and (once) refills the run-time model from the jobs that ended.
  Status Load();
  // Appends to the audit log (a server starting or taking the lead).
  Status Audit(const std::string& actor, const std::string& action, uint64_t job, const std::string& detail);

  // ---- Users (the REST API). `actor` names the caller in the audit log.
  struct Submitted {
    JobRecord job;
    bool created = false;  // false: the idempotency key's earlier job
  };
  // `parsed` is `text` parsed, by the caller and outside the lock (a
  // large file takes long to parse; heartbeats wait on the lock). The job
  // and its audit entry commit in one transaction. An idempotency key is
  // the tenant's: AlreadyExists when the tenant used it for another job
  // file.
  StatusOr<Submitted> Submit(JobFile parsed, const std::string& text, const std::string& filename,
                             const std::string& idempotency_key, const std::string& actor);
  // Parses, then as above. InvalidArgument for a bad job file
  // (file:line:field).
  StatusOr<Submitted> Submit(const std::string& text, const std::string& filename, const std::string& idempotency_key,
                             const std::string& actor);
  // Many submissions (job files, arrays) in one transaction, each with its
  // audit entry: all stored, or none (JobRegistry::SubmitMany). The
  // callers parsed the files outside the lock.
  StatusOr<std::vector<JobRegistry::Made>> SubmitMany(std::vector<JobRegistry::NewJob> batch, const std::string& actor);
  // The elements of job array `array_id` (NotFound: no such array).
  StatusOr<std::vector<JobRecord>> Array(uint64_t array_id);
  // Cancels every element of the array not yet ended (one audit entry);
  // returns the elements now (in index order).
  StatusOr<std::vector<JobRecord>> CancelArray(uint64_t array_id, const std::string& reason, const std::string& actor);
  // Cancels job `id`, `reason` becoming its reason. NotFound;
  // FailedPrecondition for a job that already ended.
  StatusOr<JobRecord> Cancel(uint64_t id, const std::string& reason, const std::string& actor);
  StatusOr<JobRecord> Job(uint64_t id);
  // The copies of job `id`'s checkpoints between sites, planned or made
  // (checkpoint_replicator.h).
  std::vector<CheckpointCopyState> CheckpointCopies(uint64_t id);
  StatusOr<std::vector<JobRecord>> Jobs();
  StatusOr<std::vector<AuditEntry>> QueryAudit(const AuditFilter& filter);
  StatusOr<int64_t> Revision();
  // Returns once every commit made so far is on disk (store.h, group
  // commit): called before any answer leaves the server, without the lock,
  // so one fsync serves every answer that waits meanwhile.
  Status AwaitDurable();
  // Stored jobs that could not be read back at load (why, per record).
  std::vector<std::string> UnreadableJobs();

  // Every known node as of one instant, with its sites' records.
  struct NodeView {
    NodeInfo info;
    NodeTelemetry telemetry;
    bool alive = false;
  };
  struct NodesView {
    Time now;
    std::vector<NodeView> nodes;               // by name
    std::map<std::string, SiteHealth> health;  // by site
  };
  NodesView Nodes();
  std::optional<NodeInfo> FindNode(const std::string& name);
  // What --sites says now (null: no file), the grid it gives each site
  // at `now`, and each site's draw as the last pass reckoned it.
  struct SitesView {
    Time now;
    std::shared_ptr<const SiteBook> book;
    std::map<std::string, SiteDraw> draw;
  };
  SitesView Sites();
  // Reads the --sites file again and uses it from the next pass (SIGHUP,
  // POST /v1/sites/reload). FailedPrecondition without a file; a bad file
  // (InvalidArgument, naming file, line and field) changes nothing.
  // Audited as `actor`.
  Status ReloadSites(const std::string& actor);
  // The points an HTTP source answered for `site`'s `signal` (grid_feed.h);
  // NotFound when the sites no longer feed it from `url` (reloaded).
  Status SetFeed(const std::string& site, const std::string& signal, const std::string& url,
                 std::vector<std::pair<Time, double>> points);
  // GET /metrics.
  std::string RenderMetrics();
  // GET /v1/history: the last 24 h at one-minute resolution (history.h).
  nlohmann::json HistoryJson();
  // What a live forecast starts from (forecast.h), copied under the lock;
  // the forecast itself runs outside it.
  StatusOr<ForecastSnapshot> ForecastState();
  // The run-time model's prediction for each of `jobs` (run_time_model.h).
  std::map<uint64_t, RunPrediction> Predictions(const std::vector<JobRecord>& jobs);
  // Trains the run-time model when enough jobs ended since it last was:
  // the rows are copied under the lock, the trees fitted outside it (a
  // pass never waits for them), the model swapped in under it. One at a
  // time; the server calls it every few seconds.
  Status TrainRunTimes();

  // ---- Agents (the agent API). `proof` is what the call showed of who
  // it is (its TLS certificate's names); the join token and credential
  // travel in the messages. Every refusal is audited (once a minute per
  // node and reason) and counted.
  // The node credential to hand back ("" = none due). PermissionDenied
  // without proof of the node (node_identity.h); FailedPrecondition while
  // another live agent holds the node.
  StatusOr<std::string> Register(const Registration& r, AgentProof proof = {});
  // The node's agent stopped cleanly: down now, and not a failure.
  // PermissionDenied as for heartbeats. Blocks until LeaveAsync answers.
  Status Leave(const AgentHeartbeat& h, AgentProof proof = {});
  // Leave for a server that answers later: `done` is called once, never
  // under the control plane's lock, when the leave is on disk (on the
  // answering thread when it is not yet), so a completion queue's thread
  // never waits for a sync.
  void LeaveAsync(const AgentHeartbeat& h, AgentProof proof, std::function<void(Status)> done);
  // A long poll: answers at once when there is something for the node to
  // do (or to register again), else once something changes or the wait
  // the agent asked for (at most kMaxHeartbeatWait) is over, or once
  // `cancelled` says the caller gave up (looked at when the poll keeper
  // wakes: Nudge() when it turns true). Idempotent for the same reports.
  // PermissionDenied, with nothing recorded, for a call without an agent
  // id, without proof of the node, or from another agent than the node's
  // live holder. Blocks until HeartbeatAsync answers.
  StatusOr<HeartbeatResult> Heartbeat(const AgentHeartbeat& h, const std::function<bool()>& cancelled = nullptr,
                                      AgentProof proof = {});
  // What Heartbeat returns, handed to a server that answers later.
  using HeartbeatAnswer = std::function<void(StatusOr<HeartbeatResult>)>;
  // Heartbeat without a thread held per long poll (the agent API's gRPC
  // async method): a poll that would wait is parked, and the control
  // plane's poll keeper looks at it again at each change and deadline.
  // `answer` is called once, never under the control plane's lock: on
  // this thread for a refused call or one whose reply is on disk already,
  // else on the control plane's answering thread once it is durable.
  // `cancelled` may be called until then, from the keeper.
  void HeartbeatAsync(const AgentHeartbeat& h, std::function<bool()> cancelled, AgentProof proof,
                      HeartbeatAnswer answer);
  // A parked poll's caller gave up: the keeper looks at once.
  void Nudge() {
    { std::lock_guard<std::mutex> lock(mu_); }  // the keeper is waiting or will see the flag
    Changed();
  }

  // ---- Node identity (admins, the REST API).
  StatusOr<std::pair<std::string, JoinToken>> CreateJoinToken(Duration ttl, const std::string& node,
                                                              const std::string& actor);
  StatusOr<std::vector<JoinToken>> JoinTokens();
  Status RevokeJoinToken(const std::string& id, const std::string& actor);
  Status RevokeNode(const std::string& node, const std::string& actor);

  // ---- Datasets (the REST API; dataset_book.h). The site must be one the
  // server knows (its sites file or a node's --site): InvalidArgument
  // naming the known ones otherwise. Audited as `actor`.
  StatusOr<Dataset> RegisterData(const std::string& tenant, const std::string& name, DatasetCopy copy,
                                 const std::string& actor);
  // Without its copy at `site` ("" = every copy: the dataset is gone).
  StatusOr<Dataset> UnregisterData(const std::string& tenant, const std::string& name, const std::string& site,
                                   const std::string& actor);
  std::vector<Dataset> Datasets(const std::string& tenant);
  std::optional<Dataset> FindDataset(const std::string& tenant, const std::string& name);

  // ---- The control loop.
  // One pass now: note a stall of the loop, requeue gangs that lost a
  // node, place pending jobs; wakes waiting heartbeats.
  void Pass();
  // Passes every NodeRegistry::kPassInterval, and at once when a job is
  // submitted or cancelled or a task ends, until StopLoop(), which also
  // answers the heartbeats waiting in long polls (the server is stopping).
  void RunLoop();
  void StopLoop();
  // Passes made so far (a test on a ManualClock waits for the next one).
  uint64_t passes();

 private:
  // After a change a waiting heartbeat or the loop should see.
  void Changed() {
    changed_.notify_all();
    if (parked_count_.load(std::memory_order_acquire) > 0) keeper_wake_.notify_all();
  }

  // One heartbeat in flight: what it reported and what it waits for.
  struct Poll {
    AgentHeartbeat h;
    std::function<bool()> cancelled;
    HeartbeatAnswer answer;  // HeartbeatAsync's
    bool reports_an_end = false;
    Time deadline;       // of its wait, from its arrival
    Time pass_deadline;  // of a hold for the pass its ends wake
    uint64_t passes_before = 0;
    bool held = false;  // counted in metrics_.long_polls
    StatusOr<HeartbeatResult> r;
    bool GaveUp() const { return cancelled && cancelled(); }
  };
  enum class PollNext { kAnswer, kHoldForPass, kWait };
  // A poll of `h` arriving now (its deadline counts from here).
  Poll MakePoll(const AgentHeartbeat& h) const;
  // Vouches for the poll's caller and counts it.
  Status BeginPoll(Poll& p, AgentProof proof) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the node's heartbeat (again: it is idempotent for the same
  // reports) and says whether to answer now, hold for the pass its ends
  // wake, or wait for news.
  PollNext StepPoll(Poll& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After kWait: holds one long poll more, or turns the poll away (its
  // reply says when to beat again) when max_long_polls are held.
  bool HoldPoll(Poll& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleasePoll(Poll& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A poll's step (first or again): parks it (null), or gives it back to
  // be answered.
  std::unique_ptr<Poll> Settle(std::unique_ptr<Poll> p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueAnswer(std::unique_ptr<Poll> p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The poll keeper and the answering thread, started by the first call
  // that may need them.
  void StartPollThreads() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The keeper: looks at parked polls again at each change and deadline,
  // until the loop is stopped and none is parked.
  void KeepPolls();
  // The answering thread: waits once for durability for every poll queued
  // meanwhile, then answers them (group commit's one fsync serves all).
  void AnswerPolls();
  std::vector<std::unique_ptr<Poll>> parked_ ABSL_GUARDED_BY(mu_);
  std::thread keeper_, answerer_;  // started with the first HeartbeatAsync
  // With mu_: a poll was parked, a change while some are (Changed), or
  // the loop stops.
  std::condition_variable keeper_wake_;
  std::atomic<size_t> parked_count_{0};  // parked_.size(), read without mu_ by Changed
  std::mutex answer_mu_;
  std::condition_variable answer_cv_;
  std::vector<std::unique_ptr<Poll>> to_answer_ ABSL_GUARDED_BY(answer_mu_);
  bool answerer_stop_ ABSL_GUARDED_BY(answer_mu_) = false;
  void PassLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A call after registering (a heartbeat, a leave) speaks for `node`: it
  // has an agent id, proof of the node, and is the live holder's.
  // PermissionDenied (refused: audited, counted) otherwise.
  Status Vouch(const std::string& node, const std::string& agent_id, const AgentProof& proof)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Audits and counts a refused agent call; `st` says why.
  Status Refuse(const std::string& node, const std::string& agent_id, const Status& st)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  Clock* const clock_;
  const std::string sites_file_;
  const std::function<void(const std::string&)> log_;
  const bool credit_stalls_;
  const int max_long_polls_;
  const std::string policy_;  // the scheduler's name
  const SchedulerSpec scheduler_spec_;

  std::mutex reload_mu_;  // taken before mu_, by ReloadSites only
  std::mutex train_mu_;   // taken before mu_, by TrainRunTimes only
  RunTimeModel::Trainer trainer_ ABSL_GUARDED_BY(train_mu_);
  std::mutex mu_;
  // Notified (with or without mu_) when jobs or placements change: wakes
  // the loop and long-polling heartbeats.
  std::condition_variable changed_;
  JobRegistry jobs_ ABSL_GUARDED_BY(mu_);
  NodeRegistry nodes_ ABSL_GUARDED_BY(mu_);
  AuditLog audit_ ABSL_GUARDED_BY(mu_);
  NodeIdentity identity_ ABSL_GUARDED_BY(mu_);
  DatasetBook datasets_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Time> refusal_audited_ ABSL_GUARDED_BY(mu_);  // node and reason -> last audit
  Time refusal_window_ ABSL_GUARDED_BY(mu_);
  int refusal_audits_ ABSL_GUARDED_BY(mu_) = 0;
  static constexpr int kRefusalAudits = 100;
  Metrics metrics_ ABSL_GUARDED_BY(mu_);  // before the reconciler, which updates it
  Reconciler reconciler_ ABSL_GUARDED_BY(mu_);
  ReconcilerOptions reconciler_options_ ABSL_GUARDED_BY(mu_);  // its sites swapped by a reload
  CheckpointReplicator replicator_ ABSL_GUARDED_BY(mu_);
  // reconciler_options_ (changed) to the reconciler and the replicator.
  void ConfigureLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool stop_loop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  bool history_loaded_ ABSL_GUARDED_BY(mu_) = false;
  // The dashboard's time series: a sample a minute, taken by a pass.
  void SampleHistory(Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  History history_ ABSL_GUARDED_BY(mu_);
  uint64_t history_started_ ABSL_GUARDED_BY(mu_) = 0;  // first starts counted at the last sample
  int64_t history_ended_ ABSL_GUARDED_BY(mu_) = -1;    // jobs ended at the last sample (-1: none yet)
};

}  // namespace stargate::control
