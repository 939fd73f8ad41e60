// The serving router on loopback with in-process replicas: routing by the
// caller's region, retry on a replica that does not answer (or answers
// 503), what is forwarded, and 503 when no replica is left.
#include "control/serve/serve_router.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <thread>

#include "runtime/real_clock.h"

namespace stargate::control {
namespace {

// The routers' and the endpoints' clock.
RealClock& TestClock() {
  static RealClock clock;
  return clock;
}

// A replica answering its name (or `status` when set) on every path.
class FakeReplica {
 public:
  explicit FakeReplica(std::string name, int status = 200) : name_(std::move(name)), status_(status) {
    server_.Get(".*", [this](const httplib::Request& in, httplib::Response& out) { Answer(in, out); });
    server_.Post(".*", [this](const httplib::Request& in, httplib::Response& out) { Answer(in, out); });
    server_.set_keep_alive_timeout(1);  // Stop() waits for the router's idle connection this long
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeReplica() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string last_target, last_body, last_custom_header, last_file;

 private:
  void Answer(const httplib::Request& in, httplib::Response& out) {
    last_target = in.target;
    last_body = in.body;
    last_custom_header = in.get_header_value("X-Custom");
    last_file =
        in.has_file("image") ? in.get_file_value("image").filename + ":" + in.get_file_value("image").content : "";
    out.status = in.path == "/missing" ? 404 : status_;
    out.set_header("X-From", name_);
    out.set_content(name_, "text/plain");
  }
  std::string name_;
  int status_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

ReplicaEndpoint Endpoint(const std::string& name, int port, double near_ms, double far_ms) {
  ReplicaEndpoint e;
  e.name = name;
  e.host = "127.0.0.1";
  e.port = port;
  e.network_by_region = {{"near-a", Duration::Micros(static_cast<int64_t>(near_ms * 1000))},
                         {"near-b", Duration::Micros(static_cast<int64_t>(far_ms * 1000))}};
  e.routable = true;
  e.healthy_at = TestClock().Now();
  return e;
}

class ServeRouterTest : public ::testing::Test {
 protected:
  void Start(RouterOptions options) {
    router_ = std::make_unique<ServeRouter>(options, &TestClock());
    port_ = router_->Bind("127.0.0.1", 0).value();
    thread_ = std::thread([this] { ASSERT_TRUE(router_->Serve().ok()); });
    for (int i = 0; i < 100; ++i) {  // until it answers
      httplib::Client c("127.0.0.1", port_);
      if (c.Get("/_stargate/replicas")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void TearDown() override {
    if (router_) router_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Result Post(const std::string& target, const std::string& region = "") {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h = {{"X-Custom", "kept"}};
    if (!region.empty()) h.emplace("X-Stargate-Region", region);
    return c.Post(target.c_str(), h, "body!", "text/plain");
  }
  const ReplicaStats& StatsOf(const std::string& name) {
    stats_ = router_->Stats();
    for (const ReplicaStats& s : stats_) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << "no replica " << name;
    return stats_.front();
  }

  std::unique_ptr<ServeRouter> router_;
  int port_ = 0;
  std::thread thread_;
  std::vector<ReplicaStats> stats_;
};

TEST_F(ServeRouterTest, RoutesEachCallerToTheNearReplicaAndForwardsTheRequestAsIs) {
  FakeReplica a("a"), b("b");
  Start(RouterOptions{.region = "near-a"});
  router_->SetReplicas({Endpoint("svc-r0", a.port(), 1, 80), Endpoint("svc-r1", b.port(), 80, 1)});
  auto r = Post("/v1/predict?x=1&y=2", "near-b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "b");
  EXPECT_EQ(r->get_header_value("X-Stargate-Replica"), "svc-r1");
  EXPECT_EQ(r->get_header_value("X-From"), "b");  // the replica's own headers come back
  EXPECT_EQ(b.last_target, "/v1/predict?x=1&y=2");
  EXPECT_EQ(b.last_body, "body!");
  EXPECT_EQ(b.last_custom_header, "kept");
  r = Post("/v1/predict");  // no header: the router's region
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "a");
  r = Post("/missing", "near-a");  // the replica's 404 is an answer, not a failure
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(StatsOf("svc-r0").served, 2u);
  EXPECT_EQ(StatsOf("svc-r0").failed, 0u);
  EXPECT_EQ(router_->answered(), 3u);
}

TEST_F(ServeRouterTest, ADeadReplicaIsRetriedOnTheNextAndGetsNoTrafficUntilAHealthCheckAfterwards) {
  FakeReplica a("a"), b("b");
  Start(RouterOptions{.region = "near-a"});
  const ReplicaEndpoint ea = Endpoint("svc-r0", a.port(), 1, 80);
  router_->SetReplicas({ea, Endpoint("svc-r1", b.port(), 80, 1)});
  ASSERT_EQ(Post("/p")->body, "a");  // a kept-alive connection to a now exists
  a.Stop();
  auto r = Post("/p");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "b");
  EXPECT_EQ(StatsOf("svc-r0").failed, 1u);
  EXPECT_FALSE(StatsOf("svc-r0").routable);
  // The controller passes the same (older) health check again: still out.
  router_->SetReplicas({ea, Endpoint("svc-r1", b.port(), 80, 1)});
  EXPECT_FALSE(StatsOf("svc-r0").routable);
  EXPECT_EQ(Post("/p")->body, "b");
  EXPECT_EQ(StatsOf("svc-r0").failed, 1u);  // not tried again
  // A check after the failure lets it back in.
  router_->SetReplicas({Endpoint("svc-r0", a.port(), 1, 80), Endpoint("svc-r1", b.port(), 80, 1)});
  EXPECT_TRUE(StatsOf("svc-r0").routable);
  EXPECT_EQ(router_->given_up(), 0u);
}

TEST_F(ServeRouterTest, MultipartUploadsAndCompressedAnswersArriveIntact) {
  FakeReplica a("a");
  Start(RouterOptions{.region = "near-a"});
  router_->SetReplicas({Endpoint("svc-r0", a.port(), 1, 80)});
  httplib::Client c("127.0.0.1", port_);
  const httplib::MultipartFormDataItems items = {{"image", std::string("\x89PNG\0data", 9), "cat.png", "image/png"},
                                                 {"note", "hi", "", ""}};
  auto r = c.Post("/v1/classify", items);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(a.last_file, std::string("cat.png:\x89PNG\0data", 17));
  // A caller accepting gzip gets the replica's body, decoded by its client.
  auto g = c.Get("/p", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->body, "a");
}

TEST_F(ServeRouterTest, AReplicaAnswering503IsRetriedOnAnother) {
  FakeReplica busy("busy", 503), ok("ok");
  Start(RouterOptions{.region = "near-a"});
  router_->SetReplicas({Endpoint("svc-r0", busy.port(), 1, 80), Endpoint("svc-r1", ok.port(), 80, 1)});
  auto r = Post("/p");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
}

TEST_F(ServeRouterTest, NoRoutableReplicaIs503WithAJsonErrorAfterTheWait) {
  RouterOptions o;
  o.wait_for_replica = Duration::Millis(100);
  Start(o);
  auto r = Post("/p");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("\"error\""), std::string::npos);
  EXPECT_EQ(router_->given_up(), 1u);
  // Every replica failing: 503 as well, after trying each once.
  FakeReplica a("a");
  const int dead_port = a.port();
  a.Stop();
  router_->SetReplicas({Endpoint("svc-r0", dead_port, 1, 80)});
  r = Post("/p");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("svc-r0 did not answer"), std::string::npos);
}

TEST_F(ServeRouterTest, OwnRoutesAndMetrics) {
  FakeReplica a("a");
  Start(RouterOptions{.region = "near-a"});
  router_->SetReplicas({Endpoint("svc-r0", a.port(), 1, 80)});
  ASSERT_EQ(Post("/p")->status, 200);
  httplib::Client c("127.0.0.1", port_);
  auto m = c.Get("/_stargate/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("stargate_serve_requests_total 1\n"), std::string::npos);
  EXPECT_NE(m->body.find("stargate_serve_replica_routable{replica=\"svc-r0\"} 1\n"), std::string::npos);
  EXPECT_NE(m->body.find("stargate_serve_request_seconds_count 1\n"), std::string::npos);
  auto j = c.Get("/_stargate/replicas");
  ASSERT_TRUE(j);
  EXPECT_NE(j->body.find("\"name\":\"svc-r0\""), std::string::npos);
  EXPECT_EQ(c.Get("/_stargate/nothing")->status, 404);
  EXPECT_GE(router_->TakeMeanInflight(), 0.0);
}

}  // namespace
}  // namespace stargate::control
