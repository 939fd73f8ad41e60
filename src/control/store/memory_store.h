// File: memory_store.h
// Store held in memory: the fake for tests and for throwaway servers
// (`stargate server --in-memory`). Same semantics as SqliteStore, nothing durable.
// Not thread-safe, like every Store (store.h).
#pragma once

#include <map>

#include "control/store/store.h"

namespace stargate::control {

class MemoryStore final : public Store {
 public:
  // `max_ops`: as etcd's --max-txn-ops, for tests of what splits commits.
  explicit MemoryStore(size_t max_ops = SIZE_MAX) : max_ops_(max_ops) {}

  StatusOr<KeyValue> Get(std::string_view key) override;
  StatusOr<std::vector<KeyValue>> List(std::string_view prefix) override;
  StatusOr<int64_t> Commit(const Txn& txn) override;
  StatusOr<int64_t> Revision() override { return revision_; }
  size_t MaxOpsPerCommit() const override { return max_ops_; }

 private:
  std::map<std::string, KeyValue, std::less<>> kv_;
  int64_t revision_ = 0;
  size_t max_ops_;
};

}  // namespace stargate::control
