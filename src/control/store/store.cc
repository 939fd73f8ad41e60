#include "control/store/store.h"

#include <utility>

namespace stargate::control {

Txn& Txn::IfRevision(std::string key, int64_t revision) {
  conditions.push_back(Condition{std::move(key), revision});
  return *this;
}

Txn& Txn::Put(std::string key, std::string value) {
  writes.push_back(Write{std::move(key), std::move(value)});
  return *this;
}

Txn& Txn::Delete(std::string key) {
  writes.push_back(Write{std::move(key), std::nullopt});
  return *this;
}

StatusOr<int64_t> Store::Put(std::string key, std::string value) {
  Txn txn;
  txn.Put(std::move(key), std::move(value));
  return Commit(txn);
}

}  // namespace stargate::control
