#include "control/http_server.h"

#include <cstdlib>

#include <httplib.h>

#include "control/httplib_bind.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
    out.set_content(ErrorJson("unavailable", fmt::format("the node's log server does not answer: {}",
                                                          httplib::to_string(r.error()))),
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
  RestApi* api;
  httplib::Server server;
  struct File {
    std::string content_type, body;
  };
  std::map<std::string, File> files;  // the dashboard, by URL path (set before serving)
};

HttpServer::HttpServer(RestApi* api) : impl_(std::make_unique<Impl>()) {
  impl_->api = api;
  auto handler = [this](const httplib::Request& in, httplib::Response& out) {
    if (in.method == "GET") {
      if (auto f = impl_->files.find(in.path); f != impl_->files.end()) {
        out.set_content(f->second.body, f->second.content_type.c_str());
        return;
      }
      if (in.path == "/" && !impl_->files.empty()) {
        out.set_redirect("/ui/");
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
    const HttpResponse resp = impl_->api->Handle(req);
    if (!resp.fetch_url.empty()) {
      Fetch(resp, out);
      return;
    }
    out.status = resp.status;
    out.set_content(resp.body, resp.content_type.c_str());
  };
  httplib::Server& s = impl_->server;
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  s.Patch(".*", handler);
  s.set_payload_max_length(size_t{2} << 20);  // the API answers 413 past 1 MiB itself
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::ServeDashboard(const std::string& web_dir) {
  const std::pair<const char*, const char*> kFiles[] = {
      {"/ui/", "index.html"},
      {"/ui/app.js", "app.js"},
      {"/ui/style.css", "style.css"},
      {"/ui/vendor/preact/preact.module.js", "node_modules/preact/dist/preact.module.js"},
      {"/ui/vendor/preact-hooks/hooks.module.js", "node_modules/preact/hooks/dist/hooks.module.js"},
      {"/ui/vendor/htm/htm.module.js", "node_modules/htm/dist/htm.module.js"},
  };
  std::map<std::string, Impl::File> files;
  for (const auto& [url, rel] : kFiles) {
    const std::string path = web_dir + "/" + rel;
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(fmt::format("dashboard: cannot read {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string name(rel);
    const char* type = name.ends_with(".js")    ? "text/javascript; charset=utf-8"
                       : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                : "text/html; charset=utf-8";
    files[url] = {type, ss.str()};
  }
  files["/ui/index.html"] = files["/ui/"];
  impl_->files = std::move(files);
  return Status();
}

StatusOr<int> HttpServer::Bind(const std::string& host, int port) {
  return BindHttplib(impl_->server, host, port);
}

Status HttpServer::Serve() {
  if (!impl_->server.listen_after_bind()) return absl::UnavailableError("the HTTP server stopped with an error");
  return Status();
}

void HttpServer::Stop() {
  if (impl_ && impl_->server.is_running()) impl_->server.stop();
}

StatusOr<HttpResponse> CallServer(const std::string& base_url, const std::string& method, const std::string& path,
                                  const std::string& body, const std::map<std::string, std::string>& headers) {
  httplib::Client client(base_url);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  // The CLI's credentials: $STARGATE_TOKEN, unless the caller gave its own.
  if (const char* token = std::getenv("STARGATE_TOKEN"); token != nullptr && *token != '\0' &&
      !headers.count("Authorization")) {
    h.emplace("Authorization", std::string("Bearer ") + token);
  }
  if (method != "GET" && method != "POST") {
    return absl::InvalidArgumentError(fmt::format("unsupported method {}", method));
  }
  httplib::Result r = method == "GET" ? client.Get(path, h) : client.Post(path, h, body, "application/yaml");
  if (!r) {
    return absl::UnavailableError(
        fmt::format("cannot reach the server at {}: {}", base_url, httplib::to_string(r.error())));
  }
  return HttpResponse{r->status, r->body};
}

}  // namespace stargate::control
