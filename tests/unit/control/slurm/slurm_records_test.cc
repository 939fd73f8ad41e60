// Reading Slurm's tools: scontrol records, GRES, job states as outcomes.
#include "control/slurm/slurm_records.h"

#include <gtest/gtest.h>

#include <csignal>

namespace stargate::control {
namespace {

// Lines as Slurm 22.05 prints them (`scontrol --oneliner show job`), cut.
constexpr char kJobs[] =
    "JobId=7 JobName=stargate-3-1 UserId=root(0) JobState=RUNNING Reason=None ExitCode=0:0 NodeList=gpu[01-02] "
    "Comment=stargate:hpc  StdErr=/w/logs/job-3-attempt-1.log\n"
    "JobId=8 JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 NodeList=gpu01 Comment=(null)\n"
    "JobId=9 JobName=y JobState=PENDING Reason=ReqNodeNotAvail, UnavailableNodes:gpu03 ExitCode=0:0\n";

TEST(SlurmRecords, ParsesJobLinesWithSpacesInValues) {
  auto jobs = ParseSlurmJobs(kJobs);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].id, 7u);
  EXPECT_EQ((*jobs)[0].name, "stargate-3-1");
  EXPECT_EQ((*jobs)[0].state, "RUNNING");
  EXPECT_EQ((*jobs)[0].comment, "stargate:hpc");
  EXPECT_EQ((*jobs)[0].nodes, "gpu[01-02]");
  EXPECT_EQ((*jobs)[1].exit_code, 3);
  EXPECT_EQ((*jobs)[1].comment, "");  // (null)
  EXPECT_EQ((*jobs)[2].reason, "ReqNodeNotAvail, UnavailableNodes:gpu03");
  EXPECT_TRUE(ParseSlurmJobs("No jobs in the system\n").value().empty());
  EXPECT_FALSE(ParseSlurmJobs("JobId=abc JobState=RUNNING\n").ok());
}

TEST(SlurmRecords, ParsesNodesAndCountsGpusOfAnyType) {
  auto nodes = ParseSlurmNodes(
      "NodeName=vm Arch=x86_64 CPUTot=2 Gres=gpu:8 NodeAddr=127.0.0.1 RealMemory=1000 State=IDLE Partitions=debug\n"
      "NodeName=g2 CPUTot=64 Gres=gpu:a100:4(S:0-1),mps:100 RealMemory=512000 State=DOWN* Partitions=gpu,all\n");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].address, "127.0.0.1");
  EXPECT_EQ((*nodes)[0].gpus, 8);
  EXPECT_EQ((*nodes)[0].gpu_type, "");
  EXPECT_EQ((*nodes)[0].memory_bytes, int64_t{1000} << 20);
  EXPECT_EQ((*nodes)[1].address, "g2");  // no NodeAddr: the name
  EXPECT_EQ((*nodes)[1].gpus, 4);
  EXPECT_EQ((*nodes)[1].gpu_type, "a100");
  EXPECT_EQ((*nodes)[1].partitions, (std::vector<std::string>{"gpu", "all"}));
  EXPECT_EQ(GpusInGres("(null)"), 0);
  EXPECT_EQ(GpusInGres("gpu:h100:2,gpu:a100:1"), 3);
  EXPECT_EQ(CountInGres("gpu:8,shard:64", "shard"), 64);
  EXPECT_EQ(CountInGres("gpu:8,shard:64(S:0)", "gpu"), 8);
  EXPECT_EQ(CountInGres("gpu:8,mps:100", "shard"), 0);
  EXPECT_FALSE(ParseSlurmNodes("CPUTot=2\n").ok());
}

TEST(SlurmRecords, StatesBecomeOutcomes) {
  auto outcome = [](const char* state, int code = 0, int sig = 0) {
    SlurmJob j;
    j.state = state;
    j.exit_code = code;
    j.signal = sig;
    return OutcomeOf(j);
  };
  for (const char* s : {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED"}) {
    EXPECT_TRUE(outcome(s).running) << s;
  }
  EXPECT_FALSE(outcome("COMPLETED").running);
  EXPECT_EQ(outcome("COMPLETED").exit_code, 0);
  EXPECT_EQ(outcome("FAILED", 3).exit_code, 3);
  EXPECT_EQ(outcome("FAILED").exit_code, 1);  // failed is never a success
  EXPECT_EQ(outcome("CANCELLED").signal, SIGTERM);
  EXPECT_EQ(outcome("CANCELLED", 0, 9).signal, 9);
  EXPECT_EQ(outcome("NODE_FAIL").signal, SIGKILL);
  EXPECT_EQ(outcome("TIMEOUT").signal, SIGKILL);
  EXPECT_FALSE(outcome("OUT_OF_MEMORY").running);
}

TEST(SlurmRecords, UsableNodeStates) {
  for (const char* s : {"IDLE", "MIXED", "ALLOCATED", "COMPLETING"}) EXPECT_TRUE(SlurmNodeUsable(s)) << s;
  for (const char* s : {"DOWN", "DOWN*", "IDLE+DRAIN", "MIXED+DRAIN", "IDLE*", "FUTURE", "INVAL"}) {
    EXPECT_FALSE(SlurmNodeUsable(s)) << s;
  }
}

}  // namespace
}  // namespace stargate::control
