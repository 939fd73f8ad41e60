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

}  // namespace
}  // namespace stargate::control
