// File: http_server.h
// Serves a request handler over HTTP/1.1, and static files next to it (the
// dashboard). One event-loop thread (epoll) reads every connection and
// writes every answer; only complete requests reach the pool of worker
// threads that run the handler. So idle keep-alive connections and
// clients that send their headers (or read their answers) a byte at a
// time cost a file descriptor each, never a worker: they cannot stall the
// API for anyone else. Bounds: connections in all and per client address,
// a deadline from a request's first byte to its last, an idle deadline
// between requests, a write deadline, sizes (http_parse.h). Every error
// the server answers itself has a JSON body. Listens without SO_REUSEPORT:
// a second server on a bound port fails with "address in use".
// Bind, Serve and Stop may come from different threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "control/net/http_parse.h"
#include "control/net/http_types.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

// Called on the server's worker threads, several at once.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct StaticFile {
  std::string content_type, body;
};

struct HttpServerOptions {
  int workers = 16;                                // handler threads (`stargate server --http-workers`)
  Duration read_timeout = Duration::Seconds(10);   // a request's first byte to its last
  Duration idle_timeout = Duration::Seconds(60);   // a kept-alive connection between requests
  Duration write_timeout = Duration::Seconds(10);  // an answer to a client that reads slowly
  size_t max_connections = 16384;                  // in all (each is a file descriptor)
  size_t max_per_client = 1024;                    // from one client address
  HttpLimits limits;
};

class HttpServer {
 public:
  // `clock` (the deadlines) must outlive the server.
  HttpServer(HttpHandler handler, const Clock* clock, HttpServerOptions options = {});
  ~HttpServer();

  // Answers GET of these URL paths with these files, before the handler
  // sees them; GET / redirects to `index` when it is set. Call before
  // Serve.
  void ServeFiles(std::map<std::string, StaticFile> files, std::string index = "");

  // Binds `host`:`port` (0 = any free port) and returns the port bound.
  StatusOr<int> Bind(const std::string& host, int port);
  // Serves until Stop() (from any thread). Blocks.
  Status Serve();
  // Ends Serve() (from any thread); called first, Serve returns at once.
  void Stop();
  bool running() const;
  // Connections open now (for tests and metrics).
  size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
