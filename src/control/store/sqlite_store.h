// File: sqlite_store.h
// Store in one SQLite file: journal_mode=WAL and synchronous=FULL, so a
// commit has reached the disk (the WAL is fsynced) before Commit returns,
// and a process killed at any point loses no acknowledged commit. Each
// Commit is one BEGIN IMMEDIATE transaction: the conditions are checked
// and the writes applied inside it, so concurrent processes on the same
// file (a second server by mistake) serialise instead of interleaving.
// Not thread-safe, like every Store (store.h): one owner per process.
#pragma once

#include <memory>
#include <string>

#include "control/store/store.h"

struct sqlite3;

namespace stargate::control {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` (":memory:" for a private
  // in-memory one). Errors name the path.
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  StatusOr<KeyValue> Get(std::string_view key) override;
  StatusOr<std::vector<KeyValue>> List(std::string_view prefix) override;
  StatusOr<int64_t> Commit(const Txn& txn) override;
  StatusOr<int64_t> Revision() override;

 private:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const char* sql);
  Status Error(std::string_view what) const;

  sqlite3* db_;
  std::string path_;
};

}  // namespace stargate::control
