#include "control/net/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/net/httplib_bind.h"

namespace stargate::control {
namespace {

std::string ErrorJson(const std::string& code, const std::string& message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

// Answers with what GET resp.fetch_url gives (a task log chunk): its body
// as text and X-Next-Offset; 502 with a JSON error when it cannot be had.
void Fetch(const HttpResponse& resp, httplib::Response& out) {
  const std::string& url = resp.fetch_url;
  const size_t path_at = url.find('/', url.find("//") + 2);
  httplib::Client client(url.substr(0, path_at));
  // Short: each fetch holds one of the HTTP server's worker threads, and a
  // node cut off should not tie them up (a 1 MiB chunk takes ms on a LAN).
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(5, 0);
  httplib::Headers h(resp.fetch_headers.begin(), resp.fetch_headers.end());
  httplib::Result r = client.Get(url.substr(path_at), h);
  if (!r) {
    out.status = 502;
    out.set_content(ErrorJson("unavailable",
                              fmt::format("the node's log server does not answer: {}", httplib::to_string(r.error()))),
                    "application/json");
    return;
  }
  if (r->status == 404) {
    out.status = 404;
    out.set_content(ErrorJson("not_found", "no log yet for this rank's attempt"), "application/json");
    return;
  }
  if (r->status != 200) {
    out.status = 502;
    out.set_content(ErrorJson("unavailable", fmt::format("the node's log server answered HTTP {}", r->status)),
                    "application/json");
    return;
  }
  out.status = 200;
  out.set_header("X-Next-Offset", r->get_header_value("X-Next-Offset"));
  out.set_content(r->body, "text/plain");
}

}  // namespace

struct HttpServer::Impl {
  HttpHandler handler;
  httplib::Server server;
  std::map<std::string, StaticFile> files;  // by URL path (set before serving)
  std::string index;                        // where GET / goes ("" = to the handler)
};

HttpServer::HttpServer(HttpHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  auto serve = [this](const httplib::Request& in, httplib::Response& out) {
    if (in.method == "GET") {
      if (auto f = impl_->files.find(in.path); f != impl_->files.end()) {
        out.set_content(f->second.body, f->second.content_type.c_str());
        return;
      }
      if (in.path == "/" && !impl_->index.empty()) {
        out.set_redirect(impl_->index);
        return;
      }
    }
    HttpRequest req;
    req.method = in.method;
    req.path = in.path;
    for (const auto& [k, v] : in.params) req.query[k] = v;
    for (const auto& [k, v] : in.headers) {
      std::string name = k;
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      req.headers[name] = v;
    }
    req.body = in.body;
    const HttpResponse resp = impl_->handler(req);
    if (!resp.fetch_url.empty()) {
      Fetch(resp, out);
      return;
    }
    out.status = resp.status;
    out.set_content(resp.body, resp.content_type.c_str());
  };
  httplib::Server& s = impl_->server;
  s.Get(".*", serve);
  s.Post(".*", serve);
  s.Put(".*", serve);
  s.Delete(".*", serve);
  s.Patch(".*", serve);
  s.set_payload_max_length(size_t{2} << 20);  // the API answers 413 past 1 MiB itself
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::ServeFiles(std::map<std::string, StaticFile> files, std::string index) {
  impl_->files = std::move(files);
  impl_->index = std::move(index);
}

StatusOr<int> HttpServer::Bind(const std::string& host, int port) { return BindHttplib(impl_->server, host, port); }

Status HttpServer::Serve() {
  if (!impl_->server.listen_after_bind()) return absl::UnavailableError("the HTTP server stopped with an error");
  return Status();
}

void HttpServer::Stop() {
  if (impl_ && impl_->server.is_running()) impl_->server.stop();
}

bool HttpServer::running() const { return impl_->server.is_running(); }

}  // namespace stargate::control
