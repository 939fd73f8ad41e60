#include "control/server/leader_lease.h"

#include <fmt/format.h>

namespace stargate::control {

using nlohmann::json;

StatusOr<bool> LeaderLease::TryAcquire() {
  if (!lease_.empty()) return true;
  SG_ASSIGN_OR_RETURN(
      const json grant,
      client_.Call("/v3/lease/grant", {{"TTL", std::max<int64_t>(1, static_cast<int64_t>(ttl_.seconds()))}}));
  const std::string id = grant.value("ID", "");
  if (id.empty()) return absl::UnavailableError("etcd granted no lease");
  const std::string key = EtcdClient::Base64(key_);
  // Take the key only if nobody holds it.
  SG_ASSIGN_OR_RETURN(
      const json txn,
      client_.Call(
          "/v3/kv/txn",
          {{"compare",
            json::array({{{"key", key}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}}})},
           {"success",
            json::array({{{"request_put", {{"key", key}, {"value", EtcdClient::Base64(identity_)}, {"lease", id}}}}})},
           {"failure", json::array()}}));
  if (!txn.value("succeeded", false)) {
    client_.Call("/v3/lease/revoke", {{"ID", id}}).IgnoreError();  // not needed: let it go
    return false;
  }
  lease_ = id;
  return true;
}

Status LeaderLease::KeepAlive() {
  if (lease_.empty()) return absl::FailedPreconditionError("not the leader");
  SG_ASSIGN_OR_RETURN(const json r, client_.Call("/v3/lease/keepalive", {{"ID", lease_}}));
  // A lease that has run out comes back without a TTL.
  if (EtcdClient::Int(r.value("result", json::object()), "TTL") <= 0) {
    lease_.clear();
    return absl::FailedPreconditionError(fmt::format("the leader lease on {} ran out", key_));
  }
  return Status();
}

Status LeaderLease::Release() {
  if (lease_.empty()) return Status();
  const std::string id = std::exchange(lease_, "");
  return client_.Call("/v3/lease/revoke", {{"ID", id}}).status();  // deletes the key with it
}

StatusOr<std::string> LeaderLease::Holder() {
  SG_ASSIGN_OR_RETURN(const json r, client_.Call("/v3/kv/range", {{"key", EtcdClient::Base64(key_)}}));
  auto kvs = r.find("kvs");
  if (kvs == r.end() || kvs->empty()) return std::string();
  return EtcdClient::Unbase64(kvs->front().value("value", ""));
}

Status LeaderLease::AwaitChange(Duration wait) {
  // From the revision after the key's present state: any change wakes us.
  SG_ASSIGN_OR_RETURN(const json r, client_.Call("/v3/kv/range", {{"key", EtcdClient::Base64(key_)}}));
  auto kvs = r.find("kvs");
  if (kvs == r.end() || kvs->empty()) return Status();  // vacant now: try at once
  const int64_t from = EtcdClient::Int(r.value("header", json::object()), "revision") + 1;
  return client_.Watch(key_, "", from, wait).status();
}

}  // namespace stargate::control
