// File: slurm_site.h
// A Slurm cluster as a Stargate site (`stargate agent --slurm`): one
// driver process on a host that can run sbatch/scontrol/scancel. It reads
// the cluster's nodes from Slurm, registers each with the server as a node
// of the site (name, address, CPUs, memory and GPUs as Slurm reports
// them), runs one agent loop per node over a shared SlurmRunner, serves
// the task logs (Slurm writes them under WORK_DIR/logs) from one log
// server, touches the fencing lease every second, and every few seconds
// re-reads the nodes: one Slurm drains or marks down stops heartbeating,
// so the server moves its work elsewhere, and comes back when Slurm
// returns it to service.
//
// RunSlurmSite owns its threads (an agent loop per node, the lease, the
// refresher) until it returns.
#pragma once

#include <atomic>
#include <set>
#include <string>

#include "control/agent/agent.h"
#include "control/slurm/slurm_client.h"
#include "core/clock.h"
#include "core/status.h"

namespace stargate::control {

struct SlurmSiteConfig {
  // server, work_dir, stop_grace, TLS; node.site/region/jurisdiction
  // for every node; node.address is where the driver serves logs.
  AgentConfig agent;
  std::string partition;       // "" = every node, Slurm's default partition
  std::set<std::string> only;  // these Slurm nodes only ("" = all of the partition)
  // The GPUs' type when Slurm's GRES does not name it (gpu:8), as in job
  // files (H100, A100, ...); CPU when the nodes have no GPUs.
  std::string gpu_type;
  int fence_s = 15;  // see slurm_batch.h; 0 = off
};

// Runs until `stop`; then stops the site's tasks (scancel) and returns.
// An error when Slurm cannot be asked at start or has none of the nodes.
// `clock` paces the driver's loops and its agents'.
Status RunSlurmSite(const SlurmSiteConfig& config, SlurmClient* slurm, Clock* clock, const std::atomic<bool>& stop);

}  // namespace stargate::control
