// File: rest_api.h
// The user API, REST+JSON (docs/openapi.yaml), as a pure request handler
// so it is tested without sockets; http_server.h puts it on a port.
//
//   GET  /v1/health              {"status": "ok", "revision": N}
//   POST /v1/jobs                body: the job file (YAML); headers
//                                Idempotency-Key (optional), X-Filename
//                                -> 201 {"job": {...}}, 200 on a replay
//   GET  /v1/jobs[?state=S]      {"jobs": [...]}
//   GET  /v1/jobs/{id}           {"job": {..., "spec": "<yaml>"}}
//   POST /v1/jobs/{id}/cancel    {"job": {...}}
//   GET  /v1/jobs/{id}/logs      {"state", "logs": [{"rank", "node", "attempt", "url"}]}
//                                (the current or last attempt; each url is
//                                the agent's log server, ?offset=N to tail)
//   GET  /v1/nodes               {"nodes": [...]}  (registered nodes, alive or not)
//   GET  /v1/sites               {"sites": [...]}  (nodes and accelerators per site)
//   GET  /v1/audit[?job=&actor=&action=&limit=]  {"entries": [...]} (admins and
//                                all-tenant viewers)
//
// With a token file (access.h) every path but /v1/health needs
// "Authorization: Bearer TOKEN": 401 without a valid one, 403 for what the
// caller's role or tenant does not allow; neither changes anything.
//
// Errors are JSON {"error": {"code", "message"[, "field"]}} with 400 (bad
// input; `field` is the job file's field path), 404, 405, 409 (a job that
// already ended), 413 (body over 1 MiB) or 500/503 (the store). Bad input
// never changes stored state. Thread-safe: it takes the control plane's mutex.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "control/control_plane.h"

namespace stargate::control {

struct HttpRequest {
  std::string method;              // "GET", "POST", ...
  std::string path;                // without the query string
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int s, std::string b) : status(s), body(std::move(b)) {}
  int status = 200;
  std::string body;                // JSON, unless content_type says otherwise
  std::string content_type = "application/json";
  // Set: the answer is what GET on this URL (with these headers) returns,
  // fetched by the HTTP layer outside the control plane's lock (a task log
  // from its node's log server, for a caller the API has authorised).
  std::string fetch_url;
  std::map<std::string, std::string> fetch_headers;
};

class RestApi {
 public:
  // `cp` must outlive the API.
  explicit RestApi(ControlPlane* cp) : cp_(cp) {}

  HttpResponse Handle(const HttpRequest& req);

 private:
  HttpResponse Route(const HttpRequest& req);
  HttpResponse Submit(const HttpRequest& req);
  HttpResponse ListJobs(const HttpRequest& req);
  HttpResponse GetJob(uint64_t id);
  HttpResponse CancelJob(uint64_t id);
  HttpResponse JobLogs(uint64_t id);
  HttpResponse JobLog(uint64_t id, std::string_view rank, const HttpRequest& req);
  HttpResponse QueryAudit(const HttpRequest& req);
  // With tokens on: 403 unless the caller may see (or, `write`, change)
  // job `id`; nullopt when it may (or the job does not exist: 404 later).
  std::optional<HttpResponse> Forbidden(uint64_t id, bool write);
  std::string Actor() const { return who_ != nullptr ? who_->name : "anonymous"; }
  HttpResponse ListNodes();
  HttpResponse ListSites();

  ControlPlane* cp_;
  const Principal* who_ = nullptr;  // the caller of the request being handled (under cp_->mu)
};

}  // namespace stargate::control
