// Leader election on a real etcd (skipped without /usr/bin/etcd): one
// holder at a time; a clean release hands over at once; a holder that
// stops renewing loses the key when its lease runs out, and learns it.
#include "control/leader_lease.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "etcd_process.h"

namespace stargate::control {
namespace {

class LeaderLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::EtcdProcess::Available()) GTEST_SKIP() << "/usr/bin/etcd is missing";
    char tmpl[] = "/tmp/stargate-lease-XXXXXX";
    dir_ = mkdtemp(tmpl);
    etcd_ = std::make_unique<testing::EtcdProcess>(dir_);
    ASSERT_TRUE(etcd_->healthy());
  }
  void TearDown() override {
    etcd_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  LeaderLease Make(const std::string& who, Duration ttl) {
    return LeaderLease(EtcdClient::Make({etcd_->endpoint()}, Duration::Seconds(2)).value(), "t/leader", who, ttl);
  }
  std::string dir_;
  std::unique_ptr<testing::EtcdProcess> etcd_;
};

TEST_F(LeaderLeaseTest, OneHolderAtATimeAndACleanHandOver) {
  LeaderLease a = Make("a", Duration::Seconds(5));
  LeaderLease b = Make("b", Duration::Seconds(5));
  EXPECT_TRUE(a.TryAcquire().value());
  EXPECT_FALSE(b.TryAcquire().value());
  EXPECT_EQ(b.Holder().value(), "a");
  EXPECT_TRUE(a.KeepAlive().ok());
  EXPECT_TRUE(a.TryAcquire().value());  // already held
  ASSERT_TRUE(a.Release().ok());
  EXPECT_TRUE(b.TryAcquire().value());  // at once, no TTL to wait out
  EXPECT_EQ(a.Holder().value(), "b");
}

TEST_F(LeaderLeaseTest, AHolderThatStopsRenewingLosesTheKey) {
  LeaderLease a = Make("a", Duration::Seconds(1));
  LeaderLease b = Make("b", Duration::Seconds(5));
  ASSERT_TRUE(a.TryAcquire().value());
  const auto start = std::chrono::steady_clock::now();
  bool taken = false;
  while (!taken && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    taken = b.TryAcquire().value();
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(taken) << "the expired lease still held the key";
  EXPECT_EQ(a.KeepAlive().code(), absl::StatusCode::kFailedPrecondition);  // a learns it lost
  EXPECT_EQ(a.Holder().value(), "b");
}

}  // namespace
}  // namespace stargate::control
