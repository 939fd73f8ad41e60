// The REST API's datasets (rest_api.h, dataset_book.h):
//
//   GET    /v1/datasets[?tenant=T]         {"datasets": [...]}
//   GET    /v1/datasets/{name}[?tenant=T]  {"dataset": {...}}
//   POST   /v1/datasets/{name}             body {"site", "size", "path", "tenant"}
//                                          -> {"dataset": {...}} (a copy added or replaced)
//   DELETE /v1/datasets/{name}[?site=S&tenant=T]  -> {"dataset": {...}} (the copies left)
//
// The tenant is the query's or body's, else the caller's, else "default".
// Another tenant's datasets are answered as if there were none (404), as
// its jobs are; a viewer reads only.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/server/rest_api.h"
#include "control/server/rest_reply.h"
#include "core/unit_parser.h"

namespace stargate::control {
namespace {

using nlohmann::json;
using rest::Dump;
using rest::ErrorResponse;
using rest::FromStatus;

constexpr size_t kMaxDatasetBody = 64 * 1024;

json DatasetJson(const Dataset& d) {
  json copies = json::array();
  for (const DatasetCopy& c : d.copies) {
    copies.push_back(json{{"site", c.site},
                          {"bytes", c.bytes},
                          {"path", c.path},
                          {"registered_unix_ms", c.registered.millis()},
                          {"registered_by", c.by}});
  }
  return json{{"tenant", d.tenant}, {"name", d.name}, {"bytes", d.bytes()}, {"copies", copies}};
}

std::string QueryOr(const HttpRequest& req, const std::string& key, const std::string& fallback) {
  auto it = req.query.find(key);
  return it == req.query.end() ? fallback : it->second;
}

// An error of the book's ("site: ...") names its field.
HttpResponse BookError(const Status& st) {
  const std::string text(st.message());
  const std::string_view m = text;
  for (std::string_view f : {"site", "size", "path", "tenant"}) {
    if (m.starts_with(f) && m.substr(f.size()).starts_with(": ")) return FromStatus(st, f);
  }
  return FromStatus(st);
}

}  // namespace

HttpResponse RestApi::DatasetCall(const HttpRequest& req, Who who) {
  constexpr std::string_view kPrefix = "/v1/datasets";
  const std::string_view rest = std::string_view(req.path).substr(kPrefix.size());
  const std::string own = who != nullptr && !who->tenant.empty() ? who->tenant : "default";
  if (rest.empty()) {
    if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
    std::string tenant = QueryOr(req, "tenant", who != nullptr && !who->tenant.empty() ? who->tenant : "");
    if (who != nullptr && !who->May(tenant, false)) {
      return ErrorResponse(403, "permission_denied",
                           fmt::format("{} may list the datasets of tenant '{}' only", who->name, who->tenant));
    }
    json list = json::array();
    for (const Dataset& d : cp_->Datasets(tenant)) list.push_back(DatasetJson(d));
    return HttpResponse{200, Dump(json{{"datasets", list}})};
  }
  if (!rest.starts_with("/") || rest.size() < 2) {
    return ErrorResponse(404, "not_found", fmt::format("no such resource {}", req.path));
  }
  const std::string name(rest.substr(1));
  std::string tenant = QueryOr(req, "tenant", own);
  json body;
  if (req.method == "POST") {
    if (req.body.size() > kMaxDatasetBody) return ErrorResponse(413, "too_large", "the body is over 64 KiB");
    body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      return ErrorResponse(400, "invalid_argument",
                           "expected a JSON object {\"site\", \"size\", \"path\", \"tenant\"}");
    }
    if (body.contains("tenant")) {
      if (!body["tenant"].is_string()) return ErrorResponse(400, "invalid_argument", "tenant: a string", "tenant");
      tenant = body["tenant"].get<std::string>();
    }
  } else if (req.method != "GET" && req.method != "DELETE") {
    return ErrorResponse(405, "method_not_allowed", "use GET, POST or DELETE");
  }
  // Another tenant's: as if there were none; a tenant's viewer: read only.
  if (who != nullptr && !who->May(tenant, false)) {
    if (req.method != "GET") {
      return ErrorResponse(
          403, "permission_denied",
          fmt::format("{} may register data for tenant '{}' only, not '{}'", who->name, who->tenant, tenant), "tenant");
    }
    return ErrorResponse(404, "not_found", fmt::format("tenant {} has no dataset {}", tenant, name));
  }
  if (req.method == "GET") {
    const std::optional<Dataset> d = cp_->FindDataset(tenant, name);
    if (!d.has_value())
      return ErrorResponse(404, "not_found", fmt::format("tenant {} has no dataset {}", tenant, name));
    return HttpResponse{200, Dump(json{{"dataset", DatasetJson(*d)}})};
  }
  if (who != nullptr && !who->May(tenant, true)) {
    return ErrorResponse(403, "permission_denied",
                         fmt::format("{} may not change tenant {}'s datasets", who->name, tenant));
  }
  if (req.method == "DELETE") {
    StatusOr<Dataset> d = cp_->UnregisterData(tenant, name, QueryOr(req, "site", ""), Actor(who));
    if (!d.ok()) return FromStatus(d.status());
    return HttpResponse{200, Dump(json{{"dataset", DatasetJson(*d)}})};
  }
  DatasetCopy copy;
  for (const char* key : {"site", "path"}) {
    if (!body.contains(key) || !body[key].is_string()) {
      return ErrorResponse(400, "invalid_argument", fmt::format("{}: a string is required", key), key);
    }
  }
  copy.site = body["site"].get<std::string>();
  copy.path = body["path"].get<std::string>();
  const json& size = body.value("size", json());
  if (size.is_number()) {
    copy.bytes = size.get<double>();
  } else if (size.is_string()) {
    StatusOr<double> b = ParseBytes(size.get<std::string>());
    if (!b.ok())
      return ErrorResponse(400, "invalid_argument", fmt::format("size: {}", std::string(b.status().message())), "size");
    copy.bytes = *b;
  } else {
    return ErrorResponse(400, "invalid_argument", "size: bytes, or text such as \"2TB\"", "size");
  }
  StatusOr<Dataset> d = cp_->RegisterData(tenant, name, std::move(copy), Actor(who));
  if (!d.ok()) return BookError(d.status());
  return HttpResponse{200, Dump(json{{"dataset", DatasetJson(*d)}})};
}

}  // namespace stargate::control
