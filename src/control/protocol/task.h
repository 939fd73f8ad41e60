// File: task.h
// The tasks the server hands agents and what agents say of them: plain
// values of the agent API (proto/agent.proto; agent_proto.h maps them).
// A task is one rank of one attempt of a job on one node; (job, attempt)
// names it, so a late or repeated message never starts anything twice.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "control/protocol/checkpoint_messages.h"
#include "core/units.h"

namespace stargate::control {

struct TaskRef {
  uint64_t job = 0;
  uint32_t attempt = 0;
  auto operator<=>(const TaskRef&) const = default;
};

// The file a task's output goes to, under the agent's WORK_DIR/logs/.
std::string TaskLogName(const TaskRef& t);

// A task as its node's agent last saw it.
struct TaskReport {
  TaskRef task;
  bool running = true;
  int exit_code = 0;
  int signal = 0;  // non-zero: ended by this signal
  // Its agent died while it ran and the agent that followed ended what
  // was left of it (task_cgroups.h): the rank is lost, as with a lost
  // node, and its attempt never runs again.
  bool lost = false;
  // Whether its launch's power_cap holds on the node's devices.
  enum class Cap : uint8_t { kNone = 0, kEnforced = 1, kNotEnforced = 2 };
  Cap cap = Cap::kNone;
};

// What the server asks a node to start: the job's command and the rank's
// environment (torchrun variables, then the job's own).
struct TaskLaunch {
  TaskRef task;
  std::string command;
  std::map<std::string, std::string> env;
  int64_t memory_bytes = 0;  // resources.memory: the task's cgroup limit (0 = none)
  double cpus = 0;           // resources.cpus: CPU time per second (0 = no limit)
  std::string image;         // the job's `image:` ("" = on the host)
  // The device power limit the scheduler chose (Start.power_cap), as a
  // fraction of each device's TDP; 0 = none.
  double power_cap = 0;
  // Its power ramp (sched::Start, sched/power_ramp.h): at `ramp_floor`
  // of TDP for `ramp_hold` from launch, then rising evenly to full (its
  // power_cap, or the default limit) over `ramp_up`. Zero: none.
  Duration ramp_hold, ramp_up;
  double ramp_floor = 0;

  bool ramped() const { return ramp_hold + ramp_up > Duration::Zero() && ramp_floor > 0; }
  // The device limit (a fraction of TDP) `since` after launch, toward
  // `target` (its cap as enforced; 1 = the default limit).
  double RampLimitAt(Duration since, double target) const {
    const double floor = ramp_floor < target ? ramp_floor : target;
    if (since < ramp_hold) return floor;
    if (ramp_up <= Duration::Zero() || since >= ramp_hold + ramp_up) return target;
    return floor + (target - floor) * (since - ramp_hold).seconds() / ramp_up.seconds();
  }
};

// The server's answer to a heartbeat.
struct HeartbeatResult {
  std::vector<TaskLaunch> run;  // start these (not started yet)
  std::vector<TaskRef> stop;    // stop these (SIGTERM, SIGKILL after the grace)
  // Stops with their own grace (a preemption's warning) instead of the
  // agent's.
  std::map<TaskRef, Duration> stop_grace;
  std::vector<TaskRef> forget;  // their end is recorded: stop reporting them
  // Holding tasks' falls (AgentHeartbeat::holding): each begins this long
  // after the reply (sched/power_ramp.h: a site's falls take turns).
  std::map<TaskRef, Duration> fall;
  bool register_again = false;  // the server does not know this node (or another agent holds it)
  // Wait this long before the next heartbeat (zero: at once): the server
  // holds too many long polls to hold this one (ControlPlaneOptions).
  Duration next_beat;
  // The site store's job areas to report and copies to make
  // (checkpoint_messages.h); only for the agent that speaks for its site.
  std::vector<CheckpointWatch> watch;
  std::vector<CheckpointPull> pull;
};

}  // namespace stargate::control
