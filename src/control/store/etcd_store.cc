#include "control/store/etcd_store.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/store/etcd_client.h"

namespace stargate::control {
namespace {

using nlohmann::json;

std::string B64(std::string_view s) { return EtcdClient::Base64(s); }

// The first key after every key that starts with `prefix` (etcd's
// range_end for a prefix): the prefix with its last byte below 0xff
// incremented; "\0" (everything) when there is none.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::string(1, '\0');
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

struct EtcdStore::Impl {
  EtcdClient client;
  std::string prefix;
  std::string fence_key, fence_value;  // fence_key "" = no fence
  std::function<void()> fence_lost;

  StatusOr<json> Call(const std::string& path, const json& body) { return client.Call(path, body); }

  KeyValue FromKv(const json& kv) const {
    KeyValue out;
    out.key = EtcdClient::Unbase64(kv.value("key", "")).substr(prefix.size());
    out.value = EtcdClient::Unbase64(kv.value("value", ""));
    out.revision = EtcdClient::Int(kv, "mod_revision") - 1;
    return out;
  }
};

StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(std::vector<std::string> endpoints, Clock* clock,
                                                     std::string prefix, Duration retry_for) {
  SG_ASSIGN_OR_RETURN(EtcdClient client, EtcdClient::Make(endpoints, retry_for, clock));
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(client), std::move(prefix)});
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(impl)));
}

EtcdStore::EtcdStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdStore::~EtcdStore() = default;

StatusOr<KeyValue> EtcdStore::Get(std::string_view key) {
  SG_ASSIGN_OR_RETURN(const json r, impl_->Call("/v3/kv/range", {{"key", B64(impl_->prefix + std::string(key))}}));
  auto kvs = r.find("kvs");
  if (kvs == r.end() || kvs->empty()) return absl::NotFoundError(fmt::format("no key '{}'", key));
  return impl_->FromKv(kvs->front());
}

StatusOr<std::vector<KeyValue>> EtcdStore::List(std::string_view prefix) {
  const std::string from = impl_->prefix + std::string(prefix);
  SG_ASSIGN_OR_RETURN(const json r,
                      impl_->Call("/v3/kv/range", {{"key", B64(from)}, {"range_end", B64(PrefixEnd(from))}}));
  std::vector<KeyValue> out;
  if (auto kvs = r.find("kvs"); kvs != r.end()) {
    for (const json& kv : *kvs) out.push_back(impl_->FromKv(kv));
  }
  return out;  // etcd returns a range in key byte order
}

StatusOr<int64_t> EtcdStore::Commit(const Txn& txn) {
  json compare = json::array(), success = json::array();
  for (const Txn::Condition& c : txn.conditions) {
    const std::string key = B64(impl_->prefix + c.key);
    if (c.revision == 0) {
      compare.push_back({{"key", key}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}});
    } else {
      compare.push_back(
          {{"key", key}, {"target", "MOD"}, {"result", "EQUAL"}, {"mod_revision", std::to_string(c.revision + 1)}});
    }
  }
  for (const Txn::Write& w : txn.writes) {
    const std::string key = B64(impl_->prefix + w.key);
    if (w.value.has_value()) {
      success.push_back({{"request_put", {{"key", key}, {"value", B64(*w.value)}}}});
    } else {
      success.push_back({{"request_delete_range", {{"key", key}}}});
    }
  }
  if (!impl_->fence_key.empty()) {
    compare.push_back(
        {{"key", B64(impl_->fence_key)}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", B64(impl_->fence_value)}});
  }
  SG_ASSIGN_OR_RETURN(
      const json r,
      impl_->Call("/v3/kv/txn", {{"compare", compare}, {"success", success}, {"failure", json::array()}}));
  if (!r.value("succeeded", false)) {
    if (!impl_->fence_key.empty()) {
      StatusOr<json> holder = impl_->Call("/v3/kv/range", {{"key", B64(impl_->fence_key)}});
      std::string now;
      if (holder.ok() && holder->contains("kvs") && !(*holder)["kvs"].empty()) {
        now = EtcdClient::Unbase64((*holder)["kvs"][0].value("value", ""));
      }
      if (holder.ok() && now != impl_->fence_value) {
        if (impl_->fence_lost) impl_->fence_lost();
        return absl::AbortedError(fmt::format("not the leader any more ({} holds {}): write refused",
                                              now.empty() ? "nobody" : now, impl_->fence_key));
      }
    }
    // etcd does not say which comparison failed: find it, for the message.
    for (const Txn::Condition& c : txn.conditions) {
      StatusOr<KeyValue> now = Get(c.key);
      const int64_t have = now.ok() ? now->revision : 0;
      if (have != c.revision) {
        return absl::FailedPreconditionError(
            fmt::format("key '{}' is at revision {}, not {}", c.key, have, c.revision));
      }
    }
    return absl::FailedPreconditionError("a condition failed (the keys changed again since)");
  }
  return EtcdClient::Int(r.value("header", json::object()), "revision") - 1;
}

StatusOr<std::vector<EtcdStore::Change>> EtcdStore::Watch(std::string_view prefix, int64_t after, Duration wait) {
  const std::string from = impl_->prefix + std::string(prefix);
  // Store revision r is etcd revision r + 1: the next one is r + 2.
  SG_ASSIGN_OR_RETURN(const std::vector<json> events, impl_->client.Watch(from, PrefixEnd(from), after + 2, wait));
  std::vector<Change> out;
  for (const json& e : events) {
    const json kv = e.value("kv", json::object());
    Change c;
    c.key = EtcdClient::Unbase64(kv.value("key", "")).substr(impl_->prefix.size());
    if (e.value("type", "PUT") != "DELETE") c.value = EtcdClient::Unbase64(kv.value("value", ""));
    c.revision = EtcdClient::Int(kv, "mod_revision") - 1;
    out.push_back(std::move(c));
  }
  return out;
}

void EtcdStore::FenceOn(std::string key, std::string value, std::function<void()> lost) {
  impl_->fence_key = std::move(key);
  impl_->fence_value = std::move(value);
  impl_->fence_lost = std::move(lost);
}

StatusOr<int64_t> EtcdStore::Revision() {
  // A count-only range answers with the cluster's header.
  SG_ASSIGN_OR_RETURN(const json r, impl_->Call("/v3/kv/range", {{"key", B64(impl_->prefix)}, {"count_only", true}}));
  return EtcdClient::Int(r.value("header", json::object()), "revision") - 1;
}

}  // namespace stargate::control
