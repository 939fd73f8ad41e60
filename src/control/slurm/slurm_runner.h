// File: slurm_runner.h
// Runs tasks on a Slurm cluster for a Slurm site driver (`stargate agent
// --slurm`), which heartbeats one agent loop per Slurm node over this one
// runner. The server gives each node its rank of a gang; once every rank
// of the gang on this site's nodes has arrived (STARGATE_NODES lists the
// gang's nodes), the runner submits them as one batch job (slurm_batch.h)
// and reports each rank by that job's state (slurm_records.h: OutcomeOf),
// read with `scontrol show job` by Refresh (the driver's refresher thread,
// at most once a second). Stop is scancel
// (Slurm's SIGTERM), then scancel --signal=KILL after the grace period.
//
// A restarted driver adopts the batch jobs it still runs (by job name, the
// --comment tag of its site and node set, and user; the nodes from
// WORK_DIR/slurm/<job name>.nodes) and reports them, so the server stops those it has
// rescheduled in the meantime; those that ended while it was away are
// reported with their end (their .nodes file is still there: no driver
// has had the end recorded), or as lost when Slurm no longer knows them.
// A batch job of this driver that nothing tracks (an sbatch that timed out
// after slurmctld took the job) is cancelled. Thread-safe; sbatch, scancel
// and scontrol run outside the lock (Adopt, at start, excepted), so a
// slow slurmctld does not stall heartbeats.
#pragma once

#include <absl/base/thread_annotations.h>
#include <cstdint>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/agent/task_runner.h"
#include "control/slurm/slurm_batch.h"
#include "control/slurm/slurm_client.h"
#include "control/slurm/slurm_records.h"
#include "core/units.h"

namespace stargate::control {

struct SlurmRunnerOptions {
  SlurmBatchOptions batch;          // site, work_dir (absolute), partition, fence_s; gpus is set per gang
  std::set<std::string> nodes;      // the Slurm nodes this driver serves
  std::set<std::string> gpu_nodes;  // those with GPUs: a gang on them asks for GRES
  int64_t uid = -1;                 // adopt only this user's jobs (-1: the driver's own uid)
  Duration stop_grace = Duration::Seconds(10);
  Duration refresh = Duration::Seconds(1);  // scontrol at most this often
};

class SlurmRunner : public TaskRunner {
 public:
  // `slurm` must outlive the runner.
  SlurmRunner(SlurmClient* slurm, SlurmRunnerOptions o);

  // Takes over the site's batch jobs an earlier driver left running.
  // Returns how many; an error when Slurm cannot be asked.
  StatusOr<int> Adopt();
  // Called by the driver every second, whether or not the server answers:
  // touches the lease its batch jobs' watchdogs check (slurm_batch.h).
  void KeepAlive();
  // Reads the jobs' states from Slurm (scontrol, without the lock) at most
  // every `refresh`; the driver calls it from a thread of its own, so
  // Poll, on the heartbeat path, only reads what it found.
  void Refresh(Time now);

  void Start(const std::string& node, const TaskLaunch& task) override;
  void Stop(const std::string& node, const TaskRef& task, Time now, Duration grace) override;
  std::vector<TaskReport> Poll(const std::string& node, Time now) override;
  void Forget(const std::string& node, const TaskRef& task) override;

  // This driver's id in its batch jobs' --comment (from its node set).
  const std::string& driver_id() const { return o_.batch.driver; }

 private:
  struct Gang {
    std::vector<std::string> nodes;             // this site's nodes of the gang, in rank order
    std::map<std::string, TaskLaunch> arrived;  // by node, until submitted
    std::set<std::string> started;              // nodes whose rank reached the runner
    // Asked a device power cap: Slurm gives the runner no way to set one,
    // so it is reported not enforced (the server counts it uncapped).
    bool cap_asked = false;
    uint64_t slurm_id = 0;            // 0: not submitted (gathering, or never)
    bool adopted = false;             // from an earlier driver: every node's rank is there
    bool submitting = false;          // sbatch under way (outside the lock)
    std::optional<Time> stop_wanted;  // when a stop came while submitting
    SlurmOutcome outcome;             // running until Slurm says it ended
    std::optional<Time> stop_sent;
    bool killed = false;
    int unseen = 0;                   // refreshes in a row Slurm did not list it
    std::set<std::string> forgotten;  // nodes whose server recorded the end
  };
  // Runs sbatch for a gathered gang without the lock; `lock` is held on
  // entry and on return.
  void Submit(const TaskRef& ref, std::unique_lock<std::mutex>& lock);
  // The untracked batch jobs of this driver, to cancel (under the lock).
  std::vector<uint64_t> Apply(const std::vector<SlurmJob>& jobs);
  bool Ours(const SlurmJob& j) const;
  void Note(const TaskRef& ref, const std::string& text) const;  // into the task's log and stderr
  std::string NodesFile(const TaskRef& ref) const;

  SlurmClient* slurm_;
  SlurmRunnerOptions o_;
  std::mutex mu_;
  std::map<TaskRef, Gang> gangs_ ABSL_GUARDED_BY(mu_);
  std::optional<Time> refreshed_ ABSL_GUARDED_BY(mu_);  // the last Refresh that asked Slurm
  bool refreshing_ ABSL_GUARDED_BY(mu_) = false;        // one thread asks Slurm at a time
  bool warned_ ABSL_GUARDED_BY(mu_) = false;            // Slurm unreachable, said once until it answers
};

}  // namespace stargate::control
