// The Slurm runner against a fake Slurm: a gang's ranks gather into one
// batch job, its state reaches every rank, stop is scancel then a kill
// after the grace, a restarted driver adopts its site's jobs, and Slurm
// losing a job or refusing one ends the task rather than hanging it.
#include "control/slurm/slurm_runner.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include <unistd.h>

namespace stargate::control {
namespace {

class FakeSlurm : public SlurmClient {
 public:
  StatusOr<uint64_t> Submit(const std::vector<std::string>& args, const std::string& script) override {
    if (refuse) return absl::UnavailableError("sbatch: error: Invalid generic resource (gres) specification");
    SlurmJob j;
    j.id = next_id++;
    for (const std::string& a : args) {
      if (a.rfind("--job-name=", 0) == 0) j.name = a.substr(11);
      if (a.rfind("--comment=", 0) == 0) j.comment = a.substr(10);
      if (a.rfind("--nodelist=", 0) == 0) j.nodes = a.substr(11);
    }
    j.state = "PENDING";
    j.uid = static_cast<int64_t>(getuid());
    jobs.push_back(j);
    submitted.push_back(args);
    return j.id;
  }
  StatusOr<std::vector<SlurmJob>> Jobs() override {
    ++queries;
    if (down) return absl::UnavailableError("slurmctld is down");
    return jobs;
  }
  Status Cancel(uint64_t id, bool kill) override {
    cancels.push_back({id, kill});
    return Status();
  }
  StatusOr<std::vector<SlurmNode>> Nodes() override { return std::vector<SlurmNode>{}; }
  SlurmJob* Find(uint64_t id) {
    for (SlurmJob& j : jobs) {
      if (j.id == id) return &j;
    }
    return nullptr;
  }

  uint64_t next_id = 100;
  bool refuse = false, down = false;
  int queries = 0;
  std::vector<SlurmJob> jobs;
  std::vector<std::vector<std::string>> submitted;
  std::vector<std::pair<uint64_t, bool>> cancels;
};

class SlurmRunnerTest : public ::testing::Test {
 protected:
  SlurmRunnerTest() {
    dir_ = std::filesystem::temp_directory_path() / ("sg-slurm-" + std::to_string(getpid()));
    o_.batch = {"hpc", dir_.string(), "", 15, true, 0, ""};
    o_.nodes = {"n1", "n2", "n3"};
    o_.stop_grace = Duration::Millis(3000);
    o_.refresh = Duration::Zero();
  }
  ~SlurmRunnerTest() override { std::filesystem::remove_all(dir_); }

  static TaskLaunch Launch(TaskRef t, const std::string& gang, int rank) {
    return TaskLaunch{t, "python3 train.py", {{"RANK", std::to_string(rank)}, {"STARGATE_NODES", gang}}};
  }
  // A batch job as scontrol shows it; this driver's user unless told.
  static SlurmJob Job(uint64_t id, const std::string& name, const std::string& comment, const std::string& state,
                      int64_t uid = static_cast<int64_t>(getuid())) {
    SlurmJob j;
    j.id = id;
    j.name = name;
    j.comment = comment;
    j.state = state;
    j.uid = uid;
    return j;
  }
  // The --comment of this site's driver's batch jobs.
  std::string Tag() { return SlurmComment("hpc", SlurmRunner(&slurm_, o_).driver_id()); }
  // What a node reports after the driver's refresher has asked Slurm.
  static std::vector<TaskReport> Seen(SlurmRunner& r, const std::string& node, Time now) {
    r.Refresh(now);
    return r.Poll(node, now);
  }
  static TaskReport Only(const std::vector<TaskReport>& r) {
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? TaskReport{} : r[0];
  }

  std::filesystem::path dir_;
  SlurmRunnerOptions o_;
  FakeSlurm slurm_;
  Time now_ = Time::FromMillis(1'000'000);
};

TEST_F(SlurmRunnerTest, AGangOnTwoNodesIsOneBatchJobOnceBothRanksArrive) {
  SlurmRunner runner(&slurm_, o_);
  const TaskRef t{5, 1};
  // Rank 2 runs on another site (x9): only n2 and n1 are this site's.
  runner.Start("n2", Launch(t, "n2,n1,x9", 0));
  EXPECT_TRUE(slurm_.submitted.empty());
  EXPECT_TRUE(Only(Seen(runner, "n2", now_)).running);  // gathering counts as running
  // n1's rank has not arrived: n1 must not report it, or the server would
  // never send it.
  EXPECT_TRUE(Seen(runner, "n1", now_).empty());
  runner.Start("n2", Launch(t, "n2,n1,x9", 0));  // a repeated reply: nothing new
  runner.Start("n1", Launch(t, "n2,n1,x9", 1));
  ASSERT_EQ(slurm_.submitted.size(), 1u);
  const auto& args = slurm_.submitted[0];
  EXPECT_NE(std::find(args.begin(), args.end(), "--nodelist=n2,n1"), args.end());
  runner.Start("n1", Launch(t, "n2,n1,x9", 1));  // never twice
  EXPECT_EQ(slurm_.submitted.size(), 1u);
  slurm_.Find(100)->state = "RUNNING";
  EXPECT_TRUE(Only(Seen(runner, "n1", now_)).running);
  EXPECT_TRUE(Seen(runner, "n3", now_).empty());
  slurm_.Find(100)->state = "FAILED";
  slurm_.Find(100)->exit_code = 3;
  const TaskReport r1 = Only(Seen(runner, "n1", (now_ += Duration::Millis(1))));
  EXPECT_FALSE(r1.running);
  EXPECT_EQ(r1.exit_code, 3);
  EXPECT_EQ(Only(Seen(runner, "n2", now_)).exit_code, 3);
  runner.Forget("n1", t);
  EXPECT_TRUE(Seen(runner, "n1", now_).empty());
  EXPECT_EQ(Seen(runner, "n2", now_).size(), 1u);  // until n2's server record too
  runner.Forget("n2", t);
  EXPECT_TRUE(Seen(runner, "n2", now_).empty());
}

TEST_F(SlurmRunnerTest, StopIsScancelThenAKillAfterTheGrace) {
  SlurmRunner runner(&slurm_, o_);
  const TaskRef t{6, 2};
  runner.Start("n1", Launch(t, "n1", 0));
  slurm_.Find(100)->state = "RUNNING";
  runner.Stop("n1", t, now_, Duration::Zero());
  runner.Stop("n1", t, now_ + Duration::Millis(1000), Duration::Zero());  // within the grace: once only
  ASSERT_EQ(slurm_.cancels.size(), 1u);
  EXPECT_EQ(slurm_.cancels[0], (std::pair<uint64_t, bool>{100, false}));
  runner.Stop("n1", t, now_ + Duration::Millis(3000), Duration::Zero());
  runner.Stop("n1", t, now_ + Duration::Millis(4000), Duration::Zero());
  ASSERT_EQ(slurm_.cancels.size(), 2u);
  EXPECT_EQ(slurm_.cancels[1], (std::pair<uint64_t, bool>{100, true}));
  slurm_.Find(100)->state = "CANCELLED";
  EXPECT_EQ(Only(Seen(runner, "n1", now_ + Duration::Millis(5000))).signal, SIGTERM);
}

TEST_F(SlurmRunnerTest, AStopBeforeTheGangGatheredEndsItWithoutSlurm) {
  SlurmRunner runner(&slurm_, o_);
  const TaskRef t{7, 1};
  runner.Start("n1", Launch(t, "n1,n2", 0));
  runner.Stop("n1", t, now_, Duration::Zero());
  EXPECT_FALSE(Only(Seen(runner, "n1", now_)).running);
  runner.Start("n2", Launch(t, "n1,n2", 1));  // too late: never submitted
  EXPECT_TRUE(slurm_.submitted.empty());
  EXPECT_TRUE(slurm_.cancels.empty());
}

TEST_F(SlurmRunnerTest, RefusedAndLostJobsEndInsteadOfHanging) {
  SlurmRunner runner(&slurm_, o_);
  slurm_.refuse = true;
  runner.Start("n1", Launch({8, 1}, "n1", 0));
  const TaskReport refused = Only(Seen(runner, "n1", now_));
  EXPECT_FALSE(refused.running);
  EXPECT_EQ(refused.exit_code, 1);
  runner.Forget("n1", {8, 1});
  slurm_.refuse = false;
  runner.Start("n1", Launch({9, 1}, "n1", 0));
  slurm_.down = true;  // slurmctld away: the last known state holds
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Only(Seen(runner, "n1", (now_ += Duration::Millis(1)))).running);
  slurm_.down = false;
  slurm_.jobs.clear();  // purged: gone without a word
  EXPECT_TRUE(Only(Seen(runner, "n1", (now_ += Duration::Millis(1)))).running);
  EXPECT_TRUE(Only(Seen(runner, "n1", (now_ += Duration::Millis(1)))).running);
  const TaskReport lost = Only(Seen(runner, "n1", (now_ += Duration::Millis(1))));
  EXPECT_FALSE(lost.running);
  EXPECT_EQ(lost.signal, SIGKILL);
}

TEST_F(SlurmRunnerTest, ARestartedDriverAdoptsItsSitesRunningJobsOnly) {
  {
    SlurmRunner first(&slurm_, o_);
    first.Start("n1", Launch({10, 4}, "n1,n3", 0));
    first.Start("n3", Launch({10, 4}, "n1,n3", 1));
  }
  slurm_.Find(100)->state = "RUNNING";
  // Another site's job, one whose end was recorded, and another user's.
  slurm_.jobs.push_back(Job(200, "stargate-11-1", "stargate:elsewhere", "RUNNING"));
  slurm_.jobs.push_back(Job(201, "stargate-11-1", Tag(), "COMPLETED"));
  slurm_.jobs.push_back(Job(202, "stargate-12-1", Tag(), "RUNNING", 4242));
  slurm_.jobs.push_back(Job(203, "stargate-13-1", "stargate:hpc:0000beef", "RUNNING"));  // another driver of the site
  SlurmRunner again(&slurm_, o_);
  ASSERT_EQ(again.Adopt().value(), 1);
  EXPECT_EQ(Only(Seen(again, "n3", now_)).task, (TaskRef{10, 4}));
  EXPECT_TRUE(Seen(again, "n2", now_).empty());
  again.Stop("n1", {10, 4}, now_, Duration::Zero());
  ASSERT_EQ(slurm_.cancels.size(), 1u);
  EXPECT_EQ(slurm_.cancels[0].first, 100u);
}

// Ends that happened while the driver was away still reach the server:
// from Slurm when it remembers, as lost when it does not; and once
// recorded (forgotten), they are history.
TEST_F(SlurmRunnerTest, EndsWhileTheDriverWasAwayAreReportedOnce) {
  {
    SlurmRunner first(&slurm_, o_);
    first.Start("n1", Launch({20, 1}, "n1", 0));
    first.Start("n2", Launch({21, 1}, "n2", 0));
  }
  slurm_.Find(100)->state = "FAILED";
  slurm_.Find(100)->exit_code = 7;
  slurm_.jobs.erase(slurm_.jobs.begin() + 1);  // job 21's batch job: purged
  SlurmRunner again(&slurm_, o_);
  ASSERT_TRUE(again.Adopt().ok());
  const TaskReport failed = Only(Seen(again, "n1", now_));
  EXPECT_FALSE(failed.running);
  EXPECT_EQ(failed.exit_code, 7);
  const TaskReport lost = Only(Seen(again, "n2", now_));
  EXPECT_FALSE(lost.running);
  EXPECT_EQ(lost.signal, SIGKILL);
  again.Forget("n1", {20, 1});
  again.Forget("n2", {21, 1});
  SlurmRunner third(&slurm_, o_);
  ASSERT_TRUE(third.Adopt().ok());
  EXPECT_TRUE(Seen(third, "n1", now_).empty());
  EXPECT_TRUE(Seen(third, "n2", now_).empty());
}

// An sbatch that gave up after slurmctld took the job leaves a batch job
// nothing tracks: it is cancelled, not left running beside the retry.
TEST_F(SlurmRunnerTest, AnUntrackedBatchJobOfTheSiteIsCancelled) {
  SlurmRunner runner(&slurm_, o_);
  slurm_.jobs.push_back(Job(300, "stargate-30-1", Tag(), "RUNNING"));
  slurm_.jobs.push_back(Job(301, "stargate-31-1", "stargate:hpc:0000beef", "RUNNING"));  // another driver's: left alone
  Seen(runner, "n1", now_);
  ASSERT_EQ(slurm_.cancels.size(), 1u);
  EXPECT_EQ(slurm_.cancels[0].first, 300u);
}

}  // namespace
}  // namespace stargate::control
