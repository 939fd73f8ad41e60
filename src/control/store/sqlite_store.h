// File: sqlite_store.h
// Store in one SQLite file, journal_mode=WAL. Each Commit is one BEGIN
// IMMEDIATE transaction: the conditions are checked and the writes applied
// inside it, so concurrent processes on the same file (a second server by
// mistake) serialise instead of interleaving.
//
// Durability, two ways:
//   - plain (the default): synchronous=FULL, so the WAL is fsynced before
//     Commit returns; one fsync per commit.
//   - group commit (`stargate server`): synchronous=NORMAL, so Commit only
//     writes the WAL (into the page cache: a killed process loses nothing,
//     a power cut could), and WaitDurable fdatasyncs the WAL file itself,
//     outside the owner's lock, for every commit made up to then: the
//     same call SQLite makes at commit under FULL, shared by every commit
//     that arrived while the previous sync ran. SQLite still syncs the WAL
//     before each checkpoint and the database after it (NORMAL does), so a
//     WAL restart never drops a frame a sync covered.
// Not thread-safe (but for LastCommitted and WaitDurable), like every
// Store (store.h): one owner per process.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "control/store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace stargate::control {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` (":memory:" for a private
  // in-memory one). Errors name the path.
  struct Options {
    // See above; off: every Commit is durable when it returns.
    bool group_commit = false;
  };
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path, Options options);
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path) { return Open(path, Options{}); }
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  StatusOr<KeyValue> Get(std::string_view key) override;
  StatusOr<std::vector<KeyValue>> List(std::string_view prefix) override;
  StatusOr<int64_t> Commit(const Txn& txn) override;
  StatusOr<int64_t> Revision() override;
  Status BeginBatch() override;
  Status EndBatch() override;
  int64_t LastCommitted() const override { return written_.load(std::memory_order_acquire); }
  Status WaitDurable(int64_t revision) override;
  bool IsDurable(int64_t revision) const override;

  // fdatasyncs made by WaitDurable so far (a benchmark's count).
  int64_t syncs() const { return syncs_.load(); }

 private:
  SqliteStore(sqlite3* db, std::string path, bool group_commit)
      : db_(db), path_(std::move(path)), group_commit_(group_commit) {}
  Status Exec(const char* sql);
  // One statement without results, through the statement cache.
  Status Run(const char* sql);
  Status Error(std::string_view what) const;
  // fdatasync of the WAL file (the database file when there is none).
  Status SyncFiles() const;

  sqlite3* db_;
  // Statements prepared once (by SQL text) and reset after each use:
  // parsing SQL cost as much as the writes it did (100k-node runs).
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  friend class CachedStmt;
  std::string path_;
  const bool group_commit_;
  std::atomic<int64_t> written_{0};  // the last revision committed (to the WAL)
  bool in_batch_ = false;
  bool batch_broken_ = false;   // SQLite rolled the whole batch back (a full disk, an I/O error)
  int64_t batch_revision_ = 0;  // the last commit of the open batch
  std::atomic<int64_t> syncs_{0};
  mutable std::mutex sync_mu_;
  std::condition_variable synced_;
  int64_t durable_ = 0;   // guarded by sync_mu_: every commit up to it is on disk
  bool syncing_ = false;  // guarded by sync_mu_: a WaitDurable is in fdatasync
};

}  // namespace stargate::control
