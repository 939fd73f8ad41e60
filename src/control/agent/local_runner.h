// File: local_runner.h
// Runs tasks as processes on this host (`stargate agent`).
//
// Each task runs `/bin/bash -c COMMAND` in its own process group with the
// env the server sent (RANK, WORLD_SIZE, MASTER_ADDR, ...) over the
// agent's own, its devices (CUDA_VISIBLE_DEVICES...) picked among those no
// live task holds, its output in WORK_DIR/logs/job-<id>-attempt-<n>.log,
// and dies with the agent (PR_SET_PDEATHSIG), so an agent killed with -9
// leaves nothing running that the server has already rescheduled
// elsewhere. Stop sends SIGTERM to the group, SIGKILL after the grace.
// One node; calls from one thread (HasNews from any).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/agent/task_runner.h"
#include "control/protocol/node_info.h"
#include "core/units.h"

namespace stargate::control {

class LocalRunner : public TaskRunner {
 public:
  // `work_dir` absolute. Makes this process a child subreaper: orphans of
  // a task (a shell that died on SIGTERM leaves its python child) come
  // back here rather than to init, and are collected.
  LocalRunner(NodeInfo node, std::string work_dir, Duration stop_grace);

  void Start(const std::string& node, const TaskLaunch& task) override;
  void Stop(const std::string& node, const TaskRef& task, Time now) override;
  std::vector<TaskReport> Poll(const std::string& node, Time now) override;
  void Forget(const std::string& node, const TaskRef& task) override;
  bool HasNews() const override;

 private:
  struct Proc {
    int pid = -1;  // also the process group id
    bool running = true;
    int exit_code = 0;
    int signal = 0;
    std::optional<Time> stop_sent;  // when SIGTERM went
    bool leader_done = false;       // its first process ended (exit_code/signal are its)
    std::vector<int> devices;       // node device indices it holds while it runs
  };
  std::vector<int> PickFor(const TaskLaunch& task) const;
  void Reap();

  NodeInfo node_;
  std::string work_dir_;
  Duration stop_grace_;
  std::map<TaskRef, Proc> procs_;
};

}  // namespace stargate::control
