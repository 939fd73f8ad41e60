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
//   GET  /v1/jobs/{id}/logs/{rank}[?offset=&attempt=]  one rank's log, fetched
//                                from its node's log server (HttpResponse::fetch_url)
//   GET  /metrics                Prometheus text (metrics.h); any role may scrape
//   POST /v1/join-tokens         body {"ttl_s", "node"} (both optional) -> 201
//                                {"token": "sgj_...", "join_token": {...}} (admins;
//                                node_identity.h); the token is shown only here
//   GET  /v1/join-tokens         {"join_tokens": [{"id", "node", "expires_unix_ms", "revoked", ...}]}
//   POST /v1/join-tokens/{id}/revoke, POST /v1/nodes/{name}/revoke  (admins)
//   GET|POST|DELETE /v1/datasets[/{name}]  datasets a tenant registered
//                                (rest_datasets.cc, dataset_book.h)
//
// With a token file (access.h) every path but /v1/health needs
// "Authorization: Bearer TOKEN": 401 without a valid one, 403 for what the
// caller's role does not allow; neither changes anything. Another
// tenant's job is 404, as if it did not exist. An Idempotency-Key is the
// job's tenant's; reused with a different job file it is 409.
//
// Errors are JSON {"error": {"code", "message"[, "field"]}} with 400 (bad
// input; `field` is the job file's field path), 404, 405, 409 (a job that
// already ended; a reused Idempotency-Key), 413 (body over 1 MiB) or
// 500/503 (the store). Bad input
// never changes stored state. Thread-safe: it holds no state of its own
// (the caller's identity travels with each request) and the control plane
// is.
#pragma once

#include <memory>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "control/net/http_types.h"
#include "control/server/access.h"
#include "control/server/control_plane.h"
#include "control/server/forecaster.h"

namespace stargate::control {

class RestApi {
 public:
  // `cp` and `access` must outlive the API. `access`: the bearer tokens
  // (access.h); null = an open API.
  // `forecaster`: the server's (its standing forecast shows in job
  // answers); null = one of the API's own, with none standing.
  explicit RestApi(ControlPlane* cp, const AccessList* access = nullptr, Forecaster* forecaster = nullptr)
      : cp_(cp),
        access_(access),
        own_forecaster_(forecaster == nullptr ? std::make_unique<Forecaster>(cp, nullptr) : nullptr),
        forecaster_(forecaster == nullptr ? own_forecaster_.get() : forecaster) {}

  HttpResponse Handle(const HttpRequest& req);

 private:
  // `who` is the caller: null when the API is open.
  using Who = const Principal*;
  HttpResponse Route(const HttpRequest& req, Who who);
  HttpResponse Submit(const HttpRequest& req, Who who);
  // POST /v1/jobs/bulk: many job files in one request and one transaction.
  HttpResponse SubmitBulk(const HttpRequest& req, Who who);
  // One submission's checks and parse, outside the lock: the file and its
  // name UTF-8, a sane key, a valid file (InvalidArgument naming file,
  // line and field), an array that fits, a tenant `who` may use.
  StatusOr<JobRegistry::NewJob> Prepare(std::string text, std::string filename, std::string key,
                                        const std::string& array, Who who);
  // GET /v1/arrays/ID (its elements' states, counted) and POST
  // /v1/arrays/ID/cancel.
  HttpResponse ArrayCall(const HttpRequest& req, Who who);
  HttpResponse ListJobs(const HttpRequest& req, Who who);
  HttpResponse GetJob(uint64_t id);
  HttpResponse CancelJob(uint64_t id, Who who);
  HttpResponse JobLogs(uint64_t id);
  HttpResponse JobLog(uint64_t id, std::string_view rank, const HttpRequest& req);
  HttpResponse QueryAudit(const HttpRequest& req);
  HttpResponse NodeIdentityCall(const HttpRequest& req, Who who);
  // /v1/datasets[/NAME] (rest_datasets.cc).
  HttpResponse DatasetCall(const HttpRequest& req, Who who);
  // With tokens on: 404 when job `id` is another tenant's (its existence
  // is not told), 403 when the caller may see but not (`write`) change
  // it; nullopt when it may (or the job does not exist: 404 later).
  std::optional<HttpResponse> Forbidden(uint64_t id, bool write, Who who);
  static std::string Actor(Who who) { return who != nullptr ? who->name : "anonymous"; }
  // GET /v1/nodes and /v1/sites: filters, `after` and `limit` (a page).
  HttpResponse ListNodes(const HttpRequest& req);
  HttpResponse ListSites(const HttpRequest& req);
  // GET /v1/forecast?horizon=24h&seeds=4 (forecast.h), or POST with a
  // what-if (the baseline, the what-if and their diff): one at a time (a
  // forecast takes CPU seconds); another meanwhile is 429. `?latest=1`:
  // the standing forecast (404 before the first).
  HttpResponse GetForecast(const HttpRequest& req, Who who);

  ControlPlane* const cp_;
  const AccessList* const access_;
  const std::unique_ptr<Forecaster> own_forecaster_;
  Forecaster* const forecaster_;
};

}  // namespace stargate::control
