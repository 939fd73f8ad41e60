#include "control/store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace stargate::control {

// A statement from the store's cache (prepared the first time), reset and
// its bindings cleared on scope exit.
class CachedStmt {
 public:
  CachedStmt(SqliteStore* store, const char* sql) {
    auto [it, added] = store->statements_.try_emplace(sql, nullptr);
    if (added) {
      rc_ = sqlite3_prepare_v3(store->db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second, nullptr);
      if (rc_ != SQLITE_OK) {
        sqlite3_finalize(it->second);
        store->statements_.erase(it);
        return;
      }
    }
    stmt_ = it->second;
    rc_ = SQLITE_OK;
  }
  ~CachedStmt() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  CachedStmt(const CachedStmt&) = delete;
  CachedStmt& operator=(const CachedStmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return stmt_; }
  void Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

namespace {

// The smallest string greater than every string starting with `prefix`
// (empty = no upper bound), for a range scan on the primary key.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) != 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, Options options) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(fmt::format("cannot open store {}: {}", path, msg));
  }
  // A private in-memory database has no file to sync.
  const bool group_commit = options.group_commit && path != ":memory:" && !path.empty();
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, group_commit));
  sqlite3_busy_timeout(db, 5000);  // another process mid-commit: wait, do not fail
  SG_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  SG_RETURN_IF_ERROR(store->Exec(group_commit ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL"));
  SG_RETURN_IF_ERROR(store->Exec(
      "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL, revision INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
      "INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0);"));
  // What an earlier process committed may not be on disk yet (it was
  // killed between a commit and its sync): the first WaitDurable syncs it.
  SG_ASSIGN_OR_RETURN(const int64_t revision, store->Revision());
  store->written_.store(revision);
  return store;
}

SqliteStore::~SqliteStore() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status SqliteStore::Error(std::string_view what) const {
  return absl::InternalError(fmt::format("store {}: {}: {}", path_, what, sqlite3_errmsg(db_)));
}

Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return absl::InternalError(fmt::format("store {}: {}", path_, msg));
  }
  return Status();
}

Status SqliteStore::Run(const char* sql) {
  CachedStmt s(this, sql);
  if (!s.ok() || s.Step() != SQLITE_DONE) return Error(sql);
  return Status();
}

StatusOr<KeyValue> SqliteStore::Get(std::string_view key) {
  CachedStmt s(this, "SELECT value, revision FROM kv WHERE key = ?1");
  if (!s.ok()) return Error("get");
  s.BindBlob(1, key);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError(fmt::format("no key '{}'", key));
  if (rc != SQLITE_ROW) return Error("get");
  return KeyValue{std::string(key), s.Text(0), s.Int(1)};
}

StatusOr<std::vector<KeyValue>> SqliteStore::List(std::string_view prefix) {
  const std::string end = PrefixEnd(prefix);
  CachedStmt s(this, end.empty() ? "SELECT key, value, revision FROM kv WHERE key >= ?1 ORDER BY key"
                                 : "SELECT key, value, revision FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key");
  if (!s.ok()) return Error("list");
  s.BindBlob(1, prefix);
  if (!end.empty()) s.BindBlob(2, end);
  std::vector<KeyValue> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(KeyValue{s.Text(0), s.Text(1), s.Int(2)});
  if (rc != SQLITE_DONE) return Error("list");
  return out;
}

StatusOr<int64_t> SqliteStore::Revision() {
  CachedStmt s(this, "SELECT value FROM meta WHERE name = 'revision'");
  if (!s.ok() || s.Step() != SQLITE_ROW) return Error("revision");
  return s.Int(0);
}

StatusOr<int64_t> SqliteStore::Commit(const Txn& txn) {
  // A batch SQLite gave up on: nothing more may go in, or a savepoint
  // would open a transaction of its own and commit outside the batch.
  if (batch_broken_) return absl::AbortedError(fmt::format("store {}: the batch was rolled back", path_));
  // In a batch, a savepoint makes this commit all or nothing on its own.
  SG_RETURN_IF_ERROR(Run(in_batch_ ? "SAVEPOINT txn" : "BEGIN IMMEDIATE"));
  auto rollback = [&](Status st) {
    if (in_batch_) {
      // Some errors (SQLITE_FULL, IOERR, NOMEM) end the whole transaction.
      if (sqlite3_get_autocommit(db_) != 0) {
        batch_broken_ = true;
        return st;
      }
      Run("ROLLBACK TO txn").IgnoreError();
      Run("RELEASE txn").IgnoreError();
    } else {
      Run("ROLLBACK").IgnoreError();
    }
    return st;
  };
  for (const Txn::Condition& c : txn.conditions) {
    CachedStmt s(this, "SELECT revision FROM kv WHERE key = ?1");
    if (!s.ok()) return rollback(Error("commit"));
    s.BindBlob(1, c.key);
    const int rc = s.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rollback(Error("commit"));
    const int64_t have = rc == SQLITE_ROW ? s.Int(0) : 0;
    if (have != c.revision) {
      return rollback(
          absl::FailedPreconditionError(fmt::format("key '{}' is at revision {}, not {}", c.key, have, c.revision)));
    }
  }
  StatusOr<int64_t> current = Revision();
  if (!current.ok()) return rollback(current.status());
  const int64_t revision = *current + 1;
  for (const Txn::Write& w : txn.writes) {
    if (w.value.has_value()) {
      CachedStmt s(this,
                   "INSERT INTO kv (key, value, revision) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value, revision = excluded.revision");
      if (!s.ok()) return rollback(Error("commit"));
      s.BindBlob(1, w.key);
      s.BindBlob(2, *w.value);
      s.Bind(3, revision);
      if (s.Step() != SQLITE_DONE) return rollback(Error("commit"));
    } else {
      CachedStmt s(this, "DELETE FROM kv WHERE key = ?1");
      if (!s.ok()) return rollback(Error("commit"));
      s.BindBlob(1, w.key);
      if (s.Step() != SQLITE_DONE) return rollback(Error("commit"));
    }
  }
  CachedStmt bump(this, "UPDATE meta SET value = ?1 WHERE name = 'revision'");
  if (!bump.ok()) return rollback(Error("commit"));
  bump.Bind(1, revision);
  if (bump.Step() != SQLITE_DONE) return rollback(Error("commit"));
  if (in_batch_) {
    if (Status st = Run("RELEASE txn"); !st.ok()) return rollback(st);
    batch_revision_ = revision;
    return revision;
  }
  if (Status st = Run("COMMIT"); !st.ok()) return rollback(st);
  written_.store(revision, std::memory_order_release);
  return revision;
}

Status SqliteStore::BeginBatch() {
  if (in_batch_) return absl::FailedPreconditionError(fmt::format("store {}: a batch is already open", path_));
  SG_RETURN_IF_ERROR(Run("BEGIN IMMEDIATE"));
  in_batch_ = true;
  batch_revision_ = 0;
  return Status();
}

Status SqliteStore::EndBatch() {
  if (!in_batch_) return absl::FailedPreconditionError(fmt::format("store {}: no batch is open", path_));
  in_batch_ = false;
  if (std::exchange(batch_broken_, false)) {
    return absl::AbortedError(fmt::format("store {}: the batch was rolled back", path_));
  }
  if (Status st = Run("COMMIT"); !st.ok()) {
    Run("ROLLBACK").IgnoreError();
    return st;
  }
  if (batch_revision_ > 0) written_.store(batch_revision_, std::memory_order_release);
  return Status();
}

Status SqliteStore::SyncFiles() const {
  for (const std::string& file : {path_ + "-wal", path_}) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && file != path_) continue;  // no WAL (yet, or truncated): the database holds it all
      return absl::InternalError(fmt::format("store {}: cannot open {} to sync it: {}", path_, file, strerror(errno)));
    }
    const int rc = ::fdatasync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return absl::InternalError(fmt::format("store {}: fdatasync {}: {}", path_, file, strerror(err)));
    return Status();
  }
  return Status();
}

bool SqliteStore::IsDurable(int64_t revision) const {
  if (!group_commit_) return true;
  std::lock_guard<std::mutex> lock(sync_mu_);
  return durable_ >= revision;
}

Status SqliteStore::WaitDurable(int64_t revision) {
  if (!group_commit_) return Status();
  std::unique_lock<std::mutex> lock(sync_mu_);
  while (durable_ < revision) {
    if (syncing_) {  // one sync at a time; the next one covers this caller's commit too
      synced_.wait(lock);
      continue;
    }
    syncing_ = true;
    // Every commit up to `target` has written its WAL frames (written_ is
    // stored after SQLite's COMMIT returned), so one fdatasync covers them all.
    const int64_t target = written_.load(std::memory_order_acquire);
    lock.unlock();
    const Status st = SyncFiles();
    ++syncs_;
    lock.lock();
    syncing_ = false;
    if (st.ok()) durable_ = std::max(durable_, target);
    synced_.notify_all();
    if (!st.ok()) return st;
  }
  return Status();
}

}  // namespace stargate::control
