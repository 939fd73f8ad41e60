// File: http_server.h
// Serves a request handler over HTTP/1.1 (cpp-httplib, thread pool), and
// static files next to it (the dashboard). Kept behind a pointer to an
// implementation so httplib's heavy header stays in one .cc. Bind, Serve
// and Stop may come from different threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "control/net/http_types.h"
#include "core/status.h"

namespace stargate::control {

// Called on the server's worker threads, several at once.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct StaticFile {
  std::string content_type, body;
};

class HttpServer {
 public:
  explicit HttpServer(HttpHandler handler);
  ~HttpServer();

  // Answers GET of these URL paths with these files, before the handler
  // sees them; GET / redirects to `index` when it is set. Call before
  // Serve.
  void ServeFiles(std::map<std::string, StaticFile> files, std::string index = "");

  // Binds `host`:`port` (0 = any free port) and returns the port bound.
  StatusOr<int> Bind(const std::string& host, int port);
  // Serves until Stop() (from any thread). Blocks.
  Status Serve();
  // Ends Serve(); a no-op before Serve() is listening.
  void Stop();
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
