// Jobs in the store: ids, exactly-once submission per idempotency key,
// cancel, bad specs, and durability across a reopened SQLite store.
#include "control/server/job_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "control/store/memory_store.h"
#include "control/store/sqlite_store.h"
#include "core/job_file_parser.h"
#include "forwarding_store.h"
#include "runtime/manual_clock.h"

namespace stargate::control {
namespace {

constexpr char kSpec[] = "name: hello\nresources: {accelerators: H100:8, nodes: 2}\nrun: echo hi\n";

// Every submit happens at the same instant.
const ManualClock kClock(Time::FromMillis(1'700'000'000'000));

TEST(JobRegistry, SubmitsWithIncreasingIdsAndReadsBack) {
  MemoryStore store;
  JobRegistry jobs(&store, &kClock);
  bool created = false;
  const JobRecord a = jobs.Submit(kSpec, "a.yaml", "", &created).value();
  EXPECT_TRUE(created);
  const JobRecord b = jobs.Submit(kSpec, "b.yaml", "").value();
  EXPECT_EQ(a.id, 1u);
  EXPECT_EQ(b.id, 2u);
  const JobRecord got = jobs.Get(1).value();
  EXPECT_EQ(got.state, JobState::kPending);
  EXPECT_EQ(got.spec.spec.accelerator_count, 16);
  EXPECT_EQ(got.spec_text, kSpec);
  EXPECT_EQ(got.filename, "a.yaml");
  EXPECT_EQ(got.submitted, kClock.Now());
  EXPECT_EQ(jobs.List().value().size(), 2u);
  EXPECT_EQ(jobs.Get(9).status().code(), absl::StatusCode::kNotFound);
}

TEST(JobRegistry, AnIdempotencyKeyCreatesAtMostOneJob) {
  MemoryStore store;
  JobRegistry jobs(&store, &kClock);
  bool created = false;
  const JobRecord first = jobs.Submit(kSpec, "a.yaml", "client-1/0001", &created).value();
  EXPECT_TRUE(created);
  const JobRecord again = jobs.Submit(kSpec, "a.yaml", "client-1/0001", &created).value();
  EXPECT_FALSE(created);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(jobs.List().value().size(), 1u);
  EXPECT_EQ(jobs.Submit(kSpec, "a.yaml", "client-1/0002").value().id, first.id + 1);
}

TEST(JobRegistry, BadSpecsAreRejectedWithTheirPositionAndStoreNothing) {
  MemoryStore store;
  JobRegistry jobs(&store, &kClock);
  auto bad = jobs.Submit("name: x\nrun: y\nresources: {nodes: -1}\n", "bad.yaml", "k");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.status().message()).rfind("bad.yaml:3:20: resources.nodes:", 0), 0u) << bad.status();
  EXPECT_EQ(store.Revision().value(), 0);
}

TEST(JobRegistry, CancelIsFinalAndIdempotent) {
  MemoryStore store;
  JobRegistry jobs(&store, &kClock);
  const uint64_t id = jobs.Submit(kSpec, "a.yaml", "").value().id;
  const JobRecord c = jobs.Cancel(id, "by user").value();
  EXPECT_EQ(c.state, JobState::kCancelled);
  EXPECT_EQ(c.reason, "by user");
  EXPECT_EQ(jobs.Cancel(id, "again").value().reason, "by user");
  EXPECT_EQ(jobs.Cancel(77, "x").status().code(), absl::StatusCode::kNotFound);
}

TEST(JobRegistry, TwoRegistriesOnOneStoreNeverShareAnId) {
  MemoryStore store;
  JobRegistry a(&store, &kClock), b(&store, &kClock);
  std::set<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    ids.insert(a.Submit(kSpec, "a.yaml", "").value().id);
    ids.insert(b.Submit(kSpec, "b.yaml", "").value().id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(JobRegistry, IndexesFollowEveryWrite) {
  MemoryStore store;
  JobRegistry jobs(&store, &kClock);
  JobRecord a = jobs.Submit(kSpec, "a.yaml", "").value();
  const uint64_t b = jobs.Submit(kSpec, "b.yaml", "").value().id;
  a.state = JobState::kRunning;
  a.nodes = {"n1", "n2"};
  a.exits = {JobRecord::kRunningExit, JobRecord::kRunningExit};
  a = jobs.Update(a).value();
  EXPECT_EQ(jobs.RunningOn("n2").value(), (std::vector<uint64_t>{a.id}));
  a.nodes = {"n3"};  // moved
  a.exits = {JobRecord::kRunningExit};
  a = jobs.Update(a).value();
  EXPECT_TRUE(jobs.RunningOn("n2").value().empty());
  EXPECT_EQ(jobs.RunningOn("n3").value(), (std::vector<uint64_t>{a.id}));
  // Failed while its rank still runs: it holds n3 until the rank exits.
  a.state = JobState::kFailed;
  a = jobs.Update(a).value();
  EXPECT_EQ(jobs.RunningOn("n3").value(), (std::vector<uint64_t>{a.id}));
  EXPECT_EQ(jobs.ListEndedButRunning().value().size(), 1u);
  a.exits = {143};
  a = jobs.Update(a).value();
  EXPECT_TRUE(jobs.RunningOn("n3").value().empty());
  EXPECT_TRUE(jobs.ListEndedButRunning().value().empty());
  ASSERT_EQ(jobs.ListLive().value().size(), 1u);
  EXPECT_EQ(jobs.ListLive().value()[0].id, b);
  // A stale copy loses its compare-and-swap and changes nothing.
  JobRecord stale = jobs.Get(b).value();
  ASSERT_TRUE(jobs.Cancel(b, "x").ok());
  stale.state = JobState::kRunning;
  EXPECT_EQ(jobs.Update(stale).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(jobs.Get(b).value().state, JobState::kCancelled);
  // A second registry on the same store reads it all back.
  JobRegistry fresh(&store, &kClock);
  EXPECT_EQ(fresh.List().value().size(), 2u);
  EXPECT_TRUE(fresh.ListLive().value().empty());
}

// A store whose next commit is applied but whose answer is lost, as when
// etcd elects a new leader while a submission is in flight.
class LostReplyStore final : public ForwardingStore {
 public:
  StatusOr<int64_t> Commit(const Txn& txn) override {
    StatusOr<int64_t> rev = inner_.Commit(txn);
    if (!lose_next_) return rev;
    lose_next_ = false;
    return absl::UnavailableError("etcd unreachable for 10 s");
  }
  void LoseNextReply() { lose_next_ = true; }

 private:
  bool lose_next_ = false;
};

// The client retries with its key and gets the job the lost commit made;
// the registry (and so the control loop) knows it from then on.
TEST(JobRegistry, ARetryFindsTheJobWhoseCommitAnswerWasLost) {
  LostReplyStore store;
  JobRegistry jobs(&store, &kClock);
  ASSERT_TRUE(jobs.Submit(kSpec, "a.yaml", "k0").ok());
  store.LoseNextReply();
  EXPECT_EQ(jobs.Submit(kSpec, "a.yaml", "k1").status().code(), absl::StatusCode::kUnavailable);
  bool created = true;
  const StatusOr<JobRecord> again = jobs.Submit(kSpec, "a.yaml", "k1", &created);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(created);
  EXPECT_EQ(again->id, 2u);
  EXPECT_EQ(jobs.ListLive().value().size(), 2u);
  EXPECT_EQ(jobs.Submit(kSpec, "a.yaml", "k2").value().id, 3u);
}

TEST(JobRegistry, JobsSurviveAReopenedSqliteStore) {
  const std::string dir = "/tmp/stargate-registry-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  {
    auto store = SqliteStore::Open(dir + "/state.db").value();
    JobRegistry jobs(store.get(), &kClock);
    ASSERT_TRUE(jobs.Submit(kSpec, "a.yaml", "k1").ok());
    ASSERT_TRUE(jobs.Submit(kSpec, "b.yaml", "k2").ok());
  }
  auto store = SqliteStore::Open(dir + "/state.db").value();
  JobRegistry jobs(store.get(), &kClock);
  EXPECT_EQ(jobs.List().value().size(), 2u);
  EXPECT_EQ(jobs.Submit(kSpec, "a.yaml", "k1").value().id, 1u);  // still known after the restart
  EXPECT_EQ(jobs.Submit(kSpec, "c.yaml", "k3").value().id, 3u);
  std::filesystem::remove_all(dir);
}

// An array's elements read back whole after a restart (their index, the
// array's indices from --array, not the file), and a retry with its key
// finds every element.
TEST(JobRegistry, ArraysSurviveAReopenedStore) {
  const std::string dir = "/tmp/stargate-registry-array-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  {
    auto store = SqliteStore::Open(dir + "/state.db", {.group_commit = true}).value();
    JobRegistry jobs(store.get(), &kClock);
    std::vector<JobRegistry::NewJob> batch;
    JobFile spec = ParseJobFile(kSpec, "a.yaml").value();
    spec.array = JobArray::Parse("10-14").value();
    batch.push_back({spec, kSpec, "a.yaml", "arr"});
    batch.push_back({ParseJobFile(kSpec, "b.yaml").value(), kSpec, "b.yaml", ""});
    const auto made = jobs.SubmitMany(batch).value();
    ASSERT_EQ(made[0].jobs.size(), 5u);
    EXPECT_EQ(made[1].jobs.front().id, 6u);
    ASSERT_TRUE(store->WaitDurable(store->LastCommitted()).ok());
  }
  auto store = SqliteStore::Open(dir + "/state.db").value();
  JobRegistry jobs(store.get(), &kClock);
  const std::vector<JobRecord> array = jobs.Array(1).value();
  ASSERT_EQ(array.size(), 5u);
  EXPECT_EQ(array[3].id, 4u);
  EXPECT_EQ(array[3].array_id, 1u);
  EXPECT_EQ(array[3].array_index, 13u);
  EXPECT_EQ(array[3].spec.array.text(), "10-14");
  EXPECT_EQ(jobs.Get(6).value().array_id, 0u);
  EXPECT_EQ(jobs.Array(6).status().code(), absl::StatusCode::kNotFound);
  JobFile spec = ParseJobFile(kSpec, "a.yaml").value();
  spec.array = JobArray::Parse("10-14").value();
  const auto again = jobs.SubmitMany({{spec, kSpec, "a.yaml", "arr"}}).value();
  EXPECT_FALSE(again[0].created);
  EXPECT_EQ(again[0].jobs.size(), 5u);
  spec.array = JobArray::Parse("10-15").value();  // the same key, another array: a conflict
  EXPECT_EQ(jobs.SubmitMany({{spec, kSpec, "a.yaml", "arr"}}).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(jobs.Cancel(2, "one").ok());
  EXPECT_EQ(jobs.CancelArray(1, "all").value().size(), 4u);  // the rest
  EXPECT_EQ(jobs.CancelArray(1, "again").value().size(), 0u);
  EXPECT_EQ(jobs.Get(6).value().state, JobState::kPending);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace stargate::control

namespace stargate::control {
namespace {

// A store that takes at most 16 operations a commit, as etcd takes 128,
// and fails every commit from the `fail_from`-th on (a server dying part
// way through).
class SmallCommitStore final : public ForwardingStore {
 public:
  SmallCommitStore() : ForwardingStore(16) {}
  StatusOr<int64_t> Commit(const Txn& txn) override {
    ++commits_;
    if (fail_from_ > 0 && commits_ >= fail_from_) return absl::UnavailableError("the store went away");
    return inner_.Commit(txn);
  }
  void FailFrom(int n) { fail_from_ = commits_ + n; }
  void Heal() { fail_from_ = 0; }
  int commits() const { return commits_; }

 private:
  int commits_ = 0;
  int fail_from_ = 0;
};

JobRegistry::NewJob ArrayOf(const std::string& range, const std::string& key) {
  JobFile spec = ParseJobFile(kSpec, "a.yaml").value();
  spec.array = JobArray::Parse(range).value();
  return {spec, kSpec, "a.yaml", key};
}

// An array larger than one commit is stored in several, whole, with each
// record at the revision its key has: later compare-and-swaps on them work.
TEST(JobRegistry, AnArrayLargerThanACommitIsStoredWhole) {
  SmallCommitStore store;
  JobRegistry jobs(&store, &kClock);
  const int before = store.commits();
  const auto made = jobs.SubmitMany({ArrayOf("0-99", "big")}).value();
  ASSERT_EQ(made[0].jobs.size(), 100u);
  EXPECT_GE(store.commits() - before, 100 / 14 + 2);  // the reservation, the writes, the marker's removal
  EXPECT_TRUE(store.List("submitting/").value().empty());
  for (const JobRecord& r : made[0].jobs) {
    EXPECT_EQ(store.Get(JobRegistry::Key(r.id)).value().revision, r.revision) << r.id;
  }
  EXPECT_EQ(jobs.Submit(kSpec, "b.yaml", "").value().id, 101u);
  // The whole array cancels, in commits the store takes.
  EXPECT_EQ(jobs.CancelArray(1, "all").value().size(), 100u);
  JobRegistry fresh(&store, &kClock);
  const std::vector<JobRecord> array = fresh.Array(1).value();
  EXPECT_EQ(array.size(), 100u);
  for (const JobRecord& r : array) EXPECT_EQ(r.state, JobState::kCancelled);
  // The key finds the array again.
  EXPECT_EQ(fresh.SubmitMany({ArrayOf("0-99", "big")}).value()[0].jobs.size(), 100u);
}

// A server that dies part way leaves a marker; whoever loads the registry
// next removes what it names. The client was never told: no job of it is
// seen, its key is free, and the next submission works.
TEST(JobRegistry, AnArrayCutShortIsUndoneWhenTheRegistryLoads) {
  SmallCommitStore store;
  {
    JobRegistry jobs(&store, &kClock);
    ASSERT_TRUE(jobs.Submit(kSpec, "a.yaml", "").ok());
    store.FailFrom(4);  // the reservation and two parts of the writes get in
    EXPECT_EQ(jobs.SubmitMany({ArrayOf("0-99", "cut")}).status().code(), absl::StatusCode::kUnavailable);
  }
  store.Heal();
  ASSERT_EQ(store.List("submitting/").value().size(), 1u);
  EXPECT_GT(store.List("jobs/").value().size(), 1u);
  JobRegistry next(&store, &kClock);
  const std::vector<JobRecord> all = next.List().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, 1u);
  EXPECT_TRUE(store.List("submitting/").value().empty());
  EXPECT_TRUE(store.List("idempotency/").value().empty());
  const auto again = next.SubmitMany({ArrayOf("0-99", "cut")}).value();
  ASSERT_EQ(again[0].jobs.size(), 100u);
  EXPECT_TRUE(again[0].created);
  EXPECT_EQ(again[0].jobs.front().id, 102u);  // ids are never reused
}

// A part that loses a compare-and-swap undoes at once what was written,
// and the submission is tried again past the ids it had reserved.
TEST(JobRegistry, APartThatLosesARaceIsUndoneAndTriedAgain) {
  SmallCommitStore store;
  JobRegistry jobs(&store, &kClock);
  // Job 20 exists already (another writer): the part that writes it fails.
  ASSERT_TRUE(store.Commit(Txn().Put(JobRegistry::Key(20), "{}")).ok());
  const auto made = jobs.SubmitMany({ArrayOf("0-99", "x")}).value();
  EXPECT_EQ(made[0].jobs.front().id, 101u);
  EXPECT_TRUE(store.List("submitting/").value().empty());
  const std::vector<KeyValue> keys = store.List("jobs/").value();
  ASSERT_EQ(keys.size(), 101u);  // the stray one and the array
  EXPECT_EQ(keys[0].key, JobRegistry::Key(20));
  EXPECT_EQ(keys[1].key, JobRegistry::Key(101));
}

}  // namespace
}  // namespace stargate::control
