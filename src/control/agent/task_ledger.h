// File: task_ledger.h
// The agent's record of the attempts it started, kept on disk from just
// before a task starts until the server has heard how it ended (Forget):
// one append-only journal, WORK_DIR/task-ledger/<node>-<hash of
// WORK_DIR>/journal (agents of several nodes may share a work dir), of
// lines "begin job-<id>-attempt-<n>", "end job-<id>-attempt-<n> <exit
// code> <signal>" and "drop job-<id>-attempt-<n>".
//
// Why: the server hands a node every rank placed there that its agent does
// not report (a start that never arrived). An agent killed after a task
// ended but before the server heard of it would leave nothing behind (the
// task's cgroup is gone with its last process), and the next agent, asked
// again, would run the same attempt twice. With the ledger the next agent
// reports that end as it was, or the attempt as lost when no end was
// recorded, and never starts it again: at most once per attempt.
//
// Why one journal and not a file per attempt (as before 2026-12-06): a
// file made and removed per task made ext4 without a journal (this
// project's VMs) skip every inode freed in the last ~30 s at each create
// (fs/ext4/ialloc.c, recently_deleted), so at a few hundred tasks a
// second every new file or directory on the disk cost a scan of
// thousands: 18% of two cores in the trivial-job benchmark. Appends make
// no inode; the journal is rewritten (one new inode) only when the
// dropped lines outnumber the live ones several times over.
//
// Each line is one write(2) on an O_APPEND descriptor, which a kill of the
// agent cannot cut (the page cache keeps it). A host that loses power
// loses its tasks too, and the server counts the silent node's ranks lost,
// so nothing is synced; a last line cut by it is skipped. Per-attempt
// files an older agent left are read and folded into the journal on first
// use.
// Calls from one thread.
#pragma once

#include <cstddef>
#include <map>
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
  ~TaskLedger();
  TaskLedger(const TaskLedger&) = delete;
  TaskLedger& operator=(const TaskLedger&) = delete;

  // Before the task starts: a task that cannot be recorded must not start.
  Status Begin(const TaskRef& task);
  // How it ended.
  void Ended(const TaskRef& task, End end);
  // The server knows: forgotten.
  void Drop(const TaskRef& task);
  // Everything recorded, in task order, as on disk now; foreign files and
  // lines skipped.
  std::vector<Entry> Load() const;

  // Lines in the journal this ledger writes (for tests of its rewrite).
  size_t JournalLines() const { return lines_; }

 private:
  using State = std::map<TaskRef, std::optional<End>>;
  // Reads the journal and any per-attempt files into one state;
  // Unavailable when the journal exists but cannot be read.
  StatusOr<State> Read() const;
  // Opens the journal for appends, having rewritten it from Read().
  Status Open();
  // Writes `live_` as a fresh journal over the old one.
  Status Rewrite();
  Status Append(const std::string& line);

  std::string dir_;
  int fd_ = -1;
  State live_;        // what the journal says, kept to rewrite it
  size_t lines_ = 0;  // lines in the journal now
};

}  // namespace stargate::control
