// A Store test double that passes every call to a MemoryStore it holds
// (`inner_`): a test's store overrides only the call it changes (a lost
// reply, a lost batch, a failing commit).
#pragma once

#include <cstddef>
#include <cstdint>

#include "control/store/memory_store.h"

namespace stargate::control {

class ForwardingStore : public Store {
 public:
  // `max_ops`: the inner store's limit on operations per commit.
  explicit ForwardingStore(size_t max_ops = SIZE_MAX) : inner_(max_ops) {}
  StatusOr<KeyValue> Get(std::string_view key) override { return inner_.Get(key); }
  StatusOr<std::vector<KeyValue>> List(std::string_view prefix) override { return inner_.List(prefix); }
  StatusOr<int64_t> Commit(const Txn& txn) override { return inner_.Commit(txn); }
  StatusOr<int64_t> Revision() override { return inner_.Revision(); }
  size_t MaxOpsPerCommit() const override { return inner_.MaxOpsPerCommit(); }

 protected:
  MemoryStore inner_;
};

}  // namespace stargate::control
