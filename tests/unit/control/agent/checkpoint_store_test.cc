#include "control/agent/checkpoint_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace stargate::control {
namespace {

namespace fs = std::filesystem;

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    area_ = fs::temp_directory_path() / fmt_name();
    fs::remove_all(area_);
    fs::create_directories(area_);
  }
  void TearDown() override { fs::remove_all(area_); }
  static std::string fmt_name() {
    return "stargate-ckpt-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  static void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  // A sealed checkpoint at `step` with a model and a nested optimizer file.
  fs::path Sealed(int64_t step) {
    const fs::path dir = area_ / CheckpointDirName(step);
    Write(dir / "model.pt", std::string(1000 + step, 'm'));
    Write(dir / "optim/state.bin", "optimizer at step " + std::to_string(step));
    EXPECT_TRUE(SealCheckpoint(dir, step, 1'796'400'000'000 + step).ok());
    return dir;
  }
  fs::path area_;
};

TEST_F(CheckpointStoreTest, ASealedCheckpointVerifies) {
  const fs::path dir = Sealed(150);
  EXPECT_EQ(dir.filename(), "step-000000000150");
  CheckpointManifest m;
  ASSERT_TRUE(VerifyCheckpoint(dir, &m).ok());
  EXPECT_EQ(m.step, 150);
  ASSERT_EQ(m.files.size(), 2u);
  EXPECT_EQ(m.files[0].path, "model.pt");
  EXPECT_EQ(m.files[0].size, 1150u);
  EXPECT_EQ(m.files[1].path, "optim/state.bin");
  // SHA-256 of "optimizer at step 150", as sha256sum prints it.
  EXPECT_EQ(m.files[1].sha256, "541d104424ac831106830b7fdc10079eacbf132e1540fe38a9657813cbcba648");
  EXPECT_FALSE(fs::exists(dir / "MANIFEST.json.tmp"));
  // The manifest round-trips.
  const CheckpointManifest again = ParseManifest(ManifestJson(m), "m").value();
  EXPECT_EQ(again.files[1].sha256, m.files[1].sha256);
}

// A truncated, corrupted or missing file, or no manifest at all, is not a
// checkpoint; the reason names the file.
TEST_F(CheckpointStoreTest, AnythingOffIsIncomplete) {
  const fs::path dir = Sealed(10);
  fs::resize_file(dir / "model.pt", 500);
  Status st = VerifyCheckpoint(dir);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("model.pt is 500 bytes, the manifest says 1010 (truncated?)"), std::string::npos) << st;

  const fs::path flipped = Sealed(11);
  Write(flipped / "optim/state.bin", "optimizer at step 1X");  // same size, other bytes
  st = VerifyCheckpoint(flipped);
  EXPECT_NE(st.message().find("optim/state.bin does not match its SHA-256"), std::string::npos) << st;

  const fs::path gone = Sealed(12);
  fs::remove(gone / "model.pt");
  EXPECT_NE(VerifyCheckpoint(gone).message().find("model.pt is missing"), std::string::npos);

  const fs::path unsealed = area_ / CheckpointDirName(13);
  Write(unsealed / "model.pt", "half");
  st = VerifyCheckpoint(unsealed);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(st.message().find("no MANIFEST.json"), std::string::npos);
}

TEST_F(CheckpointStoreTest, TheNewestCompleteOneIsChosen) {
  Sealed(100);
  Sealed(200);
  const fs::path torn = Sealed(300);
  fs::resize_file(torn / "model.pt", 10);
  Write(area_ / CheckpointDirName(400) / "model.pt", "being written");  // not sealed yet
  Write(area_ / "notes.txt", "not a checkpoint");
  fs::create_directories(area_ / ".step-000000000500.tmp-42");  // a writer's temporary directory
  const CheckpointScan scan = NewestComplete(area_);
  ASSERT_TRUE(scan.newest.has_value());
  EXPECT_EQ(scan.newest->filename(), "step-000000000200");
  EXPECT_EQ(scan.manifest.step, 200);
  ASSERT_EQ(scan.skipped.size(), 2u);
  EXPECT_EQ(scan.skipped[0].rfind("step-000000000400: ", 0), 0u);
  EXPECT_EQ(scan.skipped[1].rfind("step-000000000300: ", 0), 0u);
  EXPECT_FALSE(NewestComplete(area_ / "none").newest.has_value());
}

// A checkpoint renamed to another step is not that step.
TEST_F(CheckpointStoreTest, TheDirectoryAndTheManifestAgreeOnTheStep) {
  const fs::path dir = Sealed(7);
  fs::rename(dir, area_ / CheckpointDirName(9));
  const CheckpointScan scan = NewestComplete(area_);
  EXPECT_FALSE(scan.newest.has_value());
  ASSERT_EQ(scan.skipped.size(), 1u);
  EXPECT_NE(scan.skipped[0].find("its manifest says step 7"), std::string::npos);
}

TEST(CheckpointManifest, BadManifestsNameTheField) {
  const std::string sha(64, 'a');
  auto error = [](const std::string& text) { return std::string(ParseManifest(text, "m.json").status().message()); };
  EXPECT_EQ(error("[]"), "m.json: manifest: not a JSON object");
  EXPECT_EQ(error(R"({"format":"x","step":1,"time_unix_ms":0,"files":[]})"),
            "m.json: format: expected \"stargate-checkpoint/1\"");
  EXPECT_EQ(error(R"({"format":"stargate-checkpoint/1","step":-1,"time_unix_ms":0,"files":[]})"),
            "m.json: step: expected a whole number >= 0");
  for (const char* path : {"../etc/passwd", "/abs", "a//b", "a/./b", ""}) {
    const std::string text =
        std::string(R"({"format":"stargate-checkpoint/1","step":1,"time_unix_ms":0,"files":[{"path":")") + path +
        R"(","size":1,"sha256":")" + sha + R"("}]})";
    EXPECT_EQ(error(text), "m.json: files[0].path: expected a relative path inside the checkpoint (no '..')") << path;
  }
  EXPECT_EQ(
      error(
          R"({"format":"stargate-checkpoint/1","step":1,"time_unix_ms":0,"files":[{"path":"a","size":1,"sha256":"AB"}]})"),
      "m.json: files[0].sha256: expected 64 lower-case hex digits");
  EXPECT_EQ(StepOfDirName("step-000000000150"), 150);
  EXPECT_FALSE(StepOfDirName("step-150").has_value());
  EXPECT_FALSE(StepOfDirName("step-00000000015x").has_value());
}

}  // namespace
}  // namespace stargate::control
