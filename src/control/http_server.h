// File: http_server.h
// Serves a RestApi over HTTP/1.1 (cpp-httplib, thread pool). Kept behind a
// pointer to an implementation so httplib's heavy header stays in one .cc.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "control/rest_api.h"
#include "core/status.h"

namespace stargate::control {

class HttpServer {
 public:
  // `api` must outlive the server.
  explicit HttpServer(RestApi* api);
  ~HttpServer();

  // Serves the web dashboard (web/ in the source tree: index.html, app.js,
  // style.css, and Preact and htm from web/node_modules, installed by
  // scripts/install-deps.sh) at /ui/, read into memory now. NotFound
  // naming the missing file; the REST API is served either way.
  Status ServeDashboard(const std::string& web_dir);

  // Binds `host`:`port` (0 = any free port) and returns the port bound.
  StatusOr<int> Bind(const std::string& host, int port);
  // Serves until Stop() (from any thread). Blocks.
  Status Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request to a server at `base_url` ("http://127.0.0.1:8470"), for the
// CLI and tests, with "Authorization: Bearer $STARGATE_TOKEN" when that is
// set. Unavailable (naming the URL) when it cannot connect.
StatusOr<HttpResponse> CallServer(const std::string& base_url, const std::string& method, const std::string& path,
                                  const std::string& body = "",
                                  const std::map<std::string, std::string>& headers = {});

}  // namespace stargate::control
