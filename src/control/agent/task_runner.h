// File: task_runner.h
// How an agent runs the tasks the server gives its nodes. The agent owns
// the protocol (register, heartbeat, what to start, stop and forget); a
// runner owns the processes: LocalRunner forks them on this host,
// SlurmRunner submits them to a Slurm cluster (one batch job per gang).
// A runner may serve several nodes (a Slurm site driver runs one agent
// loop per Slurm node over one shared runner), so every call names the
// node; calls may come from several threads.
#pragma once

#include <string>
#include <vector>

#include "control/protocol/task.h"
#include "core/units.h"

namespace stargate::control {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;

  // Starts `task` on `node`. A task already known (a late or repeated
  // reply) is never started twice.
  virtual void Start(const std::string& node, const TaskLaunch& task) = 0;
  // Asks a running task to stop: the first call sends SIGTERM (time to
  // checkpoint); calls once `grace` has passed since (the runner's own
  // when zero; a preemption's warning otherwise) force it.
  virtual void Stop(const std::string& node, const TaskRef& task, Time now, Duration grace) = 0;
  // Every task of `node` the runner knows: running, or ended and not yet
  // forgotten (with its exit).
  virtual std::vector<TaskReport> Poll(const std::string& node, Time now) = 0;
  // The server recorded the task's end: drop it (a running task stays).
  virtual void Forget(const std::string& node, const TaskRef& task) = 0;
  // Thread-safe and cheap: something ended that Poll has not reported yet,
  // so the agent cuts its long poll short and reports it at once.
  virtual bool HasNews() const { return false; }
  // Ended tasks of `node` whose devices a holding load keeps at their draw
  // until the server gives their fall a turn (sched/power_ramp.h).
  virtual std::vector<TaskRef> Holding(const std::string& /*node*/) const { return {}; }
  // The server's turn: `task`'s fall begins at `at`.
  virtual void FallAt(const std::string& /*node*/, const TaskRef& /*task*/, Time /*at*/) {}
  // Ends what an earlier agent of `node` left running when it died (its
  // tasks' cgroups): returns how many are still being ended. Those tasks
  // are reported by Poll as ended and lost, so the server restarts their
  // attempts and never hands them out again. The agent registers only
  // once this is 0.
  virtual int EndLeftovers(const std::string& /*node*/) { return 0; }
};

}  // namespace stargate::control
