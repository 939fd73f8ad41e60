// File: agent.h
// `stargate agent`: one per node. It registers the node (site, region,
// jurisdiction, accelerators), then heartbeats once a second with its
// telemetry and the state of its tasks, and does what the reply says:
// start tasks, stop tasks (SIGTERM to the task's process group, SIGKILL
// after a grace period), forget tasks whose end the server recorded.
//
// Each task runs `/bin/bash -c COMMAND` in its own process group with the
// env the server sent (RANK, WORLD_SIZE, MASTER_ADDR, ...), its output in
// WORK_DIR/logs/job-<id>-attempt-<n>.log, and dies with the agent
// (PR_SET_PDEATHSIG), so an agent killed with -9 leaves nothing running
// that the server has already rescheduled elsewhere. When the server is
// unreachable the tasks keep running and the agent keeps trying.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "control/node_registry.h"
#include "control/reconciler.h"
#include "control/task_runner.h"
#include "core/status.h"

namespace stargate::control {

struct AgentConfig {
  std::string server;              // agent API HOST:PORT, or several, comma-separated (HA: one leads)
  NodeInfo node;
  std::string work_dir;
  int64_t stop_grace_ms = 10'000;  // SIGTERM, then SIGKILL this much later
  // Mutual TLS to the servers (PEM text; empty = plaintext): this node's
  // certificate and key, and the CA that signed the servers'.
  std::string tls_cert, tls_key, tls_ca;
  // Runs the tasks; null: a LocalRunner of the agent's own. Not owned.
  TaskRunner* runner = nullptr;
  // -1: the agent serves WORK_DIR/logs itself on node.address. Otherwise
  // the logs are served elsewhere (a site driver's one log server), at
  // log_address:log_port.
  int log_port = -1;
  std::string log_address;
  std::string log_token;           // with log_port >= 0: that log server's token
  // While this reads false the agent sends no heartbeats, so the server
  // marks the node down and moves its work (a Slurm node drained or
  // down); null = always up. Not owned.
  const std::atomic<bool>* up = nullptr;
  // Heartbeats carry this host's CPU, memory and GPU telemetry; false for
  // nodes the agent does not run on (a Slurm site driver's).
  bool host_telemetry = true;
};

class Agent {
 public:
  explicit Agent(AgentConfig config);
  ~Agent();

  // Serves until `stop` becomes true; then stops its tasks and returns.
  Status Run(const std::atomic<bool>& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
