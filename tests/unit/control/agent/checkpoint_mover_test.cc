#include "control/agent/checkpoint_mover.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "control/agent/checkpoint_store.h"
#include "control/agent/task_log_server.h"
#include "control/net/digest.h"
#include "runtime/real_clock.h"

namespace stargate::control {
namespace {

namespace fs = std::filesystem;
using State = CheckpointCopyReport::State;

// Two site stores on one machine: `a` serves its checkpoints from a log
// server, a mover copies them into `b`.
class CheckpointMoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("stargate-mover-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    a_ = (base_ / "a").string();
    b_ = (base_ / "b").string();
    fs::create_directories(base_ / "logs");
    fs::create_directories(a_);
    fs::create_directories(b_);
    port_ = server_.Start("127.0.0.1", (base_ / "logs").string(), kToken, a_);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  // Job 7's checkpoint `step` in store `a`: a model and a nested file.
  fs::path Sealed(int64_t step, size_t model_bytes = 5000) {
    const fs::path dir = fs::path(a_) / "ml" / "7" / CheckpointDirName(step);
    std::string model(model_bytes, '\0');
    for (size_t i = 0; i < model.size(); ++i) model[i] = static_cast<char>('a' + (i * 7 + step) % 26);
    Write(dir / "model.pt", model);
    Write(dir / "optim/state.bin", "optimizer at step " + std::to_string(step));
    EXPECT_TRUE(SealCheckpoint(dir, step, 1'796'400'000'000 + step).ok());
    return dir;
  }
  CheckpointPull Pull(int64_t step, int keep = 2) const {
    const std::string source = a_ + "/ml/7/" + CheckpointDirName(step);
    return CheckpointPull{7,
                          step,
                          b_ + "/ml/7",
                          "http://127.0.0.1:" + std::to_string(port_),
                          source,
                          CheckpointTicket(kToken, source),
                          0,
                          keep,
                          {}};
  }
  // Waits (at most 20 s) until the copy of `step` is in `want` state.
  static CheckpointCopyReport WaitFor(const CheckpointMover& m, int64_t step, State want) {
    RealClock clock;
    const Time deadline = clock.Now() + Duration::Seconds(20);
    CheckpointCopyReport last;
    while (clock.Now() < deadline) {
      std::vector<CheckpointHeld> held;
      std::vector<CheckpointCopyReport> copies;
      m.Report(&held, &copies);
      for (const CheckpointCopyReport& c : copies) {
        if (c.step == step) last = c;
      }
      if (last.step == step && last.state == want) return last;
      clock.SleepFor(Duration::Millis(20));
    }
    ADD_FAILURE() << "copy of step " << step << " never reached state " << Name(want) << "; last: " << Name(last.state)
                  << " " << last.error;
    return last;
  }
  CheckpointMoverOptions Options(std::string jurisdiction = "EU") const {
    CheckpointMoverOptions o{b_, std::move(jurisdiction), "b1"};
    o.retry = Duration::Millis(50);
    o.rescan = Duration::Millis(50);
    return o;
  }

  static constexpr char kToken[] = "f00dfeed";
  fs::path base_;
  std::string a_, b_;
  TaskLogServer server_;
  int port_ = 0;
  RealClock clock_;
};

TEST_F(CheckpointMoverTest, CopiesACompleteCheckpointAndReportsIt) {
  Sealed(100);
  Sealed(200);
  CheckpointMover mover(Options(), &clock_);
  mover.Want({{7, b_ + "/ml/7"}}, {Pull(200)});
  const CheckpointCopyReport done = WaitFor(mover, 200, State::kDone);
  EXPECT_EQ(done.bytes_total, 5000u + std::string("optimizer at step 200").size());
  EXPECT_EQ(done.bytes_done, done.bytes_total);
  CheckpointManifest m;
  ASSERT_TRUE(VerifyCheckpoint(fs::path(b_) / "ml/7/step-000000000200", &m).ok());
  EXPECT_EQ(m.step, 200);
  // The manifest is the source's, byte for byte.
  std::ifstream x(fs::path(a_) / "ml/7/step-000000000200/MANIFEST.json"),
      y(fs::path(b_) / "ml/7/step-000000000200/MANIFEST.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(x), {}), std::string(std::istreambuf_iterator<char>(y), {}));
  EXPECT_FALSE(fs::exists(fs::path(b_) / ".stargate-staging/7-step-000000000200"));
  // The watched area now reports it.
  for (int i = 0; i < 200; ++i) {
    std::vector<CheckpointHeld> held;
    std::vector<CheckpointCopyReport> copies;
    mover.Report(&held, &copies);
    if (!held.empty() && held[0].step == 200) {
      EXPECT_EQ(held[0].bytes, done.bytes_total);
      return;
    }
    clock_.SleepFor(Duration::Millis(20));
  }
  ADD_FAILURE() << "the copy was never reported as held";
}

TEST_F(CheckpointMoverTest, KeepsOnlyTheNewestCheckpoints) {
  for (int64_t s : {100, 200, 300}) Sealed(s);
  CheckpointMover mover(Options(), &clock_);
  mover.Want({}, {Pull(100, 2), Pull(200, 2)});
  WaitFor(mover, 100, State::kDone);
  WaitFor(mover, 200, State::kDone);
  mover.Want({}, {Pull(300, 2)});
  WaitFor(mover, 300, State::kDone);
  EXPECT_FALSE(fs::exists(fs::path(b_) / "ml/7/step-000000000100"));
  EXPECT_TRUE(VerifyCheckpoint(fs::path(b_) / "ml/7/step-000000000200").ok());
  EXPECT_TRUE(VerifyCheckpoint(fs::path(b_) / "ml/7/step-000000000300").ok());
}

// A cut copy resumes with a range: bytes already there are kept. Here
// they are wrong, so the resumed file fails its hash: it is removed and
// copied whole on the retry. (A copy that fetched whole files would never
// have failed.)
TEST_F(CheckpointMoverTest, ACutCopyResumesAndABadPartIsCaughtByItsHash) {
  Sealed(100);
  Write(fs::path(b_) / ".stargate-staging/7-step-000000000100/model.pt", std::string(2000, 'Z'));
  CheckpointMover mover(Options(), &clock_);
  mover.Want({}, {Pull(100)});
  const CheckpointCopyReport failed = WaitFor(mover, 100, State::kFailed);
  EXPECT_NE(failed.error.find("model.pt"), std::string::npos) << failed.error;
  EXPECT_NE(failed.error.find("SHA-256"), std::string::npos) << failed.error;
  WaitFor(mover, 100, State::kDone);
  EXPECT_TRUE(VerifyCheckpoint(fs::path(b_) / "ml/7/step-000000000100").ok());
}

TEST_F(CheckpointMoverTest, AnUnsealedCheckpointIsNotServed) {
  const fs::path dir = fs::path(a_) / "ml/7/step-000000000400";
  Write(dir / "model.pt", "half");
  CheckpointMover mover(Options(), &clock_);
  mover.Want({}, {Pull(400)});
  const CheckpointCopyReport failed = WaitFor(mover, 400, State::kFailed);
  EXPECT_NE(failed.error.find("HTTP 404"), std::string::npos) << failed.error;
  EXPECT_FALSE(fs::exists(fs::path(b_) / "ml/7/step-000000000400"));
}

TEST_F(CheckpointMoverTest, ACopyOutsideTheJobsJurisdictionsIsRefused) {
  Sealed(100);
  CheckpointMover mover(Options("US"), &clock_);
  CheckpointPull p = Pull(100);
  p.jurisdictions = {"EU"};
  mover.Want({}, {p});
  const CheckpointCopyReport refused = WaitFor(mover, 100, State::kRefused);
  EXPECT_NE(refused.error.find("jurisdiction US, outside the job's [EU]"), std::string::npos) << refused.error;
  EXPECT_FALSE(fs::exists(fs::path(b_) / "ml/7"));
}

TEST_F(CheckpointMoverTest, TheRateLimitHolds) {
  Sealed(100, 1'000'000);
  CheckpointMover mover(Options(), &clock_);
  CheckpointPull p = Pull(100);
  p.rate_bytes_per_s = 4'000'000;  // 1 MB at 4 MB/s: at least 0.25 s
  const Time start = clock_.Now();
  mover.Want({}, {p});
  WaitFor(mover, 100, State::kDone);
  EXPECT_GE((clock_.Now() - start).millis(), 240);
}

// The ticket opens one checkpoint directory of the store, and nothing
// else: not another step, not a path out of it, not a link out of it.
TEST_F(CheckpointMoverTest, ATicketReadsOnlyItsOwnCheckpoint) {
  Sealed(100);
  Sealed(200);
  Write(fs::path(a_) / "secret.txt", "other tenant");
  const std::string d100 = a_ + "/ml/7/step-000000000100";
  fs::create_symlink(fs::path(a_) / "secret.txt", fs::path(d100) / "link.txt");
  httplib::Client http("127.0.0.1", port_);
  auto get = [&](const std::string& dir, const std::string& path, const std::string& ticket) {
    auto r = http.Get("/checkpoints/file", {{"dir", dir}, {"path", path}}, {{"Authorization", "Bearer " + ticket}});
    return r ? r->status : -1;
  };
  const std::string t100 = CheckpointTicket(kToken, d100);
  EXPECT_EQ(get(d100, "model.pt", t100), 200);
  EXPECT_EQ(get(a_ + "/ml/7/step-000000000200", "model.pt", t100), 401);  // another step
  EXPECT_EQ(get(d100, "../step-000000000200/model.pt", t100), 404);
  EXPECT_EQ(get(d100, "link.txt", t100), 404);
  fs::create_hard_link(fs::path(a_) / "secret.txt", fs::path(d100) / "hard.txt");
  EXPECT_EQ(get(d100, "hard.txt", t100), 404);
  EXPECT_EQ(get(d100, "model.pt", kToken), 401);  // the log token itself is no ticket
  EXPECT_EQ(get(d100, "model.pt", ""), 401);
  const std::string outside = base_.string() + "/logs/step-000000000100";
  EXPECT_EQ(get(outside, "x", CheckpointTicket(kToken, outside)), 401);  // not under the store
  // A range is honoured.
  auto r = http.Get("/checkpoints/file", {{"dir", d100}, {"path", "model.pt"}},
                    {{"Authorization", "Bearer " + t100}, {"Range", "bytes=4990-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body.size(), 10u);
}

}  // namespace
}  // namespace stargate::control
