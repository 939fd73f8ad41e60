// File: task_cgroups.h
// One cgroup per task, so that a task is all of its processes whatever
// they do (a double fork, a new session, a daemon): stopping it ends all
// of them, it has ended only when none is left, and an agent that
// restarts after a crash finds every process its predecessor started.
//
// Layout: <hierarchy>/stargate/<group>/job-<id>-attempt-<n> in each
// hierarchy used. `group` is the agent's (its node and work dir), so
// several agents on one host never touch each other's tasks. Which
// hierarchies: the unified one (cgroup v2) where mounted, at the cgroup
// root (pure v2, Debian 12) or at <root>/unified beside the v1 ones (a
// hybrid host, such as this project's VM); and the v1 `pids`, `freezer`,
// `memory` and `cpu` controllers where mounted. Membership and kill use
// v2 (cgroup.kill) where it is, else v1 freezer + SIGKILL; memory and CPU
// limits use v2 memory.max / cpu.max where those controllers are enabled,
// else v1 memory.limit_in_bytes / cpu.cfs_quota_us.
//
// Needs write access to the hierarchies (an agent run as root); Open says
// why it cannot. Calls from one thread; the paths Create returns are
// written by a forked child (async-signal-safe: open, write, close).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/protocol/task.h"
#include "core/status.h"

namespace stargate::control {

struct CgroupLimits {
  int64_t memory_bytes = 0;  // 0 = no limit
  double cpus = 0;           // CPU time per wall second; 0 = no limit
};

class TaskCgroups {
 public:
  // `root` is where cgroup hierarchies are mounted (/sys/fs/cgroup).
  // Null, with the reason in *why, when no hierarchy can be used.
  static std::unique_ptr<TaskCgroups> Open(const std::string& root, const std::string& group, std::string* why);
  // Removes the agent's group where no task cgroup is left in it.
  ~TaskCgroups();

  // Makes the task's cgroups (fresh: an old one of that name is killed
  // and removed first) with `limits`, in the hierarchies it needs (the
  // membership one, the freezer when Kill needs it, memory and cpu for
  // their limits); returns the cgroup.procs files a child writes "0" to,
  // before exec, to join them.
  StatusOr<std::vector<std::string>> Create(const TaskRef& task, const CgroupLimits& limits);
  // No process of the task is left (true also when it has no cgroup).
  bool Empty(const TaskRef& task) const;
  // SIGKILL to every process of the task, at once (cgroup.kill; or v1:
  // freeze, kill each, thaw, so none forks away meanwhile).
  void Kill(const TaskRef& task);
  // Removes the task's cgroups (and any below them) once empty; true when
  // none is left.
  bool Remove(const TaskRef& task);
  // Tasks with a cgroup in this agent's group now (after a restart: those
  // an earlier agent left).
  std::vector<TaskRef> Tasks() const;
  // "cgroup v2 at /sys/fs/cgroup/unified; v1 memory, cpu".
  std::string Describe() const;

  // The pids in the task's cgroup and its descendants (a container
  // runtime makes its own below it), for tests and messages.
  std::vector<int> Pids(const TaskRef& task) const;
  // The task's cgroup below each hierarchy's root, "/stargate/<group>/
  // job-<id>-attempt-<n>": a container runtime's --cgroup-parent.
  std::string Path(const TaskRef& task) const;

 private:
  struct Hierarchy {
    std::string name;  // "v2", "pids", "freezer", "memory", "cpu"
    std::string dir;   // <mount>/stargate/<group>
  };
  std::string Dir(const Hierarchy& h, const TaskRef& task) const;
  const Hierarchy* Find(std::string_view name) const;
  // Where membership is read: v2, else v1 pids, else freezer.
  const Hierarchy* Members() const;

  std::vector<Hierarchy> used_;
  std::string group_;
  bool v2_kill_ = false;  // cgroup.kill exists (Linux 5.14+)
};

// The task cgroup's name, job-<id>-attempt-<n>, and back.
std::string CgroupName(const TaskRef& task);
std::optional<TaskRef> ParseCgroupName(std::string_view name);

}  // namespace stargate::control
