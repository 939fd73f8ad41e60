// File: job_registry.h
// The server's jobs, kept in the Store: submit (exactly once per
// idempotency key, so a client that retries after a timeout or a server
// crash never creates a job twice), look up, list and cancel. A job is
// stored as the job file text the user sent plus its control-plane state;
// the text is re-parsed on load, so the stored form is what the user wrote.
//
// Keys: jobs/<id, 12 digits> -> JSON record; idempotency/<tenant>/<key>
// -> id (a key is its tenant's: one tenant's key never finds another's
// job); meta/next_job_id -> counter. Every change is one compare-and-swap
// transaction, so two servers on one store never hand out the same id.
//
// Reads come from a write-through cache of every record (loaded on first
// use), with an index of the running jobs by node, so a heartbeat or a
// control-loop pass never re-reads and re-parses the store. That assumes
// one writer per store (the leader, with etcd); a write that loses a
// compare-and-swap reloads that record. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/store/store.h"
#include "core/clock.h"
#include "core/job_file.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

enum class JobState : uint8_t { kPending, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view Name(JobState s);
bool IsFinal(JobState s);

// The newest complete checkpoint of a job in one site's store, as the
// agent that speaks for the site last reported it (checkpoint_replicator.h).
struct SiteCheckpoint {
  int64_t step = 0;
  uint64_t bytes = 0;
  Time seen;  // when first reported
  auto operator<=>(const SiteCheckpoint&) const = default;
};

struct JobRecord {
  uint64_t id = 0;
  JobState state = JobState::kPending;
  std::string spec_text;  // the job file as submitted
  std::string filename;   // as the client named it (for messages)
  JobFile spec;           // parsed from spec_text
  Time submitted;
  Time updated;
  int restarts = 0;
  std::string idempotency_key;  // "" when none was given
  std::string reason;           // why the state is what it is
  // The current (or last) placement, set when the job starts.
  uint32_t attempt = 0;            // starts so far; tasks carry it so nothing runs twice
  std::vector<std::string> nodes;  // node names in rank order
  std::string master_addr;
  int master_port = 0;
  // A share of one device (spec.spec.share_milli): the slot of its node
  // the scheduler packed it into (sched::Start::share_slot); its agent
  // maps the slot to one device (STARGATE_GPU_SHARE_SLOT).
  int share_slot = 0;
  std::vector<int> exits;  // per node of this attempt; kRunningExit until it ends
  // The attempt is being stopped (preempted, or a node of the gang was
  // lost): its ranks are told to stop and keep their devices until they
  // have exited (or their nodes are gone); then the job is requeued.
  bool stopping = false;
  // Stopping to restart in place: once drained, lost nodes are replaced by
  // spares of the same pool (gang repair) and the survivors keep theirs;
  // with no spare the job is requeued as a whole.
  bool repairing = false;
  int failed_attempts = 0;  // attempts a rank's non-zero exit ended (spec.max_restarts bounds the retries)
  // The rank whose non-zero exit ended the last failed attempt (-1: none
  // did): `job logs` shows its output by default.
  int failed_rank = -1;
  Time started;
  // This attempt's checkpoint interval: the job's, or for `interval: auto`
  // Daly's optimum for its nodes' measured failure rates at the start.
  Duration checkpoint_interval;
  // A stopping attempt's warning (a preemption's): its ranks get SIGTERM
  // and SIGKILL this much later; 0 = the agent's own grace.
  Duration stop_grace;
  // A pending job the scheduler deferred (to a cleaner hour) is not
  // offered to it again before this time; `reason` says why.
  Time deferred_until;
  // This attempt's device power limit as a fraction of TDP (0 = none).
  double power_cap = 0;
  // Its power ramp (sched::Start's ramp_*, at a ramp-limited site): its
  // tasks launch no earlier than `launch_at`, at their devices' lowest
  // limit for `ramp_hold`, then rise evenly over `ramp_up`.
  Time launch_at;
  Duration ramp_hold, ramp_up;
  // When the attempt began stopping (StopAttempt), and when the job last
  // went back to the queue (a requeue; Epoch = never: queued at submit).
  Time stop_since;
  Time queued;
  // An element of a job array (job_array.h): the array's id (its first
  // element's job id; 0 = not in an array) and this element's index. The
  // array's indices are spec.array.
  uint64_t array_id = 0;
  uint32_t array_index = 0;
  // Per site: the newest complete checkpoint its store holds (issue 22).
  std::map<std::string, SiteCheckpoint> checkpoints;
  int64_t revision = 0;  // store revision of this record

  static constexpr int kRunningExit = -1000;
  static constexpr int kLostExit = -1001;          // its node was lost: it will never report
  static constexpr int kNeverStartedExit = -1002;  // stopped before its node's agent started it
};

// Devices running ranks hold on their nodes, counted job after job: a
// rank of whole devices holds its per-node count; a share of one device
// (spec.share_milli) holds its slot's device once, however many shares
// run in it (as ClusterState counts them).
class DeviceTally {
 public:
  // What `r`'s rank on `node` would add, and adding it.
  int Peek(const std::string& node, const JobRecord& r) const {
    if (r.spec.spec.share_milli == 0) return r.spec.spec.per_node;
    return slots_.count({node, r.share_slot}) ? 0 : 1;
  }
  int Add(const std::string& node, const JobRecord& r) {
    const int n = Peek(node, r);
    if (r.spec.spec.share_milli > 0) slots_.emplace(node, r.share_slot);
    return n;
  }

 private:
  std::set<std::pair<std::string, int>> slots_;
};

class JobRegistry {
 public:
  // `store` and `clock` (submit and update times) must outlive the registry.
  JobRegistry(Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  // Writes that must commit with a new job (its audit entry), added to
  // each attempt's transaction.
  using AlsoWrite = std::function<Status(Txn&, const JobRecord&)>;
  // Stores a new pending job: `spec` is `spec_text` parsed. With a
  // non-empty idempotency key the job's tenant already used, returns the
  // job stored under it (`*created` false) and stores nothing; when that
  // job's file differs from `spec_text`, AlreadyExists.
  StatusOr<JobRecord> Submit(JobFile spec, const std::string& spec_text, const std::string& filename,
                             const std::string& idempotency_key, bool* created = nullptr, const AlsoWrite& also = {});
  // Parses, then as above. InvalidArgument for a bad job file
  // (file:line:field).
  StatusOr<JobRecord> Submit(const std::string& spec_text, const std::string& filename,
                             const std::string& idempotency_key, bool* created = nullptr);
  // Many submissions in one transaction (a bulk submit, an array): each
  // is a job, or with spec.array one job per index (consecutive ids, the
  // first the array's id). `also` runs once per submission, with its
  // first job. An idempotency key already used answers that submission
  // with its earlier jobs, as above; one key twice in a batch is
  // InvalidArgument. All or nothing.
  struct NewJob {
    JobFile spec;  // `text` parsed; spec.array may be set from elsewhere (--array)
    std::string text;
    std::string filename;
    std::string idempotency_key;
    // False: refused (ControlPlane::SubmitMany) when no site could ever
    // run it on the nodes known now, rather than left to wait for one.
    bool allow_pending = true;
  };
  struct Made {
    std::vector<JobRecord> jobs;  // one, or an array's elements in index order
    bool created = false;
  };
  StatusOr<std::vector<Made>> SubmitMany(std::vector<NewJob> batch, const AlsoWrite& also = {});
  // The elements of the array whose id is `array_id`, in index order;
  // NotFound when no array has that id.
  StatusOr<std::vector<JobRecord>> Array(uint64_t array_id);
  // Cancels every element of the array not yet ended, in one transaction;
  // returns the elements it cancelled.
  StatusOr<std::vector<JobRecord>> CancelArray(uint64_t array_id, const std::string& reason);
  // NotFound for an unknown id.
  StatusOr<JobRecord> Get(uint64_t id);
  // All jobs in id order.
  StatusOr<std::vector<JobRecord>> List();
  // Jobs not yet succeeded, failed or cancelled, in id order.
  StatusOr<std::vector<JobRecord>> ListLive();
  // Each of them in id order, without a copy. The records stay where they
  // are until Forget (Update replaces a record's value in place), so `f`
  // may keep their addresses; it must not call the registry.
  Status ForEachLive(const std::function<void(const JobRecord&)>& f);
  // Ids of jobs with a rank still running on `node` (running jobs, and
  // cancelled or failed ones whose rank has not exited yet).
  StatusOr<std::vector<uint64_t>> RunningOn(const std::string& node);
  // Cancelled or failed jobs with ranks that have not exited yet: their
  // devices stay taken until they do.
  StatusOr<std::vector<JobRecord>> ListEndedButRunning();
  // Without copies, for a pass over what changed (the records must be
  // loaded: after any other call that succeeded). Null for an unknown id.
  const JobRecord* Peek(uint64_t id) const {
    auto it = cache_.find(id);
    return it == cache_.end() ? nullptr : &it->second;
  }
  // Jobs by state, and the devices running ranks hold on each node (not
  // capped at the node's count), in one pass over the records without
  // copies: /metrics and the dashboard's history count them alike.
  struct Census {
    std::map<JobState, int64_t> by_state;
    std::map<std::string, int64_t> busy_on;
  };
  StatusOr<Census> TakeCensus();
  // The ids RunningOn gives, without a copy (null: none).
  const std::set<uint64_t>* RunningOnRef(const std::string& node) const {
    auto it = running_on_.find(node);
    return it == running_on_.end() ? nullptr : &it->second;
  }
  // The nodes where the ranks running changed since the last call (a job
  // placed, ended, requeued, or its record otherwise rewritten while a
  // rank runs there): what they draw may have changed.
  std::set<std::string> TakeTouchedNodes() { return std::exchange(touched_nodes_, {}); }
  // Writes `r` back if nobody changed it since it was read (its revision);
  // FailedPrecondition otherwise. Returns it with the new revision.
  StatusOr<JobRecord> Update(JobRecord r);
  // Marks a pending or running job cancelled (a no-op for one already
  // cancelled); FailedPrecondition for a job that already ended.
  StatusOr<JobRecord> Cancel(uint64_t id, const std::string& reason);

  // Reads the records into memory (once; every other call does it first).
  Status Load() { return EnsureLoaded(); }
  // Drops every record kept in memory (a batch of writes was lost, see
  // Store::EndBatch): the next call reads them all from the store again.
  void Forget();

  static std::string Key(uint64_t id);
  // Stored jobs that could not be read back at load (why, per record).
  const std::vector<std::string>& unreadable() const { return unreadable_; }

 private:
  // Sets `updated` to now and every time of `r` to the precision the store
  // keeps (ms), so a record in the cache equals the one read back after a
  // restart. Every write goes through it.
  void Stamp(JobRecord& r) const;
  StatusOr<JobRecord> Decode(const KeyValue& kv) const;
  std::string Encode(const JobRecord& r) const;
  Status EnsureLoaded();
  // Puts `r` in the cache and the indexes (replacing its old version).
  void Remember(const JobRecord& r);
  // Re-reads job `id` from the store after a lost compare-and-swap.
  Status Reload(uint64_t id);
  // The job an idempotency key of `tenant` names, if any (and cached).
  StatusOr<std::optional<uint64_t>> KeyedJob(const std::string& tenant, const std::string& idempotency_key);
  // A job's whole submission: its array's elements, or itself.
  StatusOr<std::vector<JobRecord>> SubmissionOf(uint64_t id);
  // Commits `txn` whole, or, when it is over the store's limit for one
  // commit (a large array on etcd: 128 operations), as several behind a
  // marker (see job_registry.cc); `revisions` gets the revision each key
  // was written at. Jobs `first` to `end` - 1 are the ones it creates.
  StatusOr<int64_t> CommitSubmission(const Txn& txn, uint64_t first, uint64_t end,
                                     std::map<std::string, int64_t>* revisions);
  // Removes what a submission stored in stages left behind when its
  // server died before the last stage: it was never acknowledged.
  Status UndoUnfinishedSubmissions();
  // Writes (or, for keys alone, deletes) that fit one commit of the store.
  size_t PerCommit() const;
  // Deletes `keys` in commits the store takes.
  Status DeleteInCommits(const std::vector<std::string>& keys);
  // Cancels in commits the store takes; on a lost compare-and-swap
  // FailedPrecondition, the commits before it stand.
  StatusOr<std::vector<JobRecord>> CommitCancels(std::vector<JobRecord> changed);

  Store* store_;
  const Clock* clock_;
  bool loaded_ = false;
  std::map<uint64_t, JobRecord> cache_;
  std::map<uint64_t, const JobRecord*> live_;  // into cache_
  std::map<std::string, std::set<uint64_t>> running_on_;
  std::set<std::string> touched_nodes_;  // see TakeTouchedNodes
  std::set<uint64_t> ended_running_;     // ended jobs with a rank still running
  std::vector<std::string> unreadable_;
  // The last job file Decode parsed: an array's elements share one text,
  // and are read back one after the other.
  mutable std::pair<std::string, std::string> parsed_text_;  // text, filename
  mutable JobFile parsed_;
};

}  // namespace stargate::control
