// File: etcd_client.h
// Calls to an etcd 3.4 cluster's v3 JSON gateway (POST /v3/..., JSON in
// and out; keys and values base64, int64 fields as strings), shared by
// EtcdStore and LeaderLease. With several endpoints a call that cannot
// reach a member, or meets an election, goes to the next, for up to
// `retry_for`. Not thread-safe: one per thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

class EtcdClient {
 public:
  // `endpoints`: "host:port" client URLs (http). InvalidArgument when one
  // is malformed or none is given; nothing is contacted yet. `clock`
  // paces the retries and must outlive the client.
  static StatusOr<EtcdClient> Make(const std::vector<std::string>& endpoints, Duration retry_for, Clock* clock);

  // POSTs `body` to `path` ("/v3/kv/range", ...). Unavailable once
  // `retry_for` is spent; Internal for a request etcd refused (4xx).
  StatusOr<nlohmann::json> Call(const std::string& path, const nlohmann::json& body);

  // Watches `key` (and, with `range_end`, the keys up to it) from
  // revision `from` (etcd's own numbering) for up to `wait`: the events
  // of the first batch (each {"type": "PUT"|"DELETE", "kv": {...}}), or
  // none when nothing changed in time. One streaming POST /v3/watch on the
  // current endpoint; Unavailable when it cannot be opened.
  StatusOr<std::vector<nlohmann::json>> Watch(const std::string& key, const std::string& range_end, int64_t from,
                                              Duration wait);

  static std::string Base64(std::string_view bytes);
  static std::string Unbase64(const std::string& text);
  // An int64 field of a reply (a string in the gateway's JSON; absent = 0).
  static int64_t Int(const nlohmann::json& j, const char* field);

 private:
  std::vector<std::pair<std::string, int>> endpoints_;
  size_t current_ = 0;
  Duration retry_for_;
  Clock* clock_ = nullptr;
};

}  // namespace stargate::control
