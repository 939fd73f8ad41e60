#include "control/store/etcd_store.h"

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

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
  Impl(EtcdClient c, std::string p) : client(std::move(c)), prefix(std::move(p)) {}

  EtcdClient client;
  std::string prefix;
  size_t max_txn_ops = kMaxTxnOps;
  std::string fence_key, fence_value;  // fence_key "" = no fence
  std::function<void()> fence_lost;

  // ---- Batches (etcd_store.h). A commit's conditions on keys the open
  // batch wrote are decided here, against the batch; the others travel
  // with the batch to etcd.
  bool in_batch = false;
  int64_t next_batch_revision = kBatchRevisions;
  struct Queued {                                         // one commit of the open batch
    json compares = json::array();                        // its conditions left for etcd
    std::vector<std::pair<std::string, int64_t>> checks;  // (key, store revision) of each, for messages
    std::vector<Txn::Write> writes;
    int64_t revision = 0;  // the batch revision it was given
  };
  std::vector<Queued> queued;
  // The keys the open batch wrote: the commit (index in `queued`) and
  // write that last did.
  std::map<std::string, std::pair<size_t, size_t>> overlay;
  // Keys last written by a batch: the batch revision their writer was
  // given, and the store revision it became in etcd.
  std::unordered_map<std::string, std::pair<int64_t, int64_t>> aliases;

  StatusOr<json> Call(const std::string& path, const json& body) { return client.Call(path, body); }

  KeyValue FromKv(const json& kv) const {
    KeyValue out;
    out.key = EtcdClient::Unbase64(kv.value("key", "")).substr(prefix.size());
    out.value = EtcdClient::Unbase64(kv.value("value", ""));
    out.revision = EtcdClient::Int(kv, "mod_revision") - 1;
    return out;
  }

  // What the open batch wrote to `key` (nullopt when it did not; a
  // KeyValue with revision 0 when it deleted it).
  std::optional<KeyValue> InBatch(const std::string& key) const {
    auto it = overlay.find(key);
    if (it == overlay.end()) return std::nullopt;
    const Queued& q = queued[it->second.first];
    const Txn::Write& w = q.writes[it->second.second];
    if (!w.value.has_value()) return KeyValue{key, "", 0};
    return KeyValue{key, *w.value, q.revision};
  }

  // The store revision etcd knows for what a caller calls `revision` of
  // `key`, or FailedPrecondition when it is a batch revision the key no
  // longer has (a batch wrote it again since, or a plain commit did).
  StatusOr<int64_t> Real(const std::string& key, int64_t revision) const {
    if (revision < kBatchRevisions) return revision;
    auto it = aliases.find(key);
    if (it == aliases.end() || it->second.first != revision) {
      return absl::FailedPreconditionError(fmt::format("key '{}' was written again since revision {}", key, revision));
    }
    return it->second.second;
  }

  json Compare(const std::string& key, int64_t real) const {
    const std::string k = B64(prefix + key);
    if (real == 0) return {{"key", k}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
    return {{"key", k}, {"target", "MOD"}, {"result", "EQUAL"}, {"mod_revision", std::to_string(real + 1)}};
  }

  json WriteOp(const Txn::Write& w) const {
    if (w.value.has_value()) return {{"request_put", {{"key", B64(prefix + w.key)}, {"value", B64(*w.value)}}}};
    return {{"request_delete_range", {{"key", B64(prefix + w.key)}}}};
  }

  // One etcd transaction; its store revision. When it is refused: Aborted
  // for a lost fence, else FailedPrecondition naming the first of `checks`
  // (key, store revision compared) that no longer holds.
  StatusOr<int64_t> Send(json compare, json success, const std::vector<std::pair<std::string, int64_t>>& checks) {
    if (!fence_key.empty()) {
      compare.push_back(
          {{"key", B64(fence_key)}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", B64(fence_value)}});
    }
    SG_ASSIGN_OR_RETURN(const json r,
                        Call("/v3/kv/txn", {{"compare", compare}, {"success", success}, {"failure", json::array()}}));
    if (r.value("succeeded", false)) return EtcdClient::Int(r.value("header", json::object()), "revision") - 1;
    if (!fence_key.empty()) {
      StatusOr<json> holder = Call("/v3/kv/range", {{"key", B64(fence_key)}});
      std::string now;
      if (holder.ok() && holder->contains("kvs") && !(*holder)["kvs"].empty()) {
        now = EtcdClient::Unbase64((*holder)["kvs"][0].value("value", ""));
      }
      if (holder.ok() && now != fence_value) {
        if (fence_lost) fence_lost();
        return absl::AbortedError(fmt::format("not the leader any more ({} holds {}): write refused",
                                              now.empty() ? "nobody" : now, fence_key));
      }
    }
    // etcd does not say which comparison failed: find it, for the message.
    for (const auto& [key, revision] : checks) {
      StatusOr<json> now = Call("/v3/kv/range", {{"key", B64(prefix + key)}});
      const int64_t have =
          now.ok() && now->contains("kvs") && !(*now)["kvs"].empty() ? FromKv((*now)["kvs"][0]).revision : 0;
      if (have != revision) {
        return absl::FailedPreconditionError(fmt::format("key '{}' is at revision {}, not {}", key, have, revision));
      }
    }
    return absl::FailedPreconditionError("a condition failed (the keys changed again since)");
  }

  // Sends queued[from, to) as one transaction: their conditions, and each
  // key they write once, with the last value they give it.
  Status SendQueued(size_t from, size_t to) {
    json compare = json::array();
    std::vector<std::pair<std::string, int64_t>> checks;
    std::map<std::string, std::pair<size_t, size_t>> last;  // key -> (commit, write)
    for (size_t i = from; i < to; ++i) {
      for (const json& c : queued[i].compares) compare.push_back(c);
      checks.insert(checks.end(), queued[i].checks.begin(), queued[i].checks.end());
      for (size_t w = 0; w < queued[i].writes.size(); ++w) last[queued[i].writes[w].key] = {i, w};
    }
    json success = json::array();
    for (const auto& [key, at] : last) success.push_back(WriteOp(queued[at.first].writes[at.second]));
    SG_ASSIGN_OR_RETURN(const int64_t real, Send(std::move(compare), std::move(success), checks));
    for (const auto& [key, at] : last) {
      if (queued[at.first].writes[at.second].value.has_value()) {
        aliases[key] = {queued[at.first].revision, real};
      } else {
        aliases.erase(key);
      }
    }
    return Status();
  }
};

StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(std::vector<std::string> endpoints, Clock* clock,
                                                     std::string prefix, Duration retry_for) {
  SG_ASSIGN_OR_RETURN(EtcdClient client, EtcdClient::Make(endpoints, retry_for, clock));
  auto impl = std::make_unique<Impl>(std::move(client), std::move(prefix));
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(impl)));
}

EtcdStore::EtcdStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdStore::~EtcdStore() = default;

StatusOr<KeyValue> EtcdStore::Get(std::string_view key) {
  if (std::optional<KeyValue> mine = impl_->InBatch(std::string(key)); mine.has_value()) {
    if (mine->revision == 0) return absl::NotFoundError(fmt::format("no key '{}'", key));
    return *mine;
  }
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
  // etcd returns a range in key byte order; the open batch's writes
  // replace, add or remove keys in it.
  auto mine = impl_->overlay.lower_bound(std::string(prefix));
  if (mine == impl_->overlay.end() || mine->first.compare(0, prefix.size(), prefix) != 0) return out;
  std::map<std::string, KeyValue> merged;
  for (KeyValue& kv : out) merged.emplace(kv.key, std::move(kv));
  for (; mine != impl_->overlay.end() && mine->first.compare(0, prefix.size(), prefix) == 0; ++mine) {
    std::optional<KeyValue> kv = impl_->InBatch(mine->first);
    if (kv->revision == 0) {
      merged.erase(mine->first);
    } else {
      merged[mine->first] = std::move(*kv);
    }
  }
  out.clear();
  for (auto& [key, kv] : merged) out.push_back(std::move(kv));
  return out;
}

size_t EtcdStore::MaxOpsPerCommit() const { return impl_->max_txn_ops; }

StatusOr<int64_t> EtcdStore::Commit(const Txn& txn) {
  Impl& m = *impl_;
  if (txn.writes.size() > m.max_txn_ops || txn.conditions.size() + 1 > m.max_txn_ops) {
    return absl::InvalidArgumentError(
        fmt::format("a transaction of {} writes and {} conditions is over etcd's limit of {} operations "
                    "(its --max-txn-ops)",
                    txn.writes.size(), txn.conditions.size(), m.max_txn_ops));
  }
  Impl::Queued q;
  for (const Txn::Condition& c : txn.conditions) {
    if (std::optional<KeyValue> mine = m.in_batch ? m.InBatch(c.key) : std::nullopt; mine.has_value()) {
      if (mine->revision != c.revision) {  // the batch wrote it: decided here
        return absl::FailedPreconditionError(
            fmt::format("key '{}' is at revision {}, not {}", c.key, mine->revision, c.revision));
      }
      continue;
    }
    SG_ASSIGN_OR_RETURN(const int64_t real, m.Real(c.key, c.revision));
    q.compares.push_back(m.Compare(c.key, real));
    q.checks.emplace_back(c.key, real);
  }
  if (!m.in_batch) {
    json success = json::array();
    for (const Txn::Write& w : txn.writes) success.push_back(m.WriteOp(w));
    SG_ASSIGN_OR_RETURN(const int64_t revision, m.Send(std::move(q.compares), std::move(success), q.checks));
    for (const Txn::Write& w : txn.writes) m.aliases.erase(w.key);  // known by etcd's revision again
    return revision;
  }
  q.revision = m.next_batch_revision++;
  q.writes = txn.writes;
  for (size_t w = 0; w < q.writes.size(); ++w) m.overlay[q.writes[w].key] = {m.queued.size(), w};
  m.queued.push_back(std::move(q));
  return m.queued.back().revision;
}

Status EtcdStore::BeginBatch() {
  if (impl_->in_batch) return absl::FailedPreconditionError("etcd store: a batch is already open");
  impl_->in_batch = true;
  return Status();
}

Status EtcdStore::EndBatch() {
  Impl& m = *impl_;
  if (!m.in_batch) return absl::FailedPreconditionError("etcd store: no batch is open");
  m.in_batch = false;
  m.overlay.clear();
  // Whole commits, in order, in transactions of at most max_txn_ops
  // distinct keys written and conditions (a commit alone always fits:
  // Commit checked it).
  Status result;
  size_t from = 0;
  while (from < m.queued.size() && result.ok()) {
    std::set<std::string> keys;
    size_t conditions = 1;  // the fence's, if any
    size_t to = from;
    for (; to < m.queued.size(); ++to) {
      const Impl::Queued& q = m.queued[to];
      size_t more = 0;
      for (const Txn::Write& w : q.writes) more += keys.count(w.key) == 0;
      if (to > from && (keys.size() + more > m.max_txn_ops || conditions + q.compares.size() > m.max_txn_ops)) break;
      for (const Txn::Write& w : q.writes) keys.insert(w.key);
      conditions += q.compares.size();
    }
    result = m.SendQueued(from, to);
    from = to;
  }
  m.queued.clear();
  return result;
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
