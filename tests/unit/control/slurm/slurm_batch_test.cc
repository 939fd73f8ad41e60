// The batch job of a gang: sbatch arguments, and the script run for real
// by bash with a stand-in srun that plays each node's task, so quoting
// and the rank dispatch are checked by executing them.
#include "control/slurm/slurm_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/subprocess.h"

namespace stargate::control {
namespace {

std::vector<std::pair<std::string, TaskLaunch>> Gang(const std::string& command) {
  std::vector<std::pair<std::string, TaskLaunch>> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    TaskLaunch t;
    t.task = {12, 3};
    t.command = command;
    t.env = {{"RANK", std::to_string(rank)},
             {"WORLD_SIZE", "2"},
             {"STARGATE_ACCELERATORS_PER_NODE", "4"},
             {"QUOTED", "it's \"x\" $HOME"}};
    ranks.emplace_back(rank == 0 ? "gpu-b" : "gpu-a", t);  // rank order is not name order
  }
  return ranks;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(SlurmBatch, ArgumentsNameTheNodesGpusLogAndSite) {
  SlurmBatchOptions o{"hpc", "/w", "gpu", 15, true, 16, ""};
  const SlurmBatch b = MakeSlurmBatch(Gang("true"), o);
  EXPECT_TRUE(Has(b.args, "--cpus-per-gpu=16"));
  EXPECT_TRUE(Has(b.args, "--job-name=stargate-12-3"));
  EXPECT_TRUE(Has(b.args, "--comment=stargate:hpc"));  // no driver id given
  EXPECT_TRUE(Has(b.args, "--nodes=2"));
  EXPECT_TRUE(Has(b.args, "--nodelist=gpu-b,gpu-a"));
  EXPECT_TRUE(Has(b.args, "--ntasks-per-node=1"));
  EXPECT_TRUE(Has(b.args, "--gres=gpu:4"));
  EXPECT_TRUE(Has(b.args, "--partition=gpu"));
  EXPECT_TRUE(Has(b.args, "--output=/w/logs/job-12-attempt-3.log"));
  EXPECT_NE(b.script.find("/w/slurm/lease"), std::string::npos);
  o.gpus = false;
  o.fence_s = 0;
  const SlurmBatch cpu = MakeSlurmBatch(Gang("true"), o);
  EXPECT_FALSE(
      std::any_of(cpu.args.begin(), cpu.args.end(), [](const std::string& a) { return a.rfind("--gres", 0) == 0; }));
  EXPECT_TRUE(Has(cpu.args, "--exclusive"));
  EXPECT_EQ(cpu.script.find("lease"), std::string::npos);
}

// A share of one device asks Slurm for that share of one GPU's shards
// where the node has gres/shard (rounded down, at least one), else for a
// whole GPU; a whole-device job is untouched.
TEST(SlurmBatch, AShareAsksForShardsWhereTheNodeHasThem) {
  auto share = [](const std::string& fraction) {
    TaskLaunch t;
    t.task = {7, 1};
    t.command = "true";
    t.env = {{"STARGATE_ACCELERATORS_PER_NODE", "1"}, {"STARGATE_GPU_SHARE", fraction}};
    return std::vector<std::pair<std::string, TaskLaunch>>{{"gpu-a", t}};
  };
  auto gres = [](const SlurmBatch& b) {
    std::vector<std::string> g;
    for (const std::string& a : b.args) {
      if (a.rfind("--gres", 0) == 0 || a.rfind("--cpus-per-gpu", 0) == 0) g.push_back(a);
    }
    return g;
  };
  SlurmBatchOptions o{"hpc", "/w", "", 0, true, 16, ""};
  using V = std::vector<std::string>;
  EXPECT_EQ(gres(MakeSlurmBatch(share("0.250"), o)), (V{"--gres=gpu:1", "--cpus-per-gpu=16"}));  // no shards
  o.shards_per_gpu = {{"gpu-a", 8}, {"gpu-b", 0}};
  EXPECT_EQ(gres(MakeSlurmBatch(share("0.250"), o)), (V{"--gres=shard:2"}));
  EXPECT_EQ(gres(MakeSlurmBatch(share("0.300"), o)), (V{"--gres=shard:2"}));                // 2.4: down
  EXPECT_EQ(gres(MakeSlurmBatch(share("0.001"), o)), (V{"--gres=shard:1"}));                // at least one
  EXPECT_EQ(gres(MakeSlurmBatch(share(""), o)), (V{"--gres=gpu:1", "--cpus-per-gpu=16"}));  // whole device
  EXPECT_EQ(gres(MakeSlurmBatch(Gang("true"), o)), (V{"--gres=gpu:4", "--cpus-per-gpu=16"}));
  o.shards_per_gpu = {{"gpu-a", 100}};
  EXPECT_EQ(gres(MakeSlurmBatch(share("0.290"), o)), (V{"--gres=shard:29"}));  // 28.999... in binary
}

TEST(SlurmBatch, NamesRoundTripAndQuotingSurvivesBash) {
  EXPECT_EQ(TaskOfSlurmJobName(SlurmJobName({12, 3})), (TaskRef{12, 3}));
  EXPECT_FALSE(TaskOfSlurmJobName("stargate-x-1").has_value());
  EXPECT_FALSE(TaskOfSlurmJobName("train").has_value());
  auto r = RunCommand({"/bin/bash", "-c", "printf %s " + ShellQuote("a'b \"c\" $x `y`")}, "", Duration::Millis(5000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "a'b \"c\" $x `y`");
}

TEST(SlurmBatch, TheScriptRunsEachNodesRankThroughSrun) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("sg-batch-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "bin");
  // A stand-in srun: runs the task once per node, as slurmstepd would.
  std::ofstream(dir / "bin" / "srun")
      << "#!/bin/bash\nshift 2\nfor n in gpu-a gpu-b; do SLURMD_NODENAME=$n \"$@\" || exit $?; done\n";
  std::filesystem::permissions(dir / "bin" / "srun", std::filesystem::perms::owner_all);
  SlurmBatchOptions o{"hpc", dir.string(), "", 0, true, 0, ""};
  const SlurmBatch b = MakeSlurmBatch(Gang("echo \"$STARGATE_NODE rank=$RANK q=$QUOTED\"; exit $((RANK * 5))"), o);
  auto r = RunCommand({"/usr/bin/env", "PATH=" + (dir / "bin").string() + ":/usr/bin:/bin", "/bin/bash", "-s"},
                      b.script, Duration::Millis(10'000));
  ASSERT_TRUE(r.ok()) << r.status();
  // gpu-a holds rank 1 (it exits 5: the batch job's exit code), gpu-b rank 0.
  EXPECT_EQ(r->out, "gpu-a rank=1 q=it's \"x\" $HOME\n") << r->err;
  EXPECT_EQ(r->exit_code, 5);
  EXPECT_TRUE(std::filesystem::exists(dir / "jobs" / "12"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace stargate::control
