// HttpServer with a handler of plain values: requests reach it with their
// query and lower-cased headers, static files and the / redirect come
// before it, a fetch_url answer is fetched from elsewhere, and CallServer
// says which URL it could not reach.
#include "control/net/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include <fmt/format.h>

#include "control/net/http_client.h"

namespace stargate::control {
namespace {

// A server on a free loopback port, serving until destroyed.
class Running {
 public:
  explicit Running(HttpHandler handler, std::map<std::string, StaticFile> files = {}, std::string index = "")
      : server_(std::move(handler)) {
    if (!files.empty()) server_.ServeFiles(std::move(files), std::move(index));
    port_ = server_.Bind("127.0.0.1", 0).value();
    thread_ = std::thread([this] { EXPECT_TRUE(server_.Serve().ok()); });
    while (!server_.running()) std::this_thread::yield();
  }
  ~Running() {
    server_.Stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  int port() const { return port_; }

 private:
  HttpServer server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(HttpServer, HandsTheHandlerPlainValuesAndServesFilesFirst) {
  HttpRequest seen;
  Running s(
      [&](const HttpRequest& req) {
        seen = req;
        HttpResponse out(418, R"({"ok": true})");
        return out;
      },
      {{"/ui/", StaticFile{"text/html; charset=utf-8", "<html>hi</html>"}}}, "/ui/");
  StatusOr<HttpResponse> r = CallServer(s.url(), "POST", "/v1/things?state=x", "body!", {{"X-Custom", "Kept"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 418);
  EXPECT_EQ(r->body, R"({"ok": true})");
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/v1/things");
  EXPECT_EQ(seen.query.at("state"), "x");
  EXPECT_EQ(seen.headers.at("x-custom"), "Kept");
  EXPECT_EQ(seen.body, "body!");

  httplib::Client c("127.0.0.1", s.port());
  httplib::Result page = c.Get("/ui/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<html>hi</html>");
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  httplib::Result root = c.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/ui/");
}

// The handler may answer "fetch this instead" (a task log on its node):
// the server fetches it with the given headers after the handler returned.
TEST(HttpServer, FetchesWhatTheHandlerPointsAt) {
  Running logs([](const HttpRequest& req) {
    if (req.headers.count("authorization") == 0 || req.headers.at("authorization") != "Bearer t0k") {
      return HttpResponse(401, "{}");
    }
    HttpResponse out(200, "line 1\n");
    return out;
  });
  std::string target = logs.url() + "/logs/job-1-attempt-1.log?offset=0";
  Running api([&](const HttpRequest&) {
    HttpResponse out;
    out.fetch_url = target;
    out.fetch_headers["Authorization"] = "Bearer t0k";
    return out;
  });
  StatusOr<HttpResponse> r = CallServer(api.url(), "GET", "/v1/jobs/1/logs/0");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "line 1\n");
  target = "http://127.0.0.1:1/nothing";  // nobody listens there
  r = CallServer(api.url(), "GET", "/v1/jobs/1/logs/0");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("does not answer"), std::string::npos) << r->body;
}

TEST(CallServer, NamesTheUrlItCannotReach) {
  StatusOr<HttpResponse> r = CallServer("http://127.0.0.1:1", "GET", "/v1/health");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(r.status().message()).find("http://127.0.0.1:1"), std::string::npos);
  EXPECT_EQ(CallServer("http://127.0.0.1:1", "DELETE", "/x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stargate::control
