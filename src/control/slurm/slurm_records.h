// File: slurm_records.h
// What Slurm's tools print, read into structs: `scontrol show job -o` and
// `scontrol show node -o` (one record per line, KEY=VALUE fields), and
// what a Slurm job state means to Stargate. Pure: no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stargate::control {

struct SlurmJob {
  uint64_t id = 0;
  std::string name;
  std::string state;  // JobState: PENDING, RUNNING, COMPLETED, ...
  std::string reason;
  std::string comment;
  std::string nodes;  // NodeList, Slurm's compressed form
  int64_t uid = -1;   // of UserId=name(uid)
  int exit_code = 0;  // ExitCode=CODE:SIGNAL of the batch script
  int signal = 0;
};

struct SlurmNode {
  std::string name;
  std::string address;  // NodeAddr
  std::string state;    // IDLE, MIXED, ALLOCATED, DOWN*, IDLE+DRAIN, ...
  int cpus = 0;
  int64_t memory_bytes = 0;  // RealMemory
  int gpus = 0;              // gpu GRES of any type
  int shards = 0;            // gres/shard: slices of its GPUs jobs may ask for
  std::string gpu_type;      // "a100" of gpu:a100:4; "" when untyped
  std::vector<std::string> partitions;
};

// One map per non-empty line. A word without '=' belongs to the value
// before it (values such as Reason may hold spaces).
std::vector<std::map<std::string, std::string>> ParseScontrolRecords(std::string_view text);

// "No jobs in the system" and the like give an empty list. A record
// without JobId, or with a malformed one, is an error naming the line.
StatusOr<std::vector<SlurmJob>> ParseSlurmJobs(std::string_view text);
StatusOr<std::vector<SlurmNode>> ParseSlurmNodes(std::string_view text);

// The count of GPUs in a Gres string: "gpu:8", "gpu:a100:4(S:0-1)",
// "gpu:2,mps:100", "(null)" (0); the first GPU type named, if any.
int GpusInGres(std::string_view gres, std::string* type = nullptr);
// The count of one GRES `name` ("shard": Slurm 22.05's GPU sharing) in a
// Gres string: "gpu:8,shard:64" has 64 shards.
int CountInGres(std::string_view gres, std::string_view name);

// How a Slurm job stands for the tasks it runs: still running (queued,
// running, completing) or ended with an exit code or a signal. A job that
// Slurm ended for the infrastructure's sake (node failure, boot failure,
// preemption, out of memory) ends as killed (SIGKILL), so `max_restarts`
// retries it from its checkpoint; one cancelled ends by its signal
// (SIGTERM when Slurm gives none), never as a success.
struct SlurmOutcome {
  bool running = true;
  int exit_code = 0;
  int signal = 0;
};
SlurmOutcome OutcomeOf(const SlurmJob& job);

// Slurm refuses to schedule on a node in these states.
bool SlurmNodeUsable(std::string_view state);

}  // namespace stargate::control
