#include "control/etcd_store.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include <absl/strings/escaping.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace stargate::control {
namespace {

using nlohmann::json;

std::string B64(std::string_view s) { return absl::Base64Escape(absl::string_view(s.data(), s.size())); }

std::string UnB64(const std::string& s) {
  std::string out;
  absl::Base64Unescape(s, &out);
  return out;
}

// int64 fields come as strings in the gateway's JSON (proto3 mapping), and
// are left out when zero.
int64_t Int(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return 0;
  if (it->is_string()) return std::stoll(it->get<std::string>());
  return it->is_number() ? it->get<int64_t>() : 0;
}

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
  std::vector<std::pair<std::string, int>> endpoints;
  size_t current = 0;
  std::string prefix;
  Duration retry_for;

  // POSTs `body` to `path`, trying the members in turn while they are
  // unreachable or between leaders. Unavailable once `retry_for` is spent.
  StatusOr<json> Call(const std::string& path, const json& body) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(retry_for.nanos());
    std::string last = "no endpoint";
    for (int attempt = 0;; ++attempt) {
      const auto& [host, port] = endpoints[current];
      httplib::Client cli(host, port);
      cli.set_connection_timeout(1, 0);
      cli.set_read_timeout(5, 0);
      auto res = cli.Post(path, body.dump(), "application/json");
      if (res && res->status == 200) {
        json j = json::parse(res->body, nullptr, false);
        if (!j.is_discarded()) return j;
        last = fmt::format("{}:{}: unreadable reply", host, port);
      } else {
        last = res ? fmt::format("{}:{}: HTTP {}: {}", host, port, res->status, res->body.substr(0, 200))
                   : fmt::format("{}:{}: {}", host, port, httplib::to_string(res.error()));
        // A client error (bad request) will not get better elsewhere.
        if (res && res->status >= 400 && res->status < 500) return absl::InternalError("etcd " + last);
      }
      current = (current + 1) % endpoints.size();
      if (std::chrono::steady_clock::now() >= deadline) break;
      if ((attempt + 1) % static_cast<int>(endpoints.size()) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // every member tried: an election, or down
      }
    }
    return absl::UnavailableError(fmt::format("etcd unreachable for {:.0f} s; last: {}", retry_for.seconds(), last));
  }

  KeyValue FromKv(const json& kv) const {
    KeyValue out;
    out.key = UnB64(kv.value("key", "")).substr(prefix.size());
    out.value = UnB64(kv.value("value", ""));
    out.revision = Int(kv, "mod_revision") - 1;
    return out;
  }
};

StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(std::vector<std::string> endpoints, std::string prefix,
                                                     Duration retry_for) {
  auto impl = std::make_unique<Impl>();
  for (const std::string& e : endpoints) {
    const size_t colon = e.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(fmt::format("etcd endpoint '{}': expected HOST:PORT", e));
    }
    try {
      port = std::stoi(e.substr(colon + 1));
    } catch (...) {
      port = 0;
    }
    if (port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(fmt::format("etcd endpoint '{}': expected HOST:PORT", e));
    }
    impl->endpoints.emplace_back(e.substr(0, colon), port);
  }
  if (impl->endpoints.empty()) return absl::InvalidArgumentError("no etcd endpoint given");
  impl->prefix = std::move(prefix);
  impl->retry_for = retry_for;
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
      compare.push_back({{"key", key}, {"target", "MOD"}, {"result", "EQUAL"},
                         {"mod_revision", std::to_string(c.revision + 1)}});
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
  SG_ASSIGN_OR_RETURN(const json r,
                      impl_->Call("/v3/kv/txn", {{"compare", compare}, {"success", success}, {"failure", json::array()}}));
  if (!r.value("succeeded", false)) {
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
  return Int(r.value("header", json::object()), "revision") - 1;
}

StatusOr<int64_t> EtcdStore::Revision() {
  // A count-only range answers with the cluster's header.
  SG_ASSIGN_OR_RETURN(const json r, impl_->Call("/v3/kv/range", {{"key", B64(impl_->prefix)}, {"count_only", true}}));
  return Int(r.value("header", json::object()), "revision") - 1;
}

}  // namespace stargate::control
