// File: local_runner.h
// Runs tasks as processes on this host (`stargate agent`).
//
// Each task runs `/bin/bash -c COMMAND` in its own process group and its
// own cgroup (task_cgroups.h; memory and CPU limits from the job file)
// with the env the server sent (RANK, WORLD_SIZE, MASTER_ADDR, ...) over
// the agent's own, its devices (CUDA_VISIBLE_DEVICES...) picked among
// those no live task holds, its output in
// WORK_DIR/logs/job-<id>-attempt-<n>.log. Stop sends SIGTERM to the group
// and, after the grace, SIGKILL to everything in the cgroup; a task has
// ended when its cgroup is empty. Its leader dies with the agent
// (PR_SET_PDEATHSIG); what else it started is ended by the next agent of
// the node (EndLeftovers) before that one registers, which also reports
// the ends its predecessor recorded but never told the server
// (task_ledger.h), so no attempt runs twice. Without writable cgroups (an agent not run as root) tasks are
// process groups only, and the agent says so at start. Tasks run as their
// tenant's Unix user where the agent may switch users.
// One node; calls from one thread (HasNews from any).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/agent/power_limit.h"
#include "control/agent/task_cgroups.h"
#include "control/agent/task_ledger.h"
#include "control/agent/task_runner.h"
#include "control/agent/tenant_users.h"
#include "control/protocol/node_info.h"
#include "core/units.h"

namespace stargate::control {

class LocalRunner : public TaskRunner {
 public:
  // `work_dir` absolute. Makes this process a child subreaper: orphans of
  // a task (a shell that died on SIGTERM leaves its python child) come
  // back here rather than to init, and are collected.
  // With `tenants` enabled (an agent run as root), each task runs as its
  // tenant's user (tenant_users.h), in WORK_DIR/tenants/<tenant>/jobs/<id>
  // with the tenant's area 0700 and HOME, and its checkpoint area (the
  // <tenant> component of STARGATE_CHECKPOINT_DIR down) the tenant's, 0700;
  // logs stay the agent's (0600 under a 0700 dir).
  LocalRunner(NodeInfo node, std::string work_dir, Duration stop_grace, TenantUserConfig tenants = {});

  // Where the agent of `node` working in `work_dir` keeps its task ledger
  // (task_ledger.h): its own, should agents of several nodes share a dir.
  static std::string LedgerDir(const std::string& node, const std::string& work_dir);

  // Holding loads are filler: none outlives the runner.
  ~LocalRunner() override {
    for (Hold& h : holds_) EndHold(h);
  }
  LocalRunner(const LocalRunner&) = delete;
  LocalRunner& operator=(const LocalRunner&) = delete;

  std::vector<TaskRef> Holding(const std::string& node) const override;
  void FallAt(const std::string& node, const TaskRef& task, Time at) override;
  // The holding-load command (AgentConfig::holding_load; "" = none).
  void SetHoldingLoad(std::string command) { holding_load_ = std::move(command); }

  void Start(const std::string& node, const TaskLaunch& task) override;
  void Stop(const std::string& node, const TaskRef& task, Time now, Duration grace) override;
  std::vector<TaskReport> Poll(const std::string& node, Time now) override;
  void Forget(const std::string& node, const TaskRef& task) override;
  bool HasNews() const override;
  int EndLeftovers(const std::string& node) override;

 private:
  struct Proc {
    int pid = -1;  // also the process group id
    bool running = true;
    int exit_code = 0;
    int signal = 0;
    std::optional<Time> stop_sent;  // when SIGTERM went
    bool leader_done = false;       // its first process ended (exit_code/signal are its)
    std::vector<int> devices;       // node device indices it holds while it runs
    int share_slot = -1;            // a share of one device: the slot it is in (STARGATE_GPU_SHARE_SLOT)
    bool killed = false;            // SIGKILL went to its cgroup: it ends once that is empty
    bool lost = false;              // an earlier agent's, ended by this one
    bool inherited = false;         // an earlier agent's (from its ledger or cgroups)
    TaskReport::Cap cap = TaskReport::Cap::kNone;
    std::vector<std::string> capped;  // driver ids of devices limited for it (restored at its end)
    // Its power ramp (TaskLaunch::ramp_*), while the limit still rises:
    // from its first Poll, toward `ramp_target` (its cap; 1 = none).
    bool ramping = false;
    TaskLaunch ramp;  // its launch, for the ramp's figures
    double ramp_target = 1.0, ramp_limit = 0;
    std::optional<Time> launched;
    bool hold_after = false;            // its ramp held: hold its devices down the same ramp when it ends
    std::vector<std::string> ramp_ids;  // driver ids of the devices it ramps (kept when the limit is restored)
  };
  // A holding load on an ended ramped task's devices (sched/power_ramp.h):
  // the command runs at the limit the task had until its fall's turn
  // (`fall_at`: the server's word, or kFallUnanswered after `since`
  // without one), then while their limit steps down the rise from `from`
  // (its place on it when the task ended) to the floor and holds it, as
  // long as the task took to get there; then it is killed and the limits
  // restored. `pgid` -1: its command ended (collected by Reap); `ids`
  // empty: over.
  struct Hold {
    TaskRef task;
    int pgid = -1;
    std::vector<std::string> ids;  // driver ids, limited
    std::vector<int> devices;      // node indices
    TaskLaunch ramp;
    double target = 1, limit = 1;
    Duration from;
    Time since;
    std::optional<Time> fall_at;
  };
  // How long a holding load waits for the server's word on its fall's turn
  // (a server away or restarted) before it falls on its own.
  static constexpr Duration kFallUnanswered = Duration::Seconds(30);
  void StartHold(const TaskRef& ref, Proc& p, Time now);
  void StepHolds(Time now);
  // A refused limit restored the devices' defaults: puts an enforced cap
  // back on `ids`, or says it no longer holds (and clears them).
  TaskReport::Cap ReapplyCap(std::vector<std::string>& ids, double cap, TaskReport::Cap state);
  void EndHold(Hold& h);
  // Moves each ramping task's device limit to where its ramp is at `now`.
  void StepRamps(Time now);
  std::vector<int> PickFor(const TaskLaunch& task) const;
  // The variable a task's device list goes in (ROCm's on AMD nodes).
  const char* VisibleDevicesVar() const {
    const bool amd = node_.accelerator == AcceleratorType::kMI250X || node_.accelerator == AcceleratorType::kMI300X;
    return amd ? "ROCR_VISIBLE_DEVICES" : "CUDA_VISIBLE_DEVICES";
  }
  void Reap();

  NodeInfo node_;
  std::string work_dir_;
  Duration stop_grace_;
  std::unique_ptr<TaskCgroups> cgroups_;  // null: process groups only
  std::unique_ptr<TenantUsers> tenants_;  // null: tasks run as the agent's user
  PowerLimiter limiter_;
  std::string holding_load_;
  std::vector<Hold> holds_;
  bool limits_restored_ = false;
  TaskLedger ledger_;
  bool ledger_read_ = false;
  // podman's argv to run `task` in its image (`env`: the task's env as for
  // the host, of which the container gets the server's and Stargate's);
  // FailedPrecondition without podman or root.
  StatusOr<std::vector<std::string>> ContainerArgv(const TaskLaunch& task, const std::string& dir,
                                                   const std::vector<int>& devices,
                                                   const std::optional<Account>& account,
                                                   const std::map<std::string, std::string>& env,
                                                   const std::string& log) const;
  // Marks `ref` ended without starting it (exit 125), saying why in its log.
  void Refuse(const TaskRef& ref, const std::string& log, const Status& why);
  std::map<TaskRef, Proc> procs_;
};

}  // namespace stargate::control
