// File: node_info.h
// What an agent says of its node when it registers (NodeInfo) and with
// every heartbeat (NodeTelemetry): plain values of the agent API. The
// server keeps both in its node registry.
#pragma once

#include <cstdint>
#include <string>

#include "core/accelerator.h"
#include "core/units.h"

namespace stargate::control {

struct NodeInfo {
  std::string name;
  std::string site;
  std::string region;
  std::string jurisdiction;
  std::string address;
  AcceleratorType accelerator = AcceleratorType::kCpu;
  int accelerators = 1;
  int cpus = 0;
  int64_t memory_bytes = 0;
  int log_port = 0;         // task logs at http://LOG_HOST:log_port/logs/<file>
  std::string log_address;  // LOG_HOST when not `address` (a site driver's host)
  std::string log_token;    // the log server's bearer token (stored; never shown by the API)
  // The site's checkpoint store as this node mounts it (`stargate agent
  // --checkpoint-root`): absolute, normal; "" = the server's data dir.
  std::string checkpoint_root;
  // Its agent reports the store's checkpoints and copies them between
  // sites (checkpoint_mover.h; a Slurm site driver's nodes do not).
  bool moves_checkpoints = false;
};

struct NodeTelemetry {
  std::string agent_id;  // the agent process that holds the node ("" = anyone)
  double cpu_utilisation = 0;
  int64_t memory_used_bytes = 0;
  double gpu_utilisation = 0;
  double gpu_power_w = 0;
  // Set by the server, not sent: when the last heartbeat came, and whether
  // one (with the tasks the agent runs) came since it registered.
  Time last_heartbeat;
  bool reported = false;
};

}  // namespace stargate::control
