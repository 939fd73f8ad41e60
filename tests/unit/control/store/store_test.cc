// The Store conformance suite, run against every implementation, plus the
// SQLite store's durability: reopened, and killed with SIGKILL mid-stream.
#include "control/store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "control/store/etcd_store.h"
#include "control/store/memory_store.h"
#include "control/store/sqlite_store.h"
#include "etcd_process.h"
#include "runtime/real_clock.h"

namespace stargate::control {
namespace {

// A fresh temporary directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/stargate-store-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<Store>(const TempDir&)> make;
};
void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }

// An EtcdStore on its own throwaway etcd (which it outlives by nothing).
class OwnEtcd final : public Store {
 public:
  explicit OwnEtcd(const TempDir& dir) : etcd_(dir.File("")) {
    if (etcd_.healthy()) store_ = EtcdStore::Open({etcd_.endpoint()}, &clock_, "t/", Duration::Seconds(5)).value();
  }
  bool ok() const { return store_ != nullptr; }
  StatusOr<KeyValue> Get(std::string_view key) override { return store_->Get(key); }
  StatusOr<std::vector<KeyValue>> List(std::string_view prefix) override { return store_->List(prefix); }
  StatusOr<int64_t> Commit(const Txn& txn) override { return store_->Commit(txn); }
  StatusOr<int64_t> Revision() override { return store_->Revision(); }

 private:
  RealClock clock_;
  testing::EtcdProcess etcd_;
  std::unique_ptr<EtcdStore> store_;
};

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(dir_);
    if (store_ == nullptr) GTEST_SKIP() << "/usr/bin/etcd is missing (Debian: apt-get install etcd-server)";
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, PutGetListAndRevisions) {
  Store& s = *store_;
  EXPECT_EQ(s.Revision().value(), 0);
  EXPECT_EQ(s.Get("jobs/1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.Put("jobs/1", "a").value(), 1);
  EXPECT_EQ(s.Put("jobs/2", std::string("b\0c", 3)).value(), 2);  // values are bytes
  EXPECT_EQ(s.Put("nodes/1", "n").value(), 3);
  EXPECT_EQ(s.Put("jobs/1", "a2").value(), 4);
  const KeyValue one = s.Get("jobs/1").value();
  EXPECT_EQ(one.value, "a2");
  EXPECT_EQ(one.revision, 4);
  EXPECT_EQ(s.Get("jobs/2").value().value, std::string("b\0c", 3));
  const auto jobs = s.List("jobs/").value();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].key, "jobs/1");
  EXPECT_EQ(jobs[1].key, "jobs/2");
  EXPECT_EQ(jobs[1].revision, 2);
  EXPECT_EQ(s.List("").value().size(), 3u);
  EXPECT_TRUE(s.List("zzz").value().empty());
  EXPECT_EQ(s.Revision().value(), 4);
}

TEST_P(StoreConformance, ListIsByteOrderedAndPrefixExact) {
  Store& s = *store_;
  for (const char* k : {"a/b", "a/a", "a0", "a/\xff", "a/\xff\xff", "b"}) ASSERT_TRUE(s.Put(k, "v").ok());
  const auto a = s.List("a/").value();
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].key, "a/a");
  EXPECT_EQ(a[1].key, "a/b");
  EXPECT_EQ(a[2].key, "a/\xff");
  EXPECT_EQ(a[3].key, "a/\xff\xff");
  EXPECT_EQ(s.List("a/\xff").value().size(), 2u);
}

TEST_P(StoreConformance, TransactionsAreAllOrNothing) {
  Store& s = *store_;
  const int64_t r1 = s.Put("x", "1").value();
  Txn ok;
  ok.IfRevision("x", r1).IfAbsent("y").Put("x", "2").Put("y", "3");
  const int64_t r2 = s.Commit(ok).value();
  EXPECT_EQ(r2, r1 + 1);
  EXPECT_EQ(s.Get("x").value().revision, r2);
  EXPECT_EQ(s.Get("y").value().value, "3");
  // A stale condition: nothing written, revision unchanged, the key named.
  Txn stale;
  stale.IfRevision("x", r1).Put("x", "lost").Put("z", "lost");
  const auto failed = s.Commit(stale);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(failed.status().message()).find("'x'"), std::string::npos);
  EXPECT_EQ(s.Get("x").value().value, "2");
  EXPECT_EQ(s.Get("z").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.Revision().value(), r2);
  // IfAbsent on an existing key fails; deletes apply.
  Txn create;
  create.IfAbsent("y").Put("y", "again");
  EXPECT_FALSE(s.Commit(create).ok());
  Txn del;
  del.IfRevision("y", r2).Delete("y");
  EXPECT_TRUE(s.Commit(del).ok());
  EXPECT_EQ(s.Get("y").status().code(), absl::StatusCode::kNotFound);
  // Once deleted, "absent" holds again.
  EXPECT_TRUE(s.Commit(create).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreConformance,
    ::testing::Values(StoreFactory{"memory", [](const TempDir&) { return std::make_unique<MemoryStore>(); }},
                      StoreFactory{"sqlite",
                                   [](const TempDir& d) -> std::unique_ptr<Store> {
                                     return SqliteStore::Open(d.File("state.db")).value();
                                   }},
                      StoreFactory{"sqlite_group_commit",
                                   [](const TempDir& d) -> std::unique_ptr<Store> {
                                     return SqliteStore::Open(d.File("state.db"), {.group_commit = true}).value();
                                   }},
                      StoreFactory{"etcd",
                                   [](const TempDir& d) -> std::unique_ptr<Store> {
                                     if (!testing::EtcdProcess::Available()) return nullptr;
                                     auto s = std::make_unique<OwnEtcd>(d);
                                     EXPECT_TRUE(s->ok()) << "etcd did not become healthy";
                                     return s;
                                   }}),
    [](const auto& info) { return info.param.name; });

TEST(SqliteStore, SurvivesReopen) {
  TempDir dir;
  {
    auto s = SqliteStore::Open(dir.File("state.db")).value();
    ASSERT_TRUE(s->Put("k", "v").ok());
    ASSERT_TRUE(s->Put("k2", "v2").ok());
  }
  auto s = SqliteStore::Open(dir.File("state.db")).value();
  EXPECT_EQ(s->Get("k").value().value, "v");
  EXPECT_EQ(s->Revision().value(), 2);
  EXPECT_EQ(s->Put("k3", "v3").value(), 3);
}

TEST(SqliteStore, ErrorsNameThePath) {
  auto bad = SqliteStore::Open("/nonexistent-dir/x/state.db");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("/nonexistent-dir/x/state.db"), std::string::npos);
}

// Commits wait for no sync; one WaitDurable covers all made before it, and
// a later wait for one of them costs nothing.
TEST(SqliteStore, GroupCommitSharesOneSync) {
  TempDir dir;
  auto s = SqliteStore::Open(dir.File("state.db"), {.group_commit = true}).value();
  int64_t first = 0;
  for (int i = 0; i < 10; ++i) {
    const int64_t rev = s->Put(fmt::format("k{}", i), "v").value();
    if (i == 0) first = rev;
  }
  EXPECT_EQ(s->LastCommitted(), 10);
  EXPECT_EQ(s->syncs(), 0);
  EXPECT_FALSE(s->IsDurable(first));  // asking syncs nothing
  EXPECT_EQ(s->syncs(), 0);
  ASSERT_TRUE(s->WaitDurable(s->LastCommitted()).ok());
  EXPECT_EQ(s->syncs(), 1);
  EXPECT_TRUE(s->IsDurable(s->LastCommitted()));
  ASSERT_TRUE(s->WaitDurable(first).ok());
  EXPECT_EQ(s->syncs(), 1);
  ASSERT_TRUE(s->Put("k10", "v").ok());
  EXPECT_FALSE(s->IsDurable(s->LastCommitted()));
  ASSERT_TRUE(s->WaitDurable(s->LastCommitted()).ok());
  EXPECT_EQ(s->syncs(), 2);
}

// A batch: its commits get revisions one by one and read back at once,
// a failed condition undoes only its own commit, and none counts as
// committed (nothing can be acknowledged) until EndBatch. A batch never
// ended (the process died) leaves nothing behind.
TEST(SqliteStore, BatchesCommitTogetherOrNotAtAll) {
  TempDir dir;
  {
    auto s = SqliteStore::Open(dir.File("state.db"), {.group_commit = true}).value();
    ASSERT_TRUE(s->Put("before", "v").ok());
    ASSERT_TRUE(s->BeginBatch().ok());
    EXPECT_FALSE(s->BeginBatch().ok());  // not nested
    EXPECT_EQ(s->Put("a", "1").value(), 2);
    Txn stale;
    stale.IfRevision("a", 1).Put("a", "lost").Put("b", "lost");
    EXPECT_EQ(s->Commit(stale).status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s->Put("b", "2").value(), 3);
    EXPECT_EQ(s->Get("a").value().value, "1");  // read back inside the batch
    EXPECT_EQ(s->LastCommitted(), 1);           // nothing of it may be acknowledged yet
    ASSERT_TRUE(s->EndBatch().ok());
    EXPECT_FALSE(s->EndBatch().ok());
    EXPECT_EQ(s->LastCommitted(), 3);
    ASSERT_TRUE(s->BeginBatch().ok());
    ASSERT_TRUE(s->Put("c", "never").ok());  // and the process ends with the batch open
  }
  auto s = SqliteStore::Open(dir.File("state.db"), {.group_commit = true}).value();
  EXPECT_EQ(s->Get("a").value().value, "1");
  EXPECT_EQ(s->Get("b").value().value, "2");
  EXPECT_EQ(s->Get("c").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s->Revision().value(), 3);
}

// Reopened, what an earlier process committed is synced by the first wait
// (it may have been killed between its commit and its sync).
TEST(SqliteStore, GroupCommitSyncsWhatItFoundAtOpen) {
  TempDir dir;
  {
    auto s = SqliteStore::Open(dir.File("state.db"), {.group_commit = true}).value();
    ASSERT_TRUE(s->Put("k", "v").ok());
  }
  auto s = SqliteStore::Open(dir.File("state.db"), {.group_commit = true}).value();
  EXPECT_EQ(s->LastCommitted(), 1);
  ASSERT_TRUE(s->WaitDurable(s->LastCommitted()).ok());
  EXPECT_EQ(s->syncs(), 1);
}

// Writers commit under their owner's lock and wait for durability outside
// it, as the control plane does: every wait returns, covers its commit,
// and the syncs are never more than the commits.
TEST(SqliteStore, GroupCommitUnderConcurrentWriters) {
  TempDir dir;
  auto s = SqliteStore::Open(dir.File("state.db"), {.group_commit = true}).value();
  std::mutex owner;
  std::vector<std::thread> threads;
  std::atomic<int> uncovered{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int64_t rev;
        {
          std::lock_guard<std::mutex> lock(owner);
          rev = s->Put(fmt::format("t{}/{}", t, i), "v").value();
        }
        if (!s->WaitDurable(rev).ok()) ++uncovered;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(uncovered.load(), 0);
  EXPECT_EQ(s->LastCommitted(), 400);
  EXPECT_GE(s->syncs(), 1);
  EXPECT_LE(s->syncs(), 400);
}

// A child commits as fast as it can and reports each acknowledged commit
// down a pipe; the parent SIGKILLs it mid-stream. Every acknowledged commit
// must be there after reopening, and the store must still work.
// etcd batches: commits get batch revisions that read back inside the
// batch and stand for etcd's after it; a batch goes as few transactions
// as etcd's limit allows (each key once, with its last value); a
// condition another writer broke meanwhile fails EndBatch and loses that
// transaction; a commit over the limit is refused with the reason.
TEST(EtcdStore, BatchesGoAsFewTransactions) {
  if (!testing::EtcdProcess::Available()) GTEST_SKIP() << "/usr/bin/etcd is missing";
  TempDir dir;
  testing::EtcdProcess etcd(dir.File(""));
  ASSERT_TRUE(etcd.healthy());
  RealClock clock;
  auto s = EtcdStore::Open({etcd.endpoint()}, &clock, "t/", Duration::Seconds(5)).value();
  auto other = EtcdStore::Open({etcd.endpoint()}, &clock, "t/", Duration::Seconds(5)).value();
  const int64_t before = s->Put("before", "v").value();
  ASSERT_TRUE(s->Put("gone", "v").ok());

  ASSERT_TRUE(s->BeginBatch().ok());
  EXPECT_FALSE(s->BeginBatch().ok());  // not nested
  const int64_t a = s->Put("a", "1").value();
  EXPECT_GE(a, EtcdStore::kBatchRevisions);
  Txn stale;  // decided at once against the batch
  stale.IfRevision("a", before).Put("a", "lost").Put("b", "lost");
  EXPECT_EQ(s->Commit(stale).status().code(), absl::StatusCode::kFailedPrecondition);
  Txn next;
  next.IfRevision("a", a).IfRevision("before", before).Put("a", "2").Put("b", "2").Delete("gone");
  const int64_t a2 = s->Commit(next).value();
  EXPECT_EQ(s->Get("a").value().value, "2");  // read back inside the batch
  EXPECT_EQ(s->Get("a").value().revision, a2);
  EXPECT_EQ(s->Get("gone").status().code(), absl::StatusCode::kNotFound);
  std::vector<std::string> listed;
  const std::vector<KeyValue> all = s->List("").value();
  for (const KeyValue& kv : all) listed.push_back(kv.key);
  EXPECT_EQ(listed, (std::vector<std::string>{"a", "b", "before"}));
  EXPECT_EQ(other->Get("a").status().code(), absl::StatusCode::kNotFound);  // nothing sent yet
  ASSERT_TRUE(s->EndBatch().ok());
  EXPECT_FALSE(s->EndBatch().ok());
  const int64_t real = s->Revision().value();
  EXPECT_EQ(real, before + 2);  // one transaction
  EXPECT_EQ(other->Get("a").value().value, "2");
  EXPECT_EQ(other->Get("a").value().revision, real);
  EXPECT_EQ(other->Get("gone").status().code(), absl::StatusCode::kNotFound);
  // The batch revision a commit got stands for etcd's; an older one does not.
  Txn old;
  old.IfRevision("a", a).Put("a", "lost");
  EXPECT_EQ(s->Commit(old).status().code(), absl::StatusCode::kFailedPrecondition);
  Txn after;
  after.IfRevision("a", a2).IfRevision("b", real).Put("a", "3");
  ASSERT_TRUE(s->Commit(after).ok());
  EXPECT_EQ(s->Get("a").value().value, "3");

  // 300 commits of a key each and one key written by all: three
  // transactions of at most 128 keys.
  const int64_t start = s->Revision().value();
  ASSERT_TRUE(s->BeginBatch().ok());
  for (int i = 0; i < 300; ++i) {
    Txn t;
    t.IfAbsent(fmt::format("k/{:03}", i))
        .Put(fmt::format("k/{:03}", i), std::to_string(i))
        .Put("count", std::to_string(i));
    ASSERT_TRUE(s->Commit(t).ok()) << i;
  }
  ASSERT_TRUE(s->EndBatch().ok());
  EXPECT_EQ(s->Revision().value(), start + 3);
  EXPECT_EQ(other->List("k/").value().size(), 300u);
  EXPECT_EQ(other->Get("count").value().value, "299");

  // Another writer breaks a condition the batch sent to etcd.
  const int64_t x = s->Put("x", "1").value();
  ASSERT_TRUE(s->BeginBatch().ok());
  Txn on_x;
  on_x.IfRevision("x", x).Put("x", "mine").Put("y", "mine");
  ASSERT_TRUE(s->Commit(on_x).ok());
  ASSERT_TRUE(other->Put("x", "theirs").ok());
  const Status lost = s->EndBatch();
  EXPECT_EQ(lost.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(lost.message()).find("'x'"), std::string::npos) << lost;
  EXPECT_EQ(s->Get("x").value().value, "theirs");
  EXPECT_EQ(s->Get("y").status().code(), absl::StatusCode::kNotFound);

  Txn huge;
  for (size_t i = 0; i <= EtcdStore::kMaxTxnOps; ++i) huge.Put(fmt::format("h/{}", i), "v");
  const auto refused = s->Commit(huge);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(refused.status().message()).find("--max-txn-ops"), std::string::npos);
}

TEST(SqliteStore, KillNineLosesNoAcknowledgedCommit) {
  TempDir dir;
  const std::string path = dir.File("state.db");
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      // Round 1 commits as the server does: group commit, acknowledged
      // once WaitDurable returned.
      auto s = SqliteStore::Open(path, {.group_commit = round == 1});
      if (!s.ok()) _exit(2);
      for (int i = 0; i < 100000; ++i) {
        Txn t;
        t.IfAbsent(fmt::format("r{}/k{}", round, i)).Put(fmt::format("r{}/k{}", round, i), std::to_string(i));
        StatusOr<int64_t> rev = (*s)->Commit(t);
        if (!rev.ok()) _exit(3);
        if (!(*s)->WaitDurable(*rev).ok()) _exit(5);
        if (write(fds[1], &i, sizeof i) != sizeof i) _exit(4);
      }
      _exit(0);
    }
    close(fds[1]);
    int acked = -1, v;
    while (acked < 40 + 30 * round && read(fds[0], &v, sizeof v) == sizeof v) acked = v;
    kill(pid, SIGKILL);
    while (read(fds[0], &v, sizeof v) == sizeof v) acked = v;  // acks already in the pipe
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child ended by itself: " << status;
    auto s = SqliteStore::Open(path).value();
    for (int i = 0; i <= acked; ++i) {
      ASSERT_TRUE(s->Get(fmt::format("r{}/k{}", round, i)).ok()) << "lost acknowledged commit " << i;
    }
    EXPECT_TRUE(s->Put("after", std::to_string(round)).ok());
  }
}

}  // namespace
}  // namespace stargate::control
