// File: store.h
// The control plane's state: a small transactional key-value store with
// revisions, modelled on etcd v3 so SQLite, etcd and memory behave alike:
// every commit bumps one store-wide revision, each key carries
// the revision that last wrote it, and a transaction applies its writes
// only if all its conditions on those revisions hold (compare-and-swap).
//
// Implementations: SqliteStore (sqlite_store.h; WAL, fsync on commit, the
// default in a server's data dir), EtcdStore (etcd_store.h; an etcd 3.4
// cluster, `stargate server --etcd`) and MemoryStore (memory_store.h; tests
// and throwaway servers). All pass the same conformance suite
// (tests/unit/control/store/store_test.cc). Not thread-safe (but for
// LastCommitted and WaitDurable): the server owns one and its control plane
// serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stargate::control {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t revision = 0;  // the commit that last wrote it
};

struct Txn {
  // Holds when `key` was last written at `revision`; revision 0 = the key
  // must not exist.
  struct Condition {
    std::string key;
    int64_t revision = 0;
  };
  // Writes `value` to `key`, or deletes `key` when `value` is nullopt.
  struct Write {
    std::string key;
    std::optional<std::string> value;
  };
  std::vector<Condition> conditions;
  std::vector<Write> writes;

  Txn& IfRevision(std::string key, int64_t revision);
  Txn& IfAbsent(std::string key) { return IfRevision(std::move(key), 0); }
  Txn& Put(std::string key, std::string value);
  Txn& Delete(std::string key);
};

class Store {
 public:
  virtual ~Store() = default;

  // NotFound when the key does not exist.
  virtual StatusOr<KeyValue> Get(std::string_view key) = 0;
  // Every key starting with `prefix`, in byte order of the keys.
  virtual StatusOr<std::vector<KeyValue>> List(std::string_view prefix) = 0;
  // Applies `txn` atomically and durably and returns the new store
  // revision; FailedPrecondition (naming the key) when a condition fails,
  // in which case nothing is written.
  virtual StatusOr<int64_t> Commit(const Txn& txn) = 0;
  // The revision of the last commit (0 for a new store).
  virtual StatusOr<int64_t> Revision() = 0;

  // ---- Group commit. A store may return from Commit before the commit is
  // on disk (SqliteStore opened with group_commit: the WAL is written,
  // not yet fsynced), so that the commits made while one fsync runs share
  // the next one instead of each paying its own. Whoever answers a client
  // (an API reply, a heartbeat's reply) calls WaitDurable(LastCommitted())
  // first, so "acknowledged means durable" still holds: nothing a caller
  // was told can be lost by a crash, only what nobody was told yet.
  // Unlike the rest of Store these two are thread-safe, and WaitDurable is
  // meant to be called without the owner's lock: commits go on while a
  // sync waits on the disk. A store whose commits are durable when Commit
  // returns (etcd, memory, SQLite without group commit) returns at once.
  //
  // The last revision Commit returned (0 before the first).
  virtual int64_t LastCommitted() const { return 0; }
  // Returns once every commit up to `revision` is durable; an error when
  // the disk refused (then nothing since the last good sync is known to
  // be durable, and the caller must not acknowledge it).
  virtual Status WaitDurable(int64_t revision) { return Status(); }
  // Whether WaitDurable(revision) would return at once (thread-safe,
  // never waits): a server thread that must not block asks first.
  virtual bool IsDurable(int64_t revision) const { return true; }

  // ---- Batches. The commits between BeginBatch and EndBatch share one
  // transaction of the underlying database (one write of its log instead
  // of one per commit): each is still all or nothing on its own and gets
  // its own revision, but none counts in LastCommitted, so none can be
  // acknowledged, until EndBatch has committed them all. If EndBatch fails
  // the batch's commits are lost (all of them; in EtcdStore those from
  // the refused transaction on), and the caller must drop whatever it
  // kept in memory of them (and read the store again). Not nested; not
  // thread-safe (the owner's lock covers the whole batch). A store
  // without batches commits each as it comes (memory). EtcdStore sends a
  // batch as few etcd transactions, and its commits get revisions that
  // stand for etcd's (etcd_store.h): a revision is only ever compared for
  // equality, in a condition on the key it came with.
  virtual Status BeginBatch() { return Status(); }
  virtual Status EndBatch() { return Status(); }

  // The most operations one commit may hold: Commit refuses a
  // transaction with more writes, or more conditions plus one, as
  // InvalidArgument (etcd's --max-txn-ops; unlimited elsewhere). Whoever
  // stores more at once splits it (JobRegistry: a large job array).
  virtual size_t MaxOpsPerCommit() const { return SIZE_MAX; }

  // Unconditional single write.
  StatusOr<int64_t> Put(std::string key, std::string value);
};

}  // namespace stargate::control
