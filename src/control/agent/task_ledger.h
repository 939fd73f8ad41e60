// File: task_ledger.h
// The agent's record of the attempts it started, kept on disk from just
// before a task starts until the server has heard how it ended (Forget):
// WORK_DIR/task-ledger/<node>-<hash of WORK_DIR>/job-<id>-attempt-<n>
// (agents of several nodes may share a work dir), holding "started" or
// "ended <exit code> <signal>".
//
// Why: the server hands a node every rank placed there that its agent does
// not report (a start that never arrived). An agent killed after a task
// ended but before the server heard of it would leave nothing behind (the
// task's cgroup is gone with its last process), and the next agent, asked
// again, would run the same attempt twice. With the ledger the next agent
// reports that end as it was, or the attempt as lost when no end was
// recorded, and never starts it again: at most once per attempt.
//
// A kill of the agent keeps what it wrote (the page cache survives it); a
// host that loses power also loses its tasks, and the server counts the
// silent node's ranks lost, so nothing is synced.
// Calls from one thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/protocol/task.h"
#include "core/status.h"

namespace stargate::control {

class TaskLedger {
 public:
  struct End {
    int exit_code = 0;
    int signal = 0;
  };
  struct Entry {
    TaskRef task;
    std::optional<End> end;  // none: it started and no end was recorded
  };

  // `dir` is made on first use; empty: keeps nothing (Begin still succeeds).
  explicit TaskLedger(std::string dir);

  // Before the task starts: a task that cannot be recorded must not start.
  Status Begin(const TaskRef& task);
  // How it ended (replaces "started" whole: a reader never sees half).
  void Ended(const TaskRef& task, End end);
  // The server knows: forgotten.
  void Drop(const TaskRef& task);
  // Everything recorded, in task order; unreadable or foreign files skipped.
  std::vector<Entry> Load() const;

 private:
  std::string Path(const TaskRef& task) const;
  std::string dir_;
};

}  // namespace stargate::control
