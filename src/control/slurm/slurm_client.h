// File: slurm_client.h
// The Slurm operations a Slurm site driver needs, behind an interface:
// the real one runs Slurm's own tools (sbatch, scontrol, scancel; they
// find the cluster through SLURM_CONF or /etc/slurm), a fake stands in
// for unit tests. Thread-compatible; the real one is also thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/slurm/slurm_records.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

class SlurmClient {
 public:
  virtual ~SlurmClient() = default;
  // sbatch --parsable ARGS with `script` on stdin: the new job's id.
  virtual StatusOr<uint64_t> Submit(const std::vector<std::string>& args, const std::string& script) = 0;
  // Every job slurmctld still knows (ended ones for MinJobAge).
  virtual StatusOr<std::vector<SlurmJob>> Jobs() = 0;
  // scancel: `kill` false cancels (Slurm sends SIGTERM, and SIGKILL after
  // its KillWait); true sends SIGKILL to every process of the job now.
  virtual Status Cancel(uint64_t id, bool kill) = 0;
  virtual StatusOr<std::vector<SlurmNode>> Nodes() = 0;
};

// Slurm's command-line tools from PATH, each call bounded by `timeout`.
std::unique_ptr<SlurmClient> NewSlurmCommands(Duration timeout = Duration::Seconds(15));

}  // namespace stargate::control
