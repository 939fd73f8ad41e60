// The REST API as a request handler: routes, status codes, JSON bodies,
// and that bad input changes nothing.
#include "control/rest_api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/memory_store.h"

namespace stargate::control {
namespace {

using nlohmann::json;

constexpr char kSpec[] = "name: hello\nresources: {accelerators: H100:8, nodes: 2}\nrun: echo hi\n";

class RestApiTest : public ::testing::Test {
 protected:
  HttpResponse Call(std::string method, std::string path, std::string body = "",
                    std::map<std::string, std::string> headers = {}) {
    HttpRequest req;
    req.method = std::move(method);
    const size_t q = path.find('?');
    if (q != std::string::npos) {
      const std::string query = path.substr(q + 1);
      const size_t eq = query.find('=');
      req.query[query.substr(0, eq)] = query.substr(eq + 1);
      path.resize(q);
    }
    req.path = std::move(path);
    req.body = std::move(body);
    req.headers = std::move(headers);
    return api_.Handle(req);
  }
  MemoryStore store_;
  ControlPlane cp_{&store_, [] { return int64_t{1'700'000'000'000}; }, sched::MakeScheduler("fifo").value(), "/data",
                   5000};
  RestApi api_{&cp_};
};

TEST_F(RestApiTest, SubmitListShowCancel) {
  HttpResponse r = Call("POST", "/v1/jobs", kSpec, {{"idempotency-key", "k"}, {"x-filename", "hello.yaml"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json job = json::parse(r.body)["job"];
  EXPECT_EQ(job["id"], 1);
  EXPECT_EQ(job["state"], "pending");
  EXPECT_EQ(job["nodes"], 2);
  EXPECT_EQ(job["per_node"], 8);
  EXPECT_EQ(job["accelerators"], json::array({"H100"}));
  EXPECT_EQ(Call("POST", "/v1/jobs", kSpec, {{"idempotency-key", "k"}}).status, 200);  // replay
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs").body)["jobs"].size(), 1u);
  const json shown = json::parse(Call("GET", "/v1/jobs/1").body)["job"];
  EXPECT_EQ(shown["spec"], kSpec);
  r = Call("POST", "/v1/jobs/1/cancel");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["job"]["state"], "cancelled");
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs?state=pending").body)["jobs"].size(), 0u);
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs?state=cancelled").body)["jobs"].size(), 1u);
  r = Call("GET", "/v1/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["status"], "ok");
}

TEST_F(RestApiTest, BadInputIs4xxWithAJsonErrorAndChangesNothing) {
  ASSERT_EQ(Call("POST", "/v1/jobs", kSpec).status, 201);
  const int64_t before = store_.Revision().value();
  HttpResponse r = Call("POST", "/v1/jobs", "name: x\nrun: y\nresources: {nodes: 0}\n", {{"x-filename", "bad.yaml"}});
  EXPECT_EQ(r.status, 400);
  const json err = json::parse(r.body)["error"];
  EXPECT_EQ(err["code"], "invalid_argument");
  EXPECT_EQ(err["field"], "resources.nodes");
  EXPECT_EQ(err["message"], "bad.yaml:3:20: resources.nodes: must be in [1, 100000] (got 0)");
  EXPECT_EQ(Call("POST", "/v1/jobs", "\x01\x02: [").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs", std::string(2 << 20, 'a')).status, 413);
  EXPECT_EQ(Call("POST", "/v1/jobs", kSpec, {{"idempotency-key", std::string(300, 'k')}}).status, 400);
  EXPECT_EQ(Call("GET", "/v1/jobs/7").status, 404);
  EXPECT_EQ(Call("GET", "/v1/jobs/x1").status, 404);
  EXPECT_EQ(Call("GET", "/v1/jobs/").status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/jobs").status, 405);
  EXPECT_EQ(Call("GET", "/v1/jobs/1/cancel").status, 405);
  EXPECT_EQ(Call("GET", "/v2/anything").status, 404);
  EXPECT_EQ(Call("GET", "/v1/jobs?state=done").status, 400);
  EXPECT_EQ(store_.Revision().value(), before);
  // Cancelling twice is idempotent.
  ASSERT_EQ(Call("POST", "/v1/jobs/1/cancel").status, 200);
  EXPECT_EQ(Call("POST", "/v1/jobs/1/cancel").status, 200);
}

}  // namespace
}  // namespace stargate::control
