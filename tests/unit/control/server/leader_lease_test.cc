// Leader election on a real etcd (skipped without /usr/bin/etcd): one
// holder at a time; a clean release hands over at once; a holder that
// stops renewing loses the key when its lease runs out, and learns it.
#include "control/server/leader_lease.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "../store/etcd_process.h"
#include "control/store/etcd_store.h"
#include "runtime/real_clock.h"

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
    return LeaderLease(EtcdClient::Make({etcd_->endpoint()}, Duration::Seconds(2), &clock_).value(), "t/leader", who,
                       ttl);
  }
  RealClock clock_;
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

// A standby watches the key: a release wakes it at once; with no change
// it waits out its `wait`.
TEST_F(LeaderLeaseTest, AStandbyIsWokenByTheReleaseNotByAPoll) {
  LeaderLease a = Make("a", Duration::Seconds(5));
  LeaderLease b = Make("b", Duration::Seconds(5));
  ASSERT_TRUE(a.TryAcquire().value());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(b.AwaitChange(Duration::Millis(700)).ok());
  const auto idle = std::chrono::steady_clock::now() - start;
  EXPECT_GE(idle, std::chrono::milliseconds(600)) << "returned with nothing changed";
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    a.Release().IgnoreError();
  });
  start = std::chrono::steady_clock::now();
  ASSERT_TRUE(b.AwaitChange(Duration::Seconds(10)).ok());
  const auto woke = std::chrono::steady_clock::now() - start;
  releaser.join();
  EXPECT_LT(woke, std::chrono::seconds(3)) << "not woken by the release";
  EXPECT_TRUE(b.TryAcquire().value());
}

// The store's watch: changes under a prefix after a revision, in order,
// deletions without a value; nothing within the wait gives none.
TEST_F(LeaderLeaseTest, EtcdStoreWatchSeesChangesAfterARevision) {
  std::unique_ptr<EtcdStore> store = EtcdStore::Open({etcd_->endpoint()}, &clock_, "w/", Duration::Seconds(2)).value();
  const int64_t base = store->Put("jobs/1", "a").value();
  EXPECT_TRUE(store->Watch("jobs/", base, Duration::Millis(300)).value().empty());
  Txn t;
  t.Put("jobs/2", "b").Delete("jobs/1").Put("other/x", "not watched");
  const int64_t rev = store->Commit(t).value();
  const std::vector<EtcdStore::Change> seen = store->Watch("jobs/", base, Duration::Seconds(5)).value();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].key, "jobs/2");
  EXPECT_EQ(seen[0].value, "b");
  EXPECT_EQ(seen[0].revision, rev);
  EXPECT_EQ(seen[1].key, "jobs/1");
  EXPECT_FALSE(seen[1].value.has_value());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    store->Put("jobs/3", "c").IgnoreError();
  });
  std::unique_ptr<EtcdStore> reader = EtcdStore::Open({etcd_->endpoint()}, &clock_, "w/", Duration::Seconds(2)).value();
  const std::vector<EtcdStore::Change> later = reader->Watch("jobs/", rev, Duration::Seconds(5)).value();
  writer.join();
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].key, "jobs/3");
}

// Writes fenced on the leader key: once another server leads, a deposed
// leader's commit is refused (Aborted) and it is told, even if it has not
// noticed the lost lease yet; the new leader's writes go through.
TEST_F(LeaderLeaseTest, FencedWritesStopWhenAnotherLeads) {
  LeaderLease a = Make("a", Duration::Seconds(5));
  LeaderLease b = Make("b", Duration::Seconds(5));
  ASSERT_TRUE(a.TryAcquire().value());
  auto open = [&] { return EtcdStore::Open({etcd_->endpoint()}, &clock_, "t/", Duration::Seconds(2)).value(); };
  std::unique_ptr<EtcdStore> as_a = open(), as_b = open();
  bool a_lost = false, b_lost = false;
  as_a->FenceOn("t/leader", "a", [&] { a_lost = true; });
  as_b->FenceOn("t/leader", "b", [&] { b_lost = true; });
  Txn put;
  put.Put("jobs/1", "from a");
  ASSERT_TRUE(as_a->Commit(put).ok());
  ASSERT_TRUE(a.Release().ok());
  ASSERT_TRUE(b.TryAcquire().value());
  Txn late;
  late.Put("jobs/1", "from a, deposed");
  EXPECT_EQ(as_a->Commit(late).status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(a_lost);
  EXPECT_EQ(as_b->Get("jobs/1").value().value, "from a");
  Txn mine;
  mine.Put("jobs/2", "from b");
  EXPECT_TRUE(as_b->Commit(mine).ok());
  EXPECT_FALSE(b_lost);
  // An ordinary condition failing is not mistaken for the fence.
  Txn stale;
  stale.IfRevision("jobs/2", 1).Put("jobs/2", "x");
  EXPECT_EQ(as_b->Commit(stale).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(b_lost);
}

}  // namespace
}  // namespace stargate::control
