// File: slurm_batch.h
// The Slurm batch job that runs a gang's ranks on one Slurm site: sbatch
// arguments (job name stargate-<job>-<attempt>, the site's tag in
// --comment, exactly the nodes the Stargate scheduler chose, one task per
// node, the GPUs per node as GRES, output into the task log) and the
// script. The script srun's one task per node; each task takes its rank's
// env (RANK, NODE_RANK, ...) by its node's name and execs the job's
// command with bash, so the command gets Slurm's SIGTERM first hand, as
// under `stargate agent`. Slurm sets CUDA_VISIBLE_DEVICES from the GRES.
//
// Fencing: a driver that dies leaves its batch jobs running, while the
// server reschedules their ranks once the driver's nodes miss their
// heartbeats. So the script also runs a watchdog that cancels the job
// when the driver has not touched its lease file (WORK_DIR/slurm/lease,
// on a filesystem the nodes share, like the logs) for `fence_s` seconds:
// the same bound the local agent gets from PR_SET_PDEATHSIG.
// Pure: builds text; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/protocol/task.h"

namespace stargate::control {

struct SlurmBatchOptions {
  std::string site;       // the --comment tag: stargate:<site>:<driver>
  std::string work_dir;   // absolute: logs/, jobs/<id>/, slurm/lease
  std::string partition;  // "" = Slurm's default
  int fence_s = 0;        // 0 = no watchdog
  bool gpus = true;       // ask for STARGATE_ACCELERATORS_PER_NODE GPUs per node
  // With gpus: CPUs per GPU (the node's share; 0 = Slurm's default). Without:
  // the whole node (--exclusive), as a CPU node is one slot in Stargate.
  int cpus_per_gpu = 0;
  std::string driver;  // which driver of the site (its node set), in the tag
  // Per node: its gres/shard count over its GPUs (0 or absent: Slurm has
  // no shards there). A share of one device (STARGATE_GPU_SHARE) on such
  // a node asks for that share of one GPU's shards, rounded down (at
  // least one), so shares the server packs into one device fit one GPU's
  // shards; elsewhere it asks for a whole GPU.
  std::map<std::string, int> shards_per_gpu;
};

struct SlurmBatch {
  std::vector<std::string> args;  // for sbatch (without --parsable)
  std::string script;
};

// `ranks`: (Slurm node, launch) of the gang's ranks on this site, in rank
// order; all of one task (job, attempt).
SlurmBatch MakeSlurmBatch(const std::vector<std::pair<std::string, TaskLaunch>>& ranks, const SlurmBatchOptions& o);

std::string SlurmJobName(const TaskRef& t);
// The task a Slurm job name stands for; nullopt for other jobs' names.
std::optional<TaskRef> TaskOfSlurmJobName(std::string_view name);
// "stargate:<site>:<driver>": whose batch job it is (driver "" = any).
std::string SlurmComment(const std::string& site, const std::string& driver);

// `s` as one word for bash, in single quotes.
std::string ShellQuote(std::string_view s);

}  // namespace stargate::control
