// HttpServer with a handler of plain values: requests reach it with their
// query and lower-cased headers, static files and the / redirect come
// before it, a fetch_url answer is fetched from elsewhere, and CallServer
// says which URL it could not reach.
#include "control/net/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "control/net/http_client.h"
#include "runtime/manual_clock.h"
#include "runtime/real_clock.h"

namespace stargate::control {
namespace {

// A server on a free loopback port, serving until destroyed.
class Running {
 public:
  explicit Running(HttpHandler handler, std::map<std::string, StaticFile> files = {}, std::string index = "",
                   HttpServerOptions options = {}, const Clock* clock = nullptr)
      : server_(std::move(handler), clock != nullptr ? clock : &real_, std::move(options)) {
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
  const HttpServer& server() const { return server_; }

 private:
  RealClock real_;
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

// A raw client socket on loopback, for what a polite client never sends.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{5, 0};  // a test that waits longer than this has failed
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // Everything until the server closes (or `until` appears, or 5 s pass).
  std::string Read(const std::string& until = "") {
    std::string got;
    char buf[4096];
    for (;;) {
      if (!until.empty() && got.find(until) != std::string::npos) return got;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

HttpResponse Echo(const HttpRequest& req) {
  return HttpResponse(200, fmt::format(R"({{"path":"{}","body":{}}})", req.path, req.body.size()));
}

// Idle connections and clients that send their headers a byte at a time
// hold no worker: with one worker and hundreds of them open, a new
// request is answered at once.
TEST(HttpServer, IdleAndSlowClientsDoNotStallOthers) {
  HttpServerOptions o;
  o.workers = 1;
  Running s(Echo, {}, "", o);
  std::vector<std::unique_ptr<RawClient>> idle, slow;
  for (int i = 0; i < 300; ++i) idle.push_back(std::make_unique<RawClient>(s.port()));
  for (int i = 0; i < 30; ++i) {
    slow.push_back(std::make_unique<RawClient>(s.port()));
    slow.back()->Send("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  const auto start = std::chrono::steady_clock::now();
  StatusOr<HttpResponse> r = CallServer(s.url(), "GET", "/v1/health");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_GE(s.server().connections(), 330u);
}

// Deadlines run on the injected clock: a request that has not arrived
// whole by the read timeout gets a 408 and the connection closes; an idle
// one closes after the idle timeout.
TEST(HttpServer, ClosesLateRequestsAndIdleConnections) {
  ManualClock clock;
  HttpServerOptions o;
  o.read_timeout = Duration::Seconds(10);
  o.idle_timeout = Duration::Seconds(60);
  Running s(Echo, {}, "", o, &clock);
  RawClient partial(s.port()), idle(s.port());
  partial.Send("GET / HTTP/1.1\r\nHost");
  while (s.server().connections() < 2) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both reads seen
  clock.Advance(Duration::Seconds(11));
  const std::string got = partial.Read();
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408")) << got;
  EXPECT_NE(got.find(R"("code":"timeout")"), std::string::npos) << got;
  // The count drops just after the socket closes (the loop's next step).
  for (int i = 0; i < 500 && s.server().connections() != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(s.server().connections(), 1u);
  clock.Advance(Duration::Seconds(60));
  EXPECT_EQ(idle.Read(), "");  // closed without a word
}

TEST(HttpServer, BoundsConnectionsPerClient) {
  HttpServerOptions o;
  o.max_per_client = 3;
  Running s(Echo, {}, "", o);
  RawClient a(s.port()), b(s.port()), c(s.port());
  while (s.server().connections() < 3) std::this_thread::yield();
  RawClient d(s.port());
  const std::string got = d.Read();
  EXPECT_TRUE(got.starts_with("HTTP/1.1 503")) << got;
  EXPECT_NE(got.find("too many connections from this address"), std::string::npos) << got;
  a.Send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_TRUE(a.Read("}").starts_with("HTTP/1.1 200"));
}

// What the server refuses itself has a JSON body too.
TEST(HttpServer, RefusesOversizedAndMalformedRequestsWithJson) {
  Running s(Echo);
  auto answer = [&](const std::string& bytes) {
    RawClient c(s.port());
    c.Send(bytes);
    return c.Read();
  };
  std::string got = answer("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 414")) << got.substr(0, 80);
  EXPECT_NE(got.find(R"({"error":{"code":"uri_too_long")"), std::string::npos);
  got = answer("GET / HTTP/1.1\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 431")) << got.substr(0, 80);
  got = answer("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 413")) << got.substr(0, 80);
  EXPECT_NE(got.find(R"("code":"too_large")"), std::string::npos);
  got = answer("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 411")) << got.substr(0, 80);
  got = answer("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got.substr(0, 80);
  got = answer("GET / HTTP/2.0\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 505")) << got.substr(0, 80);
}

// Two requests in one write get two answers in order; Expect:
// 100-continue gets its interim answer before the body is sent.
TEST(HttpServer, PipelinesAndContinues) {
  Running s(Echo);
  RawClient c(s.port());
  c.Send("GET /one HTTP/1.1\r\nHost: h\r\n\r\nPOST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
  const std::string both = c.Read(R"("body":3})");
  const size_t one = both.find(R"("path":"/one")"), two = both.find(R"("path":"/two")");
  ASSERT_NE(one, std::string::npos) << both;
  ASSERT_NE(two, std::string::npos) << both;
  EXPECT_LT(one, two);
  RawClient e(s.port());
  e.Send("POST /big HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(e.Read("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  e.Send("hello");
  EXPECT_NE(e.Read(R"("body":5})").find("HTTP/1.1 200"), std::string::npos);
}

// One server per port: no SO_REUSEPORT sharing.
TEST(HttpServer, ASecondBindOnTheSamePortFails) {
  Running s(Echo);
  RealClock clock;
  HttpServer second(Echo, &clock);
  StatusOr<int> bound = second.Bind("127.0.0.1", s.port());
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(std::string(bound.status().message()).find("address in use"), std::string::npos) << bound.status();
}

TEST(CallServer, NamesTheUrlItCannotReach) {
  StatusOr<HttpResponse> r = CallServer("http://127.0.0.1:1", "GET", "/v1/health");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(r.status().message()).find("http://127.0.0.1:1"), std::string::npos);
  EXPECT_EQ(CallServer("http://127.0.0.1:1", "PATCH", "/x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stargate::control
