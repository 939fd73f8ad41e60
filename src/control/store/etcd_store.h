// File: etcd_store.h
// Store on an etcd 3.4 cluster, through its v3 JSON gateway (/v3/kv/...),
// for a control plane that outlives one machine. Every key lives
// under `prefix` so a cluster can be shared. Revisions are etcd's, less
// one (etcd counts its empty state as revision 1), so a fresh cluster
// starts at 0 as the other stores do; a condition on revision r compares
// the key's mod_revision with r + 1, and "absent" its create_revision
// with 0. A commit is one etcd transaction: atomic, and durable once a
// quorum has it on disk.
//
// A batch (Store::BeginBatch) is sent at EndBatch as few etcd
// transactions as etcd's --max-txn-ops allows (kMaxTxnOps keys written
// and conditions each; a commit is never split), instead of one round
// trip and one raft entry per commit. etcd gives a transaction one
// revision, so a commit in a batch is given a batch revision instead
// (from kBatchRevisions up, never an etcd one): use it, as any revision,
// only in conditions on the keys it wrote, where the store reads it as
// the etcd revision those keys got. Its conditions on keys the batch
// wrote earlier are decided at once; the others travel with the batch,
// and if one fails at EndBatch that transaction and those after it are
// lost (the ones before it are committed): the caller reads the store
// again, as after any failed EndBatch. With several endpoints a request that cannot
// reach one (or that meets an election) goes to the next, for up to
// `retry_for`. Not thread-safe, like every Store.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/store/store.h"
#include "core/clock.h"
#include "core/units.h"

namespace stargate::control {

class EtcdStore final : public Store {
 public:
  // `endpoints`: "host:port" of the members' client URLs (http).
  // InvalidArgument for a malformed endpoint; nothing is contacted yet.
  // `clock` paces retries and must outlive the store.
  static StatusOr<std::unique_ptr<EtcdStore>> Open(std::vector<std::string> endpoints, Clock* clock,
                                                   std::string prefix = "stargate/",
                                                   Duration retry_for = Duration::Seconds(10));
  ~EtcdStore() override;

  StatusOr<KeyValue> Get(std::string_view key) override;
  StatusOr<std::vector<KeyValue>> List(std::string_view prefix) override;
  StatusOr<int64_t> Commit(const Txn& txn) override;
  StatusOr<int64_t> Revision() override;
  Status BeginBatch() override;
  Status EndBatch() override;
  size_t MaxOpsPerCommit() const override;

  static constexpr int64_t kBatchRevisions = int64_t{1} << 62;
  static constexpr size_t kMaxTxnOps = 128;  // etcd 3.4's default --max-txn-ops

  // etcd's watch: the changes to keys under `prefix` committed after
  // store revision `after`, in commit order, once there are any or after
  // `wait` (empty then). A deleted key has no value.
  struct Change {
    std::string key;
    std::optional<std::string> value;
    int64_t revision = 0;
  };
  StatusOr<std::vector<Change>> Watch(std::string_view prefix, int64_t after, Duration wait);

  // Fences every write on leadership: from now on a commit happens only
  // while etcd key `key` (absolute, outside the prefix too) holds `value`
  // (the leader key and this server's identity, LeaderLease), in the same
  // etcd transaction. A commit refused for that calls `lost` (the server
  // exits) and returns Aborted: a deposed leader that has not noticed yet
  // (a long pause, a slow renewal) cannot overwrite its successor's state.
  void FenceOn(std::string key, std::string value, std::function<void()> lost);

 private:
  struct Impl;
  explicit EtcdStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
