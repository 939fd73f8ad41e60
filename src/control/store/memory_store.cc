#include "control/store/memory_store.h"

#include <fmt/format.h>

namespace stargate::control {

StatusOr<KeyValue> MemoryStore::Get(std::string_view key) {
  auto it = kv_.find(key);
  if (it == kv_.end()) return absl::NotFoundError(fmt::format("no key '{}'", key));
  return it->second;
}

StatusOr<std::vector<KeyValue>> MemoryStore::List(std::string_view prefix) {
  std::vector<KeyValue> out;
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(it->second);
  }
  return out;
}

StatusOr<int64_t> MemoryStore::Commit(const Txn& txn) {
  if (txn.writes.size() > max_ops_ || txn.conditions.size() + 1 > max_ops_) {
    return absl::InvalidArgumentError(
        fmt::format("a transaction of {} writes and {} conditions is over the limit of {}", txn.writes.size(),
                    txn.conditions.size(), max_ops_));
  }
  for (const Txn::Condition& c : txn.conditions) {
    auto it = kv_.find(c.key);
    const int64_t have = it == kv_.end() ? 0 : it->second.revision;
    if (have != c.revision) {
      return absl::FailedPreconditionError(fmt::format("key '{}' is at revision {}, not {}", c.key, have, c.revision));
    }
  }
  ++revision_;
  for (const Txn::Write& w : txn.writes) {
    if (w.value.has_value()) {
      kv_[w.key] = KeyValue{w.key, *w.value, revision_};
    } else {
      kv_.erase(w.key);
    }
  }
  return revision_;
}

}  // namespace stargate::control
