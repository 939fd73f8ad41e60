#include "control/server/node_identity.h"

#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/net/digest.h"
#include "runtime/random_hex.h"

namespace stargate::control {
namespace {

constexpr char kTokenPrefix[] = "jointokens/";
constexpr char kCredPrefix[] = "nodecreds/";

// A node's credential record after `stargate node revoke`: "revoked <ms>".
constexpr std::string_view kRevokedTag = "revoked ";

// "sgj_<id>_<secret>": the id finds the record, the secret proves it.
constexpr std::string_view kTokenTag = "sgj_";

std::string EncodeToken(const JoinToken& t, const std::string& hash) {
  return nlohmann::json{{"hash", hash},
                        {"created_unix_ms", t.created.millis()},
                        {"expires_unix_ms", t.expires.millis()},
                        {"node", t.node},
                        {"created_by", t.created_by},
                        {"revoked", t.revoked}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StatusOr<std::pair<JoinToken, std::string>> DecodeToken(const KeyValue& kv) {
  const nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, false);
  if (!j.is_object()) return absl::DataLossError(fmt::format("store key {}: not a join token", kv.key));
  JoinToken t;
  t.id = kv.key.substr(sizeof(kTokenPrefix) - 1);
  try {
    t.created = Time::FromMillis(j.at("created_unix_ms").get<int64_t>());
    t.expires = Time::FromMillis(j.at("expires_unix_ms").get<int64_t>());
    t.node = j.value("node", "");
    t.created_by = j.value("created_by", "");
    t.revoked = j.value("revoked", false);
    return std::make_pair(t, j.at("hash").get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(fmt::format("store key {}: {}", kv.key, e.what()));
  }
}

}  // namespace

std::string_view Name(NodeAuth a) {
  switch (a) {
    case NodeAuth::kCert:
      return "cert";
    case NodeAuth::kToken:
      return "token";
    default:
      return "none";
  }
}

Status NodeIdentity::CheckCert(const std::string& node, const AgentProof& proof) const {
  if (!proof.tls || proof.cert_names.empty()) {
    return absl::PermissionDeniedError(
        fmt::format("node {}: this server admits nodes by their TLS certificate, and the call showed none", node));
  }
  if (std::find(proof.cert_names.begin(), proof.cert_names.end(), node) == proof.cert_names.end()) {
    return absl::PermissionDeniedError(
        fmt::format("node {}: the agent's certificate names {}, not this node (issue one with `stargate cert issue "
                    "{}`)",
                    node, absl::StrJoin(proof.cert_names, ", "), node));
  }
  return Status();
}

StatusOr<std::string> NodeIdentity::CredentialHash(const std::string& node) {
  if (auto it = cred_hash_.find(node); it != cred_hash_.end()) return it->second;
  StatusOr<KeyValue> kv = store_->Get(kCredPrefix + node);
  if (!kv.ok() && kv.status().code() != absl::StatusCode::kNotFound) return kv.status();
  std::string hash = kv.ok() ? kv->value : "";
  // Only what exists is kept: names anyone may make up never grow the map.
  if (!hash.empty()) cred_hash_[node] = hash;
  return hash;
}

StatusOr<std::string> NodeIdentity::Admit(const std::string& node, const AgentProof& proof, Time now) {
  if (mode_ == NodeAuth::kNone) return std::string();
  if (mode_ == NodeAuth::kCert) {
    SG_RETURN_IF_ERROR(CheckCert(node, proof));
    return std::string();
  }
  // Token mode: its own credential first (a restarted agent), else a join token.
  SG_ASSIGN_OR_RETURN(const std::string existing, CredentialHash(node));
  if (!proof.credential.empty()) {
    if (!existing.empty() && ConstantTimeEquals(existing, Sha256Hex(proof.credential))) return std::string();
    if (proof.join_token.empty()) {
      return absl::PermissionDeniedError(
          fmt::format("node {}: its node credential is not valid (revoked, or another node's); join again with a "
                      "join token",
                      node));
    }
  }
  if (proof.join_token.empty()) {
    return absl::PermissionDeniedError(
        fmt::format("node {}: this server admits nodes with a join token (`stargate node join-token create`, then "
                    "`stargate agent --join-token-file`)",
                    node));
  }
  const std::string_view tok = proof.join_token;
  const size_t split = tok.find('_', kTokenTag.size());
  auto refused = [&](std::string_view why) {
    return absl::PermissionDeniedError(fmt::format("node {}: the join token {}", node, why));
  };
  if (!tok.starts_with(kTokenTag) || split == std::string_view::npos) return refused("is not a Stargate join token");
  const std::string id(tok.substr(kTokenTag.size(), split - kTokenTag.size()));
  const std::string_view secret = tok.substr(split + 1);
  if (id.empty() || id.find('/') != std::string::npos) return refused("is not a Stargate join token");
  StatusOr<KeyValue> kv = store_->Get(kTokenPrefix + id);
  if (!kv.ok()) {
    if (kv.status().code() == absl::StatusCode::kNotFound) return refused("is not known here");
    return kv.status();
  }
  SG_ASSIGN_OR_RETURN(const auto record, DecodeToken(*kv));
  const auto& [t, hash] = record;
  if (!ConstantTimeEquals(hash, Sha256Hex(secret))) return refused("is not known here");
  if (t.revoked) return refused(fmt::format("{} was revoked", id));
  if (now >= t.expires) return refused(fmt::format("{} expired", id));
  if (!t.node.empty() && t.node != node) return refused(fmt::format("{} is for node {} only", id, t.node));
  // A token makes a node; it never takes one over. A node that joined
  // shows its credential; one an admin revoked joins again only with a
  // token made after the revocation.
  if (existing.starts_with(kRevokedTag)) {
    int64_t at_ms = 0;
    std::from_chars(existing.data() + kRevokedTag.size(), existing.data() + existing.size(), at_ms);
    if (t.created.millis() <= at_ms) {
      return absl::PermissionDeniedError(
          fmt::format("node {}: it was revoked; join it again with a join token made after that", node));
    }
  } else if (!existing.empty()) {
    return absl::PermissionDeniedError(fmt::format(
        "node {}: it has joined already and its agent must show its node credential (WORK_DIR/credentials/{}); "
        "if that is lost, `stargate node revoke {}` and join with a new token",
        node, node, node));
  }
  const std::string credential = "sgn_" + RandomHex(8);
  const std::string cred_hash = Sha256Hex(credential);
  SG_RETURN_IF_ERROR(store_->Put(kCredPrefix + node, cred_hash).status());
  cred_hash_[node] = cred_hash;
  return credential;
}

Status NodeIdentity::Check(const std::string& node, const AgentProof& proof) {
  if (mode_ == NodeAuth::kNone) return Status();
  if (mode_ == NodeAuth::kCert) return CheckCert(node, proof);
  SG_ASSIGN_OR_RETURN(const std::string hash, CredentialHash(node));
  if (hash.empty() || !ConstantTimeEquals(hash, Sha256Hex(proof.credential))) {
    return absl::PermissionDeniedError(fmt::format("node {}: no valid node credential on the call", node));
  }
  return Status();
}

StatusOr<std::pair<std::string, JoinToken>> NodeIdentity::CreateJoinToken(Time now, Duration ttl,
                                                                          const std::string& node,
                                                                          const std::string& by) {
  JoinToken t;
  t.id = RandomHex(2);
  t.created = Time::FromMillis(now.millis());
  t.expires = Time::FromMillis((now + ttl).millis());
  t.node = node;
  t.created_by = by;
  const std::string secret = RandomHex(8);
  Txn txn;
  txn.IfAbsent(kTokenPrefix + t.id).Put(kTokenPrefix + t.id, EncodeToken(t, Sha256Hex(secret)));
  SG_RETURN_IF_ERROR(store_->Commit(txn).status());
  return std::make_pair(fmt::format("{}{}_{}", kTokenTag, t.id, secret), t);
}

StatusOr<std::vector<JoinToken>> NodeIdentity::JoinTokens() {
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> all, store_->List(kTokenPrefix));
  std::vector<JoinToken> out;
  for (const KeyValue& kv : all) {
    StatusOr<std::pair<JoinToken, std::string>> t = DecodeToken(kv);
    if (t.ok()) out.push_back(t->first);
  }
  return out;
}

Status NodeIdentity::RevokeJoinToken(const std::string& id) {
  StatusOr<KeyValue> kv = store_->Get(kTokenPrefix + id);
  if (!kv.ok()) {
    return kv.status().code() == absl::StatusCode::kNotFound ? absl::NotFoundError(fmt::format("no join token {}", id))
                                                             : kv.status();
  }
  SG_ASSIGN_OR_RETURN(auto record, DecodeToken(*kv));
  record.first.revoked = true;
  Txn txn;
  txn.IfRevision(kv->key, kv->revision).Put(kv->key, EncodeToken(record.first, record.second));
  return store_->Commit(txn).status();
}

Status NodeIdentity::RevokeNode(const std::string& node, Time now) {
  SG_ASSIGN_OR_RETURN(const std::string hash, CredentialHash(node));
  if (hash.empty()) return absl::NotFoundError(fmt::format("node {} has no node credential", node));
  if (hash.starts_with(kRevokedTag)) return Status();
  const std::string revoked = fmt::format("{}{}", kRevokedTag, now.millis());
  SG_RETURN_IF_ERROR(store_->Put(kCredPrefix + node, revoked).status());
  cred_hash_[node] = revoked;
  return Status();
}

}  // namespace stargate::control
