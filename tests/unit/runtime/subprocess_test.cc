#include "runtime/subprocess.h"

#include <gtest/gtest.h>

#include <string>

namespace stargate::control {
namespace {

TEST(RunCommand, CapturesOutputFeedsInputAndReportsTheExit) {
  auto r = RunCommand({"/bin/sh", "-c", "cat; echo err >&2; exit 4"}, "hello", Duration::Millis(5000));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "hello");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 4);
  // More than a pipe holds, both ways.
  const std::string big(1 << 20, 'x');
  auto echo = RunCommand({"/bin/cat"}, big, Duration::Millis(5000));
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->out.size(), big.size());
}

TEST(RunCommand, OverrunsAndMissingProgramsAreErrors) {
  auto slow = RunCommand({"/bin/sleep", "5"}, "", Duration::Millis(200));
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kUnavailable);
  auto missing = RunCommand({"/no/such/program"}, "", Duration::Millis(1000));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace stargate::control
