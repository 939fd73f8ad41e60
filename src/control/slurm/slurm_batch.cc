#include "control/slurm/slurm_batch.h"

#include <absl/strings/numbers.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace stargate::control {

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string SlurmJobName(const TaskRef& t) { return fmt::format("stargate-{}-{}", t.job, t.attempt); }

std::optional<TaskRef> TaskOfSlurmJobName(std::string_view name) {
  constexpr std::string_view kPrefix = "stargate-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(std::string(name.substr(kPrefix.size())), '-');
  TaskRef t;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &t.job) || !absl::SimpleAtoi(parts[1], &t.attempt)) {
    return std::nullopt;
  }
  return t;
}

std::string SlurmComment(const std::string& site, const std::string& driver) {
  return "stargate:" + site + (driver.empty() ? "" : ":" + driver);
}

namespace {

// The shards a share of one device asks for on its one node (0: not a
// share, or no shards there).
int ShardsFor(const std::vector<std::pair<std::string, TaskLaunch>>& ranks, const SlurmBatchOptions& o) {
  if (ranks.size() != 1 || !o.gpus) return 0;
  const auto per_gpu = o.shards_per_gpu.find(ranks.front().first);
  if (per_gpu == o.shards_per_gpu.end() || per_gpu->second <= 0) return 0;
  const auto share = ranks.front().second.env.find("STARGATE_GPU_SHARE");
  double fraction = 0;
  if (share == ranks.front().second.env.end() || !absl::SimpleAtod(share->second, &fraction)) return 0;
  if (!(fraction > 0 && fraction < 1)) return 0;
  // Rounded down (a hair up first, so 0.25 of 64 is 16 whatever its
  // binary form): the shares of one slot never add up to more than one
  // GPU's shards.
  return std::max(1, static_cast<int>(std::floor(fraction * per_gpu->second + 1e-9)));
}

}  // namespace

SlurmBatch MakeSlurmBatch(const std::vector<std::pair<std::string, TaskLaunch>>& ranks, const SlurmBatchOptions& o) {
  SlurmBatch b;
  const TaskLaunch& first = ranks.front().second;
  const TaskRef ref = first.task;
  std::vector<std::string> nodes;
  for (const auto& [node, launch] : ranks) nodes.push_back(node);
  const std::string job_dir = fmt::format("{}/jobs/{}", o.work_dir, ref.job);
  b.args = {
      "--job-name=" + SlurmJobName(ref),
      "--comment=" + SlurmComment(o.site, o.driver),
      fmt::format("--nodes={}", nodes.size()),
      "--nodelist=" + absl::StrJoin(nodes, ","),
      "--ntasks-per-node=1",
      fmt::format("--output={}/logs/{}", o.work_dir, TaskLogName(ref)),
      "--open-mode=append",
      "--chdir=" + job_dir,
      "--export=ALL",
  };
  if (!o.partition.empty()) b.args.push_back("--partition=" + o.partition);
  int per_node = 0;
  auto it = first.env.find("STARGATE_ACCELERATORS_PER_NODE");
  if (it != first.env.end() && !absl::SimpleAtoi(it->second, &per_node)) per_node = 0;
  if (const int shards = ShardsFor(ranks, o); shards > 0) {
    // Slurm picks the GPU (the first with room) and sets its
    // CUDA_VISIBLE_DEVICES; a shard job has no gpu GRES to count CPUs by.
    b.args.push_back(fmt::format("--gres=shard:{}", shards));
  } else if (o.gpus && per_node > 0) {
    b.args.push_back(fmt::format("--gres=gpu:{}", per_node));
    if (o.cpus_per_gpu > 0) b.args.push_back(fmt::format("--cpus-per-gpu={}", o.cpus_per_gpu));
  } else if (!o.gpus) {
    b.args.push_back("--exclusive");
  }

  std::string s = "#!/bin/bash\n";
  s += fmt::format("# Stargate job {} attempt {}: {} rank(s) on {}\n", ref.job, ref.attempt, ranks.size(),
                   absl::StrJoin(nodes, " "));
  s += "export STARGATE_COMMAND=" + ShellQuote(first.command) + "\n";
  s += "export STARGATE_WORK_DIR=" + ShellQuote(job_dir) + "\n";
  // Each task: its rank's env by node name, then the command (exec'd).
  s += "stargate_task() {\n  case \"$SLURMD_NODENAME\" in\n";
  for (const auto& [node, launch] : ranks) {
    s += "    " + ShellQuote(node) + ")\n";
    for (const auto& [k, v] : launch.env) s += "      export " + ShellQuote(k + "=" + v) + "\n";
    s += "      ;;\n";
  }
  s += "    *) echo \"stargate: no rank for node $SLURMD_NODENAME\" >&2; exit 125 ;;\n  esac\n";
  s += "  export STARGATE_NODE=\"$SLURMD_NODENAME\"\n";
  s += "  mkdir -p \"$STARGATE_WORK_DIR\" && cd \"$STARGATE_WORK_DIR\" || exit 126\n";
  s += "  exec /bin/bash -c \"$STARGATE_COMMAND\"\n}\nexport -f stargate_task\n";
  if (o.fence_s > 0) {
    const std::string lease = ShellQuote(o.work_dir + "/slurm/lease");
    s += fmt::format(
        "# Fencing: the site driver touches its lease every second; silent for\n"
        "# {0} s, it is gone and the server has rescheduled these ranks.\n"
        "( while sleep 2; do\n"
        "    age=$(( $(date +%s) - $(stat -c %Y {1} 2> /dev/null || echo 0) ))\n"
        "    if [ \"$age\" -gt {0} ]; then\n"
        "      echo \"stargate: the site driver has been silent for $age s: cancelling\" >&2\n"
        "      scancel \"$SLURM_JOB_ID\"; exit 0\n"
        "    fi\n"
        "  done ) &\n"
        "fence=$!\n",
        o.fence_s, lease);
  }
  s += "srun --ntasks-per-node=1 --kill-on-bad-exit=1 /bin/bash -c stargate_task\n";
  s += "rc=$?\n";
  if (o.fence_s > 0) s += "kill \"$fence\" 2> /dev/null\n";
  s += "exit \"$rc\"\n";
  b.script = std::move(s);
  return b;
}

}  // namespace stargate::control
