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
//
// The agent links protocol/, net/ and runtime/ only: it sees the server
// through the agent API's plain values. Thread-safe: Stop and Wait may
// come from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "control/agent/task_runner.h"
#include "control/agent/tenant_users.h"
#include "control/protocol/node_info.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

struct AgentConfig {
  std::string server;  // agent API HOST:PORT, or several, comma-separated (HA: one leads)
  NodeInfo node;
  std::string work_dir;
  Duration stop_grace = Duration::Seconds(10);  // SIGTERM, then SIGKILL this much later
  // A command that keeps the devices in CUDA_VISIBLE_DEVICES busy (e.g.
  // DCGM's load generator): after a ramped task ends it holds their power
  // while the limit steps down (sched/power_ramp.h). "" = none.
  std::string holding_load;
  // Mutual TLS to the servers (PEM text; empty = plaintext): this node's
  // certificate and key, and the CA that signed the servers'. With
  // `--node-auth cert` the server admits the node only under a name the
  // certificate holds (CN or DNS name).
  std::string tls_cert, tls_key, tls_ca;
  // `--node-auth token`: the join token for the first registration. The
  // node credential the server then gives is kept in
  // WORK_DIR/credentials/<node> (0600) and shown on every call after.
  std::string join_token;
  // Tasks run as their tenant's Unix user (the agent's own LocalRunner;
  // needs root).
  TenantUserConfig tenant_users;
  // Runs the tasks; null: a LocalRunner of the agent's own. Not owned.
  TaskRunner* runner = nullptr;
  // -1: the agent serves WORK_DIR/logs itself on node.address. Otherwise
  // the logs are served elsewhere (a site driver's one log server), at
  // log_address:log_port.
  int log_port = -1;
  std::string log_address;
  std::string log_token;  // with log_port >= 0: that log server's token
  // While this reads false the agent sends no heartbeats, so the server
  // marks the node down and moves its work (a Slurm node drained or
  // down); null = always up. Not owned.
  const std::atomic<bool>* up = nullptr;
  // Heartbeats carry this host's CPU, memory and GPU telemetry; false for
  // nodes the agent does not run on (a Slurm site driver's).
  bool host_telemetry = true;
  // The agent also stops once this reads true (a site driver's one flag
  // for all its nodes); null = only Stop(). Not owned.
  const std::atomic<bool>* stop = nullptr;
};

class Agent {
 public:
  // Makes WORK_DIR/logs, starts the log server (unless the config names
  // another) and the agent's loop, on threads the agent owns until Wait
  // returns. Unavailable when the work dir cannot be made;
  // InvalidArgument for a TLS certificate that cannot work (expired, not
  // yet valid, not the key's). `clock` must
  // outlive the agent; it paces everything, the stop grace included, so on
  // a ManualClock a stopping agent waits for the test to advance it.
  static StatusOr<std::unique_ptr<Agent>> Open(AgentConfig config, Clock* clock);
  ~Agent();  // Stop, then Wait

  // Asks the agent to stop (from any thread): it stops its tasks
  // (SIGTERM, SIGKILL after the grace), tells the server it is leaving,
  // and Wait returns.
  void Stop();
  // Blocks until the agent has stopped.
  Status Wait();

 private:
  struct Impl;
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
