// The agent applies a task's power cap with the vendor tool and restores
// the default when the task ends; tested with a stand-in nvidia-smi on
// PATH that records its calls (and can be told to refuse).
#include "control/agent/power_limit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "control/agent/local_runner.h"

namespace stargate::control {
namespace {

class StandInNvidiaSmi : public ::testing::Test {
 protected:
  StandInNvidiaSmi() {
    dir_ = std::filesystem::temp_directory_path() / ("sg-smi-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    log_ = (dir_ / "calls").string();
    // Answers the default-limit query with 700 W; refuses -pl for the
    // device named in ./refuse, if any.
    const std::string script = (dir_ / "nvidia-smi").string();
    std::ofstream(script) << "#!/bin/sh\n"
                          << "echo \"$*\" >> '" << log_ << "'\n"
                          << "case \"$*\" in *power.default_limit*) echo '700.00'; exit 0;; esac\n"
                          << "if [ -f '" << (dir_ / "refuse").string() << "' ] && [ \"$2\" = \"$(cat '"
                          << (dir_ / "refuse").string()
                          << "')\" ]; then echo 'Insufficient Permissions' >&2; exit 4; fi\n"
                          << "exit 0\n";
    chmod(script.c_str(), 0755);
    old_path_ = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    setenv("PATH", (dir_.string() + ":" + old_path_).c_str(), 1);
  }
  ~StandInNvidiaSmi() override {
    setenv("PATH", old_path_.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  std::vector<std::string> Calls() const {
    std::ifstream f(log_);
    std::vector<std::string> out;
    for (std::string line; std::getline(f, line);) out.push_back(line);
    return out;
  }

  std::filesystem::path dir_;
  std::string log_, old_path_;
};

TEST_F(StandInNvidiaSmi, LimitsEachDeviceAndRestoresTheDefault) {
  PowerLimiter limiter(AcceleratorType::kH100);
  std::string why;
  ASSERT_TRUE(limiter.Apply({"0", "3"}, 0.6, &why)) << why;
  EXPECT_EQ(Calls(), (std::vector<std::string>{
                         "-i 0 --query-gpu=power.default_limit --format=csv,noheader,nounits",
                         "-i 0 -pl 420",
                         "-i 3 --query-gpu=power.default_limit --format=csv,noheader,nounits",
                         "-i 3 -pl 420",
                     }));
  limiter.Restore({"0", "3"});
  const std::vector<std::string> calls = Calls();
  ASSERT_EQ(calls.size(), 6u);
  EXPECT_EQ(calls[4], "-i 0 -pl 700");
  EXPECT_EQ(calls[5], "-i 3 -pl 700");
  limiter.Restore({"0"});  // already restored: nothing
  EXPECT_EQ(Calls().size(), 6u);
}

// One device refuses: not enforced, and those already limited go back.
TEST_F(StandInNvidiaSmi, ARefusalIsNotEnforcedAndUndoesTheRest) {
  std::ofstream(dir_ / "refuse") << "1";
  PowerLimiter limiter(AcceleratorType::kH100);
  std::string why;
  EXPECT_FALSE(limiter.Apply({"0", "1"}, 0.5, &why));
  EXPECT_NE(why.find("Insufficient Permissions"), std::string::npos) << why;
  const std::vector<std::string> calls = Calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), "-i 0 -pl 700");  // device 0 restored
}

// An agent that dies with devices limited leaves a record; the next one
// restores them before it runs anything.
TEST_F(StandInNvidiaSmi, TheNextAgentRestoresWhatADeadOneLeftLimited) {
  const std::string state = (dir_ / "power-limits").string();
  {
    PowerLimiter dying(AcceleratorType::kH100, state);
    std::string why;
    ASSERT_TRUE(dying.Apply({"2"}, 0.5, &why)) << why;
  }  // gone without Restore
  PowerLimiter next(AcceleratorType::kH100, state);
  next.RestoreLeftovers();
  const std::vector<std::string> calls = Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2], "-i 2 -pl 700");
  next.RestoreLeftovers();  // nothing left
  EXPECT_EQ(Calls().size(), 3u);
}

TEST_F(StandInNvidiaSmi, ACpuNodeHasNothingToLimit) {
  PowerLimiter limiter(AcceleratorType::kCpu);
  std::string why;
  EXPECT_FALSE(limiter.Apply({"0"}, 0.5, &why));
  EXPECT_EQ(why, "no controllable device on this node");
  EXPECT_TRUE(Calls().empty());
}

// Through the runner: the task's report says whether its cap holds, and
// its end restores the devices it held.
TEST_F(StandInNvidiaSmi, TheRunnerReportsTheCapAndRestoresItAtTheEnd) {
  for (const auto& [type, want] : {std::pair{AcceleratorType::kH100, TaskReport::Cap::kEnforced},
                                   std::pair{AcceleratorType::kCpu, TaskReport::Cap::kNotEnforced}}) {
    NodeInfo node;
    node.name = "n";
    node.accelerator = type;
    node.accelerators = 2;
    LocalRunner runner(node, (dir_ / "work").string(), Duration::Seconds(1));
    TaskLaunch t;
    t.task = {1, 1};
    t.command = "exit 0";
    t.env = {{"STARGATE_ACCELERATORS_PER_NODE", "1"}};
    t.power_cap = 0.5;
    runner.Start("n", t);
    std::optional<TaskReport> end;
    for (int i = 0; i < 500 && !end.has_value(); ++i) {
      for (const TaskReport& r : runner.Poll("n", Time::Epoch())) {
        EXPECT_EQ(r.cap, want);
        if (!r.running) end = r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(end.has_value());
    if (type == AcceleratorType::kH100) {
      const std::vector<std::string> calls = Calls();
      ASSERT_EQ(calls.size(), 3u);
      EXPECT_EQ(calls[1], "-i 0 -pl 350");
      EXPECT_EQ(calls[2], "-i 0 -pl 700");  // restored at its end
    }
  }
}

// One node with one H100, and a task on it ramped 2 s at the floor, then
// up over 10 s.
NodeInfo OneH100() {
  NodeInfo node;
  node.name = "n";
  node.accelerator = AcceleratorType::kH100;
  node.accelerators = 1;
  return node;
}
TaskLaunch Ramped(const std::string& command) {
  TaskLaunch t;
  t.task = {1, 1};
  t.command = command;
  t.env = {{"STARGATE_ACCELERATORS_PER_NODE", "1"}};
  t.ramp_hold = Duration::Seconds(2);
  t.ramp_up = Duration::Seconds(10);
  t.ramp_floor = 0.5;
  return t;
}

// A choreographed start (sched/power_ramp.h): the devices launch at the
// floor, stay there through the hold, then the limit rises in steps to
// the default, which ends the ramp.
TEST_F(StandInNvidiaSmi, TheRunnerRampsTheLimitFromTheFloorToTheDefault) {
  LocalRunner runner(OneH100(), (dir_ / "work").string(), Duration::Seconds(1));
  runner.Start("n", Ramped("sleep 30"));
  const Time t0 = Time::Epoch() + Duration::Hours(1);
  for (int s : {0, 1, 2, 3, 4, 13, 20}) runner.Poll("n", t0 + Duration::Seconds(s));
  const std::vector<std::string> calls = Calls();
  std::vector<std::string> limits;
  for (const std::string& c : calls) {
    if (c.find("-pl") != std::string::npos) limits.push_back(c);
  }
  // 50% at launch and through the hold (no call at 1 s or 2 s); 55% at
  // 3 s, 60% at 4 s; then the default.
  EXPECT_EQ(limits, (std::vector<std::string>{"-i 0 -pl 350", "-i 0 -pl 385", "-i 0 -pl 420", "-i 0 -pl 700"}));
  runner.Stop("n", {1, 1}, t0, Duration::Zero());
  runner.Stop("n", {1, 1}, t0 + Duration::Seconds(5), Duration::Zero());
  for (int i = 0; i < 200; ++i) {
    const std::vector<TaskReport> r = runner.Poll("n", t0 + Duration::Seconds(30));
    if (!r.empty() && !r[0].running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// When a ramped task ends, the holding load keeps its devices busy until
// the server gives its fall a turn, then while their limit steps down the
// ramp in reverse; then it is killed and the default limit restored; a
// new task on those devices ends it at once.
TEST_F(StandInNvidiaSmi, AHoldingLoadTakesAnEndedTaskDownTheRamp) {
  LocalRunner runner(OneH100(), (dir_ / "work").string(), Duration::Seconds(1));
  const std::string pid_file = (dir_ / "hold.pid").string();
  runner.SetHoldingLoad("echo $$ $CUDA_VISIBLE_DEVICES > '" + pid_file + "'; exec sleep 100");
  runner.Start("n", Ramped("exit 0"));
  const Time t0 = Time::Epoch() + Duration::Hours(1);
  bool ended = false;
  for (int i = 0; i < 300 && !ended; ++i) {
    for (const TaskReport& r : runner.Poll("n", t0)) ended = ended || !r.running;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(ended);
  for (int i = 0; i < 300 && !std::filesystem::exists(pid_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int pid = 0;
  std::string devices;
  std::ifstream(pid_file) >> pid >> devices;
  ASSERT_GT(pid, 0);
  EXPECT_EQ(devices, "0");
  EXPECT_EQ(kill(pid, 0), 0);  // running
  // It asks for its turn until told; the server says 5 s from the end.
  EXPECT_EQ(runner.Holding("n"), (std::vector<TaskRef>{{1, 1}}));
  runner.FallAt("n", {1, 1}, t0 + Duration::Seconds(5));
  EXPECT_TRUE(runner.Holding("n").empty());
  // The task ended at the floor (its ramp had not begun): from its turn
  // the hold stays there for the floor's 2 s, as the twin's fall does.
  runner.Poll("n", t0 + Duration::Seconds(4));
  runner.Poll("n", t0 + Duration::Seconds(6));
  EXPECT_EQ(kill(pid, 0), 0);
  for (int i = 0; i < 300 && kill(pid, 0) == 0; ++i) {
    runner.Poll("n", t0 + Duration::Seconds(7));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(kill(pid, 0), 0);  // killed and reaped
  const std::vector<std::string> calls = Calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), "-i 0 -pl 700");  // restored
}

// A task that ran past its ramp (its limit back at the default) is held
// from the top and stepped down the whole rise: 12 s, through 70% at 6 s
// left. Without word from the server it holds the top for
// kFallUnanswered (30 s), then falls on its own.
TEST_F(StandInNvidiaSmi, AHoldingLoadTakesAFullTaskDownTheWholeRamp) {
  LocalRunner runner(OneH100(), (dir_ / "work").string(), Duration::Seconds(1));
  runner.SetHoldingLoad("exec sleep 100");
  runner.Start("n", Ramped("sleep 0.3"));
  const Time t0 = Time::Epoch() + Duration::Hours(1);
  runner.Poll("n", t0);                          // launched: at the floor
  runner.Poll("n", t0 + Duration::Seconds(13));  // up: the default back
  bool ended = false;
  for (int i = 0; i < 300 && !ended; ++i) {
    for (const TaskReport& r : runner.Poll("n", t0 + Duration::Seconds(20))) ended = ended || !r.running;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(ended);
  runner.Poll("n", t0 + Duration::Seconds(26));  // still at the top: no turn yet
  runner.Poll("n", t0 + Duration::Seconds(49));
  EXPECT_EQ(runner.Holding("n"), (std::vector<TaskRef>{{1, 1}}));
  runner.Poll("n", t0 + Duration::Seconds(50));  // unanswered: falls from here
  EXPECT_TRUE(runner.Holding("n").empty());
  runner.Poll("n", t0 + Duration::Seconds(56));
  runner.Poll("n", t0 + Duration::Seconds(63));
  std::vector<std::string> limits;
  for (const std::string& c : Calls()) {
    if (c.find("-pl") != std::string::npos) limits.push_back(c);
  }
  EXPECT_EQ(limits,
            (std::vector<std::string>{"-i 0 -pl 350", "-i 0 -pl 700", "-i 0 -pl 700", "-i 0 -pl 490", "-i 0 -pl 700"}));
}

}  // namespace
}  // namespace stargate::control
