// The REST API as a request handler: routes, status codes, JSON bodies,
// and that bad input changes nothing.
#include "control/server/rest_api.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>

#include "rest_api_fixture.h"

namespace stargate::control {
namespace {

using nlohmann::json;

constexpr char kSpec[] = "name: hello\nresources: {accelerators: H100:8, nodes: 2}\nrun: echo hi\n";

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

// An Idempotency-Key is its tenant's: another tenant's same key makes a
// new job, and the same key with another job file is 409. The submit's
// audit entry is in the store with the job.
TEST_F(RestApiTest, IdempotencyKeysArePerTenantAndBoundToTheBody) {
  const std::string a = "name: a\ntenant: ml\nrun: x\n", b = "name: b\ntenant: vision\nrun: x\n";
  ASSERT_EQ(Call("POST", "/v1/jobs", a, {{"idempotency-key", "k1"}}).status, 201);
  const HttpResponse other = Call("POST", "/v1/jobs", b, {{"idempotency-key", "k1"}});
  ASSERT_EQ(other.status, 201) << other.body;
  EXPECT_EQ(json::parse(other.body)["job"]["tenant"], "vision");
  EXPECT_EQ(Call("POST", "/v1/jobs", a, {{"idempotency-key", "k1"}}).status, 200);
  const int64_t before = store_.Revision().value();
  const HttpResponse changed = Call("POST", "/v1/jobs", a + "priority: 5\n", {{"idempotency-key", "k1"}});
  EXPECT_EQ(changed.status, 409) << changed.body;
  EXPECT_EQ(json::parse(changed.body)["error"]["code"], "conflict");
  EXPECT_EQ(store_.Revision().value(), before);
  const HttpResponse audit = Call("GET", "/v1/audit?action=submit");
  EXPECT_EQ(json::parse(audit.body)["entries"].size(), 2u) << audit.body;
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
  // Control characters in names, tenants, commands and env values.
  EXPECT_EQ(Call("POST", "/v1/jobs", "name: x\ntenant: \"a\\x01b\"\nrun: y\n").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs", "name: x\ntenant: a/b\nrun: y\n").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs", "name: x\nrun: \"echo \\0 \\e[2J\"\n").status, 400);
  r = Call("POST", "/v1/jobs", "name: x\nrun: y\nenv: {A: \"1\\n2\"}\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "env.A");
  r = Call("POST", "/v1/jobs", "name: x\nrun: y\ncheckpoint: {dir: ../other-tenant/ckpt}\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "checkpoint.dir");
  EXPECT_EQ(Call("POST", "/v1/jobs", "name: x\nrun: y\ncheckpoint: {dir: /data/checkpoints/ml}\n").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs", kSpec, {{"idempotency-key", "a\x01b"}}).status, 400);
  EXPECT_EQ(store_.Revision().value(), before);
  // Cancelling twice is idempotent.
  ASSERT_EQ(Call("POST", "/v1/jobs/1/cancel").status, 200);
  EXPECT_EQ(Call("POST", "/v1/jobs/1/cancel").status, 200);
}

// Tokens: 401 without one, 404 for another tenant's jobs, 403 for a viewer's
// write, and neither changes anything; the audit log records who did what.
constexpr char kTokens[] = R"(tokens:
  - {token: admin-token-0123456789, name: ops, role: admin}
  - {token: alice-token-0123456789, name: alice, role: user, tenant: ml}
  - {token: bob-token-01234567890, name: bob, role: user, tenant: vision}
  - {token: view-token-0123456789, name: grafana, role: viewer}
)";

TEST_F(RestApiTest, TokensRolesTenantsAndTheAuditLog) {
  const AccessList access = AccessList::Parse(kTokens, "tokens.yaml").value();
  access_ = &access;
  auto as = [](const std::string& token) {
    return std::map<std::string, std::string>{{"authorization", "Bearer " + token}};
  };
  const std::string ml = "name: a\ntenant: ml\nrun: x\n";
  EXPECT_EQ(Call("GET", "/v1/health").status, 200);  // probes need no token
  EXPECT_EQ(Call("GET", "/v1/jobs").status, 401);
  EXPECT_EQ(Call("POST", "/v1/jobs", ml, {{"authorization", "Bearer wrong-token-0123456789"}}).status, 401);
  EXPECT_EQ(Call("POST", "/v1/jobs", ml, as("bob-token-01234567890")).status, 403);  // not bob's tenant
  EXPECT_EQ(Call("POST", "/v1/jobs", ml, as("view-token-0123456789")).status, 403);  // viewers read only
  ASSERT_EQ(Call("POST", "/v1/jobs", ml, as("alice-token-0123456789")).status, 201);
  ASSERT_EQ(Call("POST", "/v1/jobs", "name: b\ntenant: vision\nrun: x\n", as("bob-token-01234567890")).status, 201);
  // Each user sees and cancels only their tenant's jobs.
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs", "", as("alice-token-0123456789")).body)["jobs"].size(), 1u);
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs", "", as("view-token-0123456789")).body)["jobs"].size(), 2u);
  // Another tenant's job is as good as absent: 404, like a job that never was.
  EXPECT_EQ(Call("GET", "/v1/jobs/2", "", as("alice-token-0123456789")).status, 404);
  EXPECT_EQ(Call("POST", "/v1/jobs/2/cancel", "", as("alice-token-0123456789")).status, 404);
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs/2", "", as("alice-token-0123456789")).body)["error"]["message"],
            "no job 2");
  EXPECT_EQ(Call("POST", "/v1/jobs/1/cancel", "", as("view-token-0123456789")).status, 403);
  EXPECT_EQ(cp().Job(2).value().state, JobState::kPending);  // refused: unchanged
  EXPECT_EQ(Call("POST", "/v1/jobs/2/cancel", "", as("admin-token-0123456789")).status, 200);
  // The audit log: admins and all-tenant viewers only.
  EXPECT_EQ(Call("GET", "/v1/audit", "", as("alice-token-0123456789")).status, 403);
  const HttpResponse audit = Call("GET", "/v1/audit", "", as("view-token-0123456789"));
  ASSERT_EQ(audit.status, 200) << audit.body;
  const json entries = json::parse(audit.body)["entries"];
  ASSERT_EQ(entries.size(), 3u) << audit.body;  // two submits and the admin's cancel
  EXPECT_EQ(entries[0]["actor"], "alice");
  EXPECT_EQ(entries[0]["action"], "submit");
  EXPECT_EQ(entries[2]["actor"], "ops");
  EXPECT_EQ(entries[2]["action"], "cancel");
  EXPECT_EQ(entries[2]["job"], 2);
  const json mine = json::parse(Call("GET", "/v1/audit?job=1", "", as("admin-token-0123456789")).body)["entries"];
  EXPECT_EQ(mine.size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/audit?limit=0", "", as("admin-token-0123456789")).status, 400);
  // Reloading the sites file is for admins (this server has none: 409).
  EXPECT_EQ(Call("POST", "/v1/sites/reload", "", as("alice-token-0123456789")).status, 403);
  EXPECT_EQ(Call("POST", "/v1/sites/reload", "", as("view-token-0123456789")).status, 403);
  EXPECT_EQ(Call("POST", "/v1/sites/reload", "", as("admin-token-0123456789")).status, 409);
  EXPECT_EQ(Call("GET", "/v1/sites/reload", "", as("admin-token-0123456789")).status, 405);
}

// An array is one submit: N jobs with consecutive ids, each its index;
// shown, listed, counted and cancelled as a group; a retry with its key
// makes nothing new.
TEST_F(RestApiTest, JobArrays) {
  const std::string file = "name: sweep\ntenant: ml\narray: 0-9:3\nrun: x\n";
  HttpResponse r = Call("POST", "/v1/jobs", file, {{"idempotency-key", "a1"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json a = json::parse(r.body)["array"];
  EXPECT_EQ(a["id"], 1);
  EXPECT_EQ(a["size"], 4);  // 0, 3, 6, 9
  EXPECT_EQ(a["first_job"], 1);
  EXPECT_EQ(a["last_job"], 4);
  EXPECT_EQ(Call("POST", "/v1/jobs", file, {{"idempotency-key", "a1"}}).status, 200);  // replay: nothing new
  // --array in place of the file's (a query), and a plain job after.
  r = Call("POST", "/v1/jobs?array=3", "name: b\ntenant: ml\nrun: x\n");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["array"]["id"], 5);
  ASSERT_EQ(Call("POST", "/v1/jobs", "name: c\ntenant: ml\nrun: x\n").status, 201);
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs").body)["jobs"].size(), 8u);
  const json elements = json::parse(Call("GET", "/v1/jobs?array=1").body)["jobs"];
  ASSERT_EQ(elements.size(), 4u);
  EXPECT_EQ(elements[2]["array"], json({{"id", 1}, {"index", 6}, {"size", 4}}));
  EXPECT_EQ(Call("GET", "/v1/jobs?array=x").status, 400);
  EXPECT_EQ(Call("GET", "/v1/jobs?array=8").status, 404);  // a job, not an array
  // The element's tasks learn their index (Slurm's names too).
  const std::map<std::string, std::string> env =
      Reconciler(nullptr, nullptr, nullptr, "/d", &clock_).TaskEnv(cp().Job(3).value(), 0);
  EXPECT_EQ(env.at("STARGATE_ARRAY_INDEX"), "6");
  EXPECT_EQ(env.at("STARGATE_ARRAY_ID"), "1");
  EXPECT_EQ(env.at("SLURM_ARRAY_TASK_ID"), "6");
  EXPECT_EQ(env.at("SLURM_ARRAY_JOB_ID"), "1");
  EXPECT_EQ(env.at("SLURM_ARRAY_TASK_COUNT"), "4");
  EXPECT_EQ(env.at("SLURM_ARRAY_TASK_MAX"), "9");
  EXPECT_EQ(Reconciler(nullptr, nullptr, nullptr, "/d", &clock_)
                .TaskEnv(cp().Job(8).value(), 0)
                .count("STARGATE_ARRAY_INDEX"),
            0u);
  // One element cancelled alone, then the rest as a group.
  ASSERT_EQ(Call("POST", "/v1/jobs/2/cancel").status, 200);
  r = Call("GET", "/v1/arrays/1");
  ASSERT_EQ(r.status, 200) << r.body;
  a = json::parse(r.body)["array"];
  EXPECT_EQ(a["states"]["pending"], 3);
  EXPECT_EQ(a["states"]["cancelled"], 1);
  EXPECT_EQ(a["ended"], false);
  EXPECT_EQ(a["name"], "sweep");
  r = Call("POST", "/v1/arrays/1/cancel");
  ASSERT_EQ(r.status, 200) << r.body;
  a = json::parse(r.body)["array"];
  EXPECT_EQ(a["states"]["cancelled"], 4);
  EXPECT_EQ(a["ended"], true);
  EXPECT_EQ(cp().Job(5).value().state, JobState::kPending);  // another array: untouched
  EXPECT_EQ(Call("GET", "/v1/arrays/8").status, 404);
  EXPECT_EQ(Call("GET", "/v1/arrays/1/cancel").status, 405);
  EXPECT_EQ(Call("POST", "/v1/arrays/1").status, 405);
  // Bad arrays: 400 naming the field, nothing stored.
  const int64_t before = store_.Revision().value();
  r = Call("POST", "/v1/jobs", "name: x\narray: 5-1\nrun: x\n", {{"x-filename", "bad.yaml"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "array");
  EXPECT_EQ(Call("POST", "/v1/jobs?array=0-100000", "name: x\nrun: x\n").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs?array=2,1", "name: x\nrun: x\n").status, 400);
  // A big file times many jobs would fill the store: refused.
  EXPECT_EQ(Call("POST", "/v1/jobs?array=100000", "name: x\nrun: x\nenv: {A: " + std::string(4000, 'a') + "}\n").status,
            400);
  EXPECT_EQ(store_.Revision().value(), before);
}

// Many job files in one request and one transaction: all stored, or none.
TEST_F(RestApiTest, BulkSubmit) {
  auto bulk = [](const json& jobs) { return json{{"jobs", jobs}}.dump(); };
  const json two = json::array({{{"file", "name: a\nrun: x\n"}, {"idempotency_key", "b1"}},
                                {{"file", "name: b\nrun: x\n"}, {"filename", "b.yaml"}, {"array", "3"}}});
  HttpResponse r = Call("POST", "/v1/jobs/bulk", bulk(two));
  ASSERT_EQ(r.status, 201) << r.body;
  json results = json::parse(r.body)["results"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["job"]["id"], 1);
  EXPECT_EQ(results[0]["created"], true);
  EXPECT_EQ(results[1]["array"]["size"], 3);
  EXPECT_EQ(results[1]["array"]["first_job"], 2);
  EXPECT_EQ(json::parse(Call("GET", "/v1/jobs").body)["jobs"].size(), 4u);
  const HttpResponse audit = Call("GET", "/v1/audit?action=submit");
  EXPECT_EQ(json::parse(audit.body)["entries"].size(), 2u) << audit.body;  // one per submission
  // A replay of the keyed one alone makes nothing.
  r = Call("POST", "/v1/jobs/bulk", bulk(json::array({two[0]})));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["results"][0]["created"], false);
  // One bad file refuses the whole request, naming it.
  const int64_t before = store_.Revision().value();
  r = Call("POST", "/v1/jobs/bulk",
           bulk(json::array({{{"file", "name: c\nrun: x\n"}}, {{"file", "name: d\nrun: x\npriority: z\n"}}})));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "jobs[1].priority") << r.body;
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk", "not json").status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk", bulk(json::array())).status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk", bulk(json::array({{{"file", 5}}}))).status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk", bulk(json::array({json::array()}))).status, 400);
  // One key twice in a request is a mistake, not a replay.
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk",
                 bulk(json::array({{{"file", "name: e\nrun: x\n"}, {"idempotency_key", "dup"}},
                                   {{"file", "name: e\nrun: x\n"}, {"idempotency_key", "dup"}}})))
                .status,
            400);
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back({{"file", "name: f\nrun: x\n"}});
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk", bulk(many)).status, 400);
  EXPECT_EQ(Call("GET", "/v1/jobs/bulk").status, 405);
  EXPECT_EQ(store_.Revision().value(), before);
}

// A tenant's token submits arrays and bulk jobs to its tenant only, and
// another tenant's array is as good as absent.
TEST_F(RestApiTest, ArraysAndBulkKeepTenantsApart) {
  const AccessList access = AccessList::Parse(kTokens, "tokens.yaml").value();
  access_ = &access;
  auto as = [](const std::string& token) {
    return std::map<std::string, std::string>{{"authorization", "Bearer " + token}};
  };
  ASSERT_EQ(Call("POST", "/v1/jobs?array=2", "name: a\ntenant: ml\nrun: x\n", as("alice-token-0123456789")).status,
            201);
  const std::string other = json{{"jobs", json::array({{{"file", "name: b\ntenant: ml\nrun: x\n"}}})}}.dump();
  HttpResponse r = Call("POST", "/v1/jobs/bulk", other, as("bob-token-01234567890"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Call("GET", "/v1/arrays/1", "", as("bob-token-01234567890")).status, 404);
  EXPECT_EQ(Call("POST", "/v1/arrays/1/cancel", "", as("bob-token-01234567890")).status, 404);
  EXPECT_EQ(Call("POST", "/v1/arrays/1/cancel", "", as("view-token-0123456789")).status, 403);
  EXPECT_EQ(Call("GET", "/v1/jobs?array=1", "", as("bob-token-01234567890")).body, R"({"jobs":[]})");
  EXPECT_EQ(Call("GET", "/v1/arrays/1", "", as("alice-token-0123456789")).status, 200);
  EXPECT_EQ(cp().Job(1).value().state, JobState::kPending);
}

// Task logs are read through the server, which checks the caller first
// and then fetches from the node's log server with that server's token
// (agents' log servers refuse anyone else); the token is never shown.
TEST_F(RestApiTest, TaskLogsGoThroughTheServerForAuthorisedCallersOnly) {
  const AccessList access = AccessList::Parse(R"(tokens:
  - {token: alice-token-0123456789, name: alice, role: user, tenant: ml}
  - {token: bob-token-01234567890, name: bob, role: user, tenant: vision}
)",
                                              "tokens.yaml")
                                .value();
  access_ = &access;
  auto as = [](const std::string& token) {
    return std::map<std::string, std::string>{{"authorization", "Bearer " + token}};
  };
  Join("n1", AcceleratorType::kCpu, 1, 9999, "log-secret-abcdef");
  ASSERT_EQ(Call("POST", "/v1/jobs", "name: a\ntenant: ml\nrun: x\n", as("alice-token-0123456789")).status, 201);
  cp().Pass();
  const HttpResponse list = Call("GET", "/v1/jobs/1/logs", "", as("alice-token-0123456789"));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body)["logs"][0]["path"], "/v1/jobs/1/logs/0");
  EXPECT_EQ(list.body.find("log-secret"), std::string::npos);
  const HttpResponse chunk = Call("GET", "/v1/jobs/1/logs/0?offset=5", "", as("alice-token-0123456789"));
  EXPECT_EQ(chunk.fetch_url, "http://10.0.0.1:9999/logs/job-1-attempt-1.log?offset=5");
  EXPECT_EQ(chunk.fetch_headers.at("Authorization"), "Bearer log-secret-abcdef");
  const HttpResponse other = Call("GET", "/v1/jobs/1/logs/0", "", as("bob-token-01234567890"));
  EXPECT_EQ(other.status, 404);
  EXPECT_TRUE(other.fetch_url.empty());
  EXPECT_EQ(Call("GET", "/v1/jobs/1/logs/0").status, 401);
  EXPECT_EQ(Call("GET", "/v1/jobs/1/logs/1", "", as("alice-token-0123456789")).status, 404);
  EXPECT_EQ(Call("GET", "/v1/jobs/1/logs/0?offset=x", "", as("alice-token-0123456789")).status, 400);
  EXPECT_EQ(Call("GET", "/v1/jobs/1/logs/0?attempt=2", "", as("alice-token-0123456789")).status, 409);
  EXPECT_EQ(Call("POST", "/v1/jobs/1/logs/0", "", as("alice-token-0123456789")).status, 405);
  EXPECT_EQ(Call("GET", "/v1/nodes", "", as("alice-token-0123456789")).body.find("log-secret"), std::string::npos);
}

// GET /metrics: Prometheus text, every job state present (zeros too),
// nodes and site accelerators from the registry, histogram lines whole.
TEST_F(RestApiTest, MetricsInThePrometheusTextFormat) {
  SiteInfo abilene;
  abilene.name = "abilene";
  abilene.power_cap_w = 1.2e9;
  abilene.carbon.mean = 400;
  abilene.latitude = 32.45;
  abilene.longitude = -99.73;
  sites_["abilene"] = abilene;
  Join("g1", AcceleratorType::kH100, 8, 0, "", 2800);
  ASSERT_EQ(Call("POST", "/v1/jobs", "name: a\nresources: {accelerators: H100:2}\nrun: x\n").status, 201);
  ASSERT_EQ(Call("POST", "/v1/jobs", "name: b\nresources: {accelerators: H100:8}\nrun: x\n").status, 201);
  cp().Pass();
  const HttpResponse m = Call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  auto has = [&](const std::string& line) { return m.body.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("stargate_jobs{state=\"running\"} 1")) << m.body;
  EXPECT_TRUE(has("stargate_jobs{state=\"pending\"} 1"));
  EXPECT_TRUE(has("stargate_jobs{state=\"failed\"} 0"));
  EXPECT_TRUE(has("stargate_node_up{node=\"g1\",site=\"abilene\"} 1"));
  EXPECT_TRUE(has("stargate_site_accelerators{site=\"abilene\",state=\"used\"} 2"));
  EXPECT_TRUE(has("stargate_site_accelerators{site=\"abilene\",state=\"free\"} 6"));
  EXPECT_TRUE(has("stargate_site_gpu_power_watts{site=\"abilene\"} 2800"));
  EXPECT_TRUE(has("stargate_site_power_cap_watts{site=\"abilene\"} 1200000000"));
  EXPECT_TRUE(has("stargate_site_carbon_intensity_grams_per_kwh{site=\"abilene\"} 400"));
  const json site = json::parse(Call("GET", "/v1/sites").body)["sites"][0];
  EXPECT_EQ(site["latitude"], 32.45);
  EXPECT_EQ(site["carbon_g_per_kwh"], 400);
  EXPECT_EQ(site["gpu_power_w"], 2800);
  EXPECT_TRUE(has("stargate_job_queue_wait_seconds_count 1"));
  EXPECT_TRUE(has("stargate_job_queue_wait_seconds_bucket{le=\"+Inf\"} 1"));
  EXPECT_TRUE(has("# TYPE stargate_scheduler_pass_seconds histogram"));
  EXPECT_EQ(Call("POST", "/metrics").status, 405);
  // Every sample line is NAME{LABELS} VALUE or NAME VALUE.
  std::istringstream lines(m.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_NO_THROW((void)std::stod(line.substr(space + 1))) << line;
  }
}

// GET /v1/forecast: the live state run ahead with the server's scheduler;
// each tenant sees its own jobs' forecasts (and every site's figures).
TEST_F(RestApiTest, TheForecastShowsEachCallerItsOwnJobs) {
  const AccessList access = AccessList::Parse(kTokens, "tokens.yaml").value();
  access_ = &access;
  auto as = [](const std::string& token) {
    return std::map<std::string, std::string>{{"authorization", "Bearer " + token}};
  };
  Join("n1", AcceleratorType::kH100, 8);
  const auto viewer = as("view-token-0123456789"), alice = as("alice-token-0123456789");
  ASSERT_EQ(
      Call("POST", "/v1/jobs", "name: a\ntenant: ml\nresources: {accelerators: H100:8}\nestimate: 2h\nrun: x\n", alice)
          .status,
      201);
  cp().Pass();  // job 1 runs on n1
  ASSERT_EQ(Call("POST", "/v1/jobs", "name: b\nresources: {accelerators: H100:8}\nestimate: 1h\nrun: x\n",
                 as("view-token-0123456789"))
                .status,
            403);  // (viewers submit nothing: job 2 comes from an open API below)
  access_ = nullptr;
  ASSERT_EQ(Call("POST", "/v1/jobs", "name: b\nresources: {accelerators: H100:8}\nestimate: 1h\nrun: x\n").status, 201);
  access_ = &access;
  clock_.Advance(Duration::Minutes(30));
  AgentHeartbeat h;  // n1 runs job 1 still
  h.node = "n1";
  h.telemetry.agent_id = "agent-n1";
  h.tasks = {TaskReport{TaskRef{1, 1}, true, 0, 0}};
  ASSERT_FALSE(cp().Heartbeat(h).value().register_again);
  const HttpResponse all = Call("GET", "/v1/forecast?horizon=6h&seeds=2", "", viewer);
  ASSERT_EQ(all.status, 200) << all.body;
  const json f = json::parse(all.body);
  EXPECT_EQ(f["seeds"], 2);
  EXPECT_EQ(f["horizon_s"], 6 * 3600);
  EXPECT_EQ(f["policy"], "fifo");
  ASSERT_EQ(f["jobs"].size(), 2u);
  const int64_t now = kNow + Duration::Minutes(30).millis();
  EXPECT_EQ(f["now_unix_ms"], now);
  EXPECT_EQ(f["jobs"][0]["state"], "running");
  EXPECT_EQ(f["jobs"][0]["finish_unix_ms"]["p50"], now + Duration::Minutes(90).millis());
  // Job 2 waits for n1: it starts when job 1 ends, and runs its hour.
  EXPECT_EQ(f["jobs"][1]["start_unix_ms"]["p50"], now + Duration::Minutes(90).millis());
  EXPECT_EQ(f["jobs"][1]["finish_unix_ms"]["p50"], now + Duration::Minutes(150).millis());
  EXPECT_EQ(f["jobs"][1]["site"], "s");
  ASSERT_EQ(f["sites"].size(), 1u);
  EXPECT_EQ(f["sites"][0]["name"], "s");
  // Alice sees her job alone.
  const json mine = json::parse(Call("GET", "/v1/forecast?horizon=6h&seeds=1", "", alice).body);
  ASSERT_EQ(mine["jobs"].size(), 1u);
  EXPECT_EQ(mine["jobs"][0]["name"], "a");
  // Bad asks are 400 naming the field; only GET.
  for (const char* bad : {"horizon=0s", "horizon=8d", "horizon=soon", "seeds=0", "seeds=65", "seeds=x"}) {
    const HttpResponse r = Call("GET", std::string("/v1/forecast?") + bad, "", viewer);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], std::string(bad).substr(0, std::string(bad).find('='))) << bad;
  }
  EXPECT_EQ(Call("PUT", "/v1/forecast", "", alice).status, 405);
  EXPECT_EQ(Call("GET", "/v1/forecast").status, 401);
  // A what-if changes nothing: viewers may ask one.
  EXPECT_EQ(Call("POST", "/v1/forecast", R"({"seeds": 1, "what_if": {"policy": "stargate"}})", viewer).status, 200);
  // The scenario file holds every tenant's jobs: an all-tenant viewer may
  // export it (with a what-if too), a tenant's user may not.
  const HttpResponse scenario = Call("GET", "/v1/forecast/scenario?horizon=6h", "", viewer);
  ASSERT_EQ(scenario.status, 200) << scenario.body;
  EXPECT_EQ(scenario.content_type, "application/yaml");
  EXPECT_NE(scenario.body.find("name: a#1"), std::string::npos) << scenario.body;
  EXPECT_NE(scenario.body.find("name: b#2"), std::string::npos);
  EXPECT_NE(scenario.body.find("running:"), std::string::npos);
  const HttpResponse refused = Call("GET", "/v1/forecast/scenario", "", alice);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("every tenant's jobs"), std::string::npos) << refused.body;
  EXPECT_EQ(Call("POST", "/v1/forecast/scenario", R"({"what_if": {"drains": [{"target": "n1"}]}})", viewer).status,
            200);
  EXPECT_EQ(Call("GET", "/v1/forecast/scenario?horizon=9d", "", viewer).status, 400);
}

// POST /v1/forecast with a what-if: the baseline, the what-if and what
// changed; fields of a bad ask are named.
TEST_F(RestApiTest, AWhatIfForecastAnswersWithTheChanges) {
  Join("n1", AcceleratorType::kH100, 8);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Call("POST", "/v1/jobs", "name: w\nresources: {accelerators: H100:8}\nestimate: 1h\nrun: x\n").status,
              201);
  }
  const HttpResponse r = Call("POST", "/v1/forecast", R"({"horizon": "6h", "seeds": 1, "what_if": {
      "add_nodes": [{"site": "s", "count": 1, "accelerators": "H100:8"}],
      "submit": "name: extra\nresources: {accelerators: H100:8}\nestimate: 30m\nrun: x\n"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json f = json::parse(r.body);
  EXPECT_EQ(f["baseline"]["jobs"].size(), 2u);
  EXPECT_EQ(f["what_if"]["jobs"].size(), 3u);
  EXPECT_EQ(f["what_if"]["jobs"][2]["what_if"], true);
  // Job 2 no longer waits for job 1; the extra job is new.
  const json& changes = f["changes"]["jobs"];
  ASSERT_EQ(changes.size(), 2u) << changes.dump();
  EXPECT_EQ(changes[0]["id"], 2);
  EXPECT_EQ(changes[0]["start_p50_unix_ms"][0], kNow + Duration::Hours(1).millis());
  EXPECT_EQ(changes[0]["start_p50_unix_ms"][1], kNow);
  EXPECT_EQ(changes[1]["name"], "extra");
  EXPECT_EQ(changes[1]["added"], true);
  EXPECT_TRUE(changes[1]["start_p50_unix_ms"][0].is_null());
  // Bad asks: 400 naming the field.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"([])", ""},
      {R"({"when": 1})", "when"},
      {R"({"seeds": 100})", "seeds"},
      {R"({"horizon": "forever"})", "horizon"},
      {R"({"what_if": {"drains": [{"target": "nowhere"}]}})", ""},
      {R"({"what_if": {"drains": [{"target": "n1", "at": 5}]}})", "what_if.drains[0].at"},
      {R"({"what_if": {"spikes": [{"site": "s", "signal": "carbon", "value": 1, "from": "292y"}]}})",
       "what_if.spikes[0].from"},
      {R"({"what_if": {"add_nodes": [{"site": "s", "accelerators": "H100"}]}})", "what_if.add_nodes[0].accelerators"},
      {R"({"what_if": {"spikes": [{"site": "s", "signal": "wind", "value": 1}]}})", "what_if.spikes[0].signal"},
      {R"({"what_if": {"weights": {"carbon": "high"}}})", "what_if.weights.carbon"},
      {R"({"what_if": {"submit": ""}})", "what_if.submit"},
      {R"({"what_if": {"teleport": true}})", "what_if.teleport"},
  };
  for (const auto& [body, field] : bad) {
    const HttpResponse e = Call("POST", "/v1/forecast", body);
    EXPECT_EQ(e.status, 400) << body << " " << e.body;
    if (!field.empty()) {
      EXPECT_EQ(json::parse(e.body)["error"]["field"], field) << body;
    }
  }
  EXPECT_NE(json::parse(Call("POST", "/v1/forecast", bad[4].first).body)["error"]["message"].get<std::string>().find(
                "no site or node named 'nowhere'"),
            std::string::npos);
  EXPECT_EQ(cp().Jobs().value().size(), 2u);  // a what-if submits nothing
}

// The standing forecast (forecaster.h): made every interval of the clock
// off the caller's thread; jobs show their predicted start and end with
// it, and ?latest=1 answers it without a run.
TEST_F(RestApiTest, TheStandingForecastShowsWithPendingJobs) {
  Join("n1", AcceleratorType::kH100, 8);
  EXPECT_EQ(Call("GET", "/v1/forecast?latest=1").status, 404);  // this API has no standing forecast
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Call("POST", "/v1/jobs", "name: w\nresources: {accelerators: H100:8}\nestimate: 1h\nrun: x\n").status,
              201);
  }
  cp().Pass();  // job 1 runs
  ForecastOptions standing;
  standing.seeds = 1;
  Forecaster forecaster(&cp(), &clock_, Duration::Minutes(5), standing);
  std::thread run([&] { forecaster.Run(); });
  for (int i = 0; i < 500 && forecaster.Latest() == nullptr; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::shared_ptr<const Forecast> first = forecaster.Latest();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->now, Time::FromMillis(kNow));
  HttpRequest req;
  req.method = "GET";
  req.path = "/v1/jobs/2";
  RestApi api(&cp(), nullptr, &forecaster);
  json job = json::parse(api.Handle(req).body)["job"];
  ASSERT_TRUE(job.contains("forecast")) << job.dump();
  EXPECT_EQ(job["forecast"]["start_unix_ms"]["p50"], kNow + Duration::Hours(1).millis());
  EXPECT_EQ(job["forecast"]["finish_unix_ms"]["p50"], kNow + Duration::Hours(2).millis());
  EXPECT_EQ(job["forecast"]["site"], "s");
  EXPECT_EQ(job["forecast"]["as_of_unix_ms"], kNow);
  req.path = "/v1/jobs";
  EXPECT_TRUE(json::parse(api.Handle(req).body)["jobs"][1].contains("forecast"));
  req.path = "/v1/forecast";
  req.query["latest"] = "1";
  const HttpResponse latest = api.Handle(req);
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_EQ(json::parse(latest.body)["now_unix_ms"], kNow);
  // The next one comes with the clock, five minutes on.
  clock_.Advance(Duration::Minutes(5));
  for (int i = 0; i < 500 && forecaster.Latest() == first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(forecaster.Latest()->now, Time::FromMillis(kNow) + Duration::Minutes(5));
  forecaster.Stop();
  run.join();
}

TEST(AccessList, ErrorsNameTheField) {
  auto error = [](const std::string& text) {
    return std::string(AccessList::Parse(text, "t.yaml").status().message());
  };
  EXPECT_NE(error("tokens:\n  - {token: short, name: a, role: admin}\n")
                .find("t.yaml:2:13: tokens[0].token: must be at least 16"),
            std::string::npos)
      << error("tokens:\n  - {token: short, name: a, role: admin}\n");
  EXPECT_NE(error("tokens:\n  - {token: aaaaaaaaaaaaaaaaaaaa, name: a, role: user}\n").find("a user needs a tenant"),
            std::string::npos);
  EXPECT_NE(error("tokens:\n  - {token: aaaaaaaaaaaaaaaaaaaa, name: a, role: root}\n").find("unknown role"),
            std::string::npos);
}

}  // namespace
}  // namespace stargate::control

namespace stargate::control {
namespace {

// A job no site could ever run on the nodes registered is refused at
// submit with the reason (and the hint), in a bulk submit too; with
// allow_pending it is queued; with no node registered yet nothing is
// refused.
TEST_F(RestApiTest, AJobNoSiteCanRunIsRefusedAtSubmitUnlessAllowedToWait) {
  const std::string big = "name: big\nresources: {accelerators: H100:8, nodes: 2}\nrun: x\n";
  ASSERT_EQ(Call("POST", "/v1/jobs", big).status, 201);  // no node known yet
  Join("n1", AcceleratorType::kH100, 8);
  HttpResponse r = Call("POST", "/v1/jobs", big, {{"x-filename", "big.yaml"}});
  ASSERT_EQ(r.status, 400) << r.body;
  const std::string message = json::parse(r.body)["error"]["message"];
  EXPECT_NE(message.find("big.yaml: no site can ever run this job: "), std::string::npos) << message;
  EXPECT_NE(message.find("--allow-pending"), std::string::npos) << message;
  const std::string other = "name: a100\nresources: {accelerators: A100:8}\nrun: x\n";
  EXPECT_EQ(Call("POST", "/v1/jobs", other).status, 400);
  EXPECT_EQ(Call("POST", "/v1/jobs?allow_pending=true", big).status, 201);
  EXPECT_EQ(Call("POST", "/v1/jobs", "name: fits\nresources: {accelerators: H100:8}\nrun: x\n").status, 201);
  const json bulk = {{"jobs", json::array({{{"file", big}}})}};
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk", bulk.dump()).status, 400);
  const json allowed = {{"jobs", json::array({{{"file", big}, {"allow_pending", true}}})}};
  EXPECT_EQ(Call("POST", "/v1/jobs/bulk", allowed.dump()).status, 201)
      << Call("POST", "/v1/jobs/bulk", allowed.dump()).body;
}

}  // namespace
}  // namespace stargate::control

namespace stargate::control {
namespace {

// Thousands of sites are read a page at a time, filtered, or one row per
// region; bad paging asks are 400s naming the field.
TEST_F(RestApiTest, SitesAndNodesComeInPagesFilteredOrByRegion) {
  for (int i = 0; i < 12; ++i) {
    Registration r;
    r.node.name = fmt::format("n{:02}", i);
    r.node.site = fmt::format("site-{:02}", i / 2);  // two nodes a site, six sites
    r.node.region = i < 8 ? "eu" : "us";
    r.node.jurisdiction = i < 8 ? "EU" : "US";
    r.node.address = "10.0.0.1";
    r.node.accelerator = AcceleratorType::kH100;
    r.node.accelerators = 8;
    r.agent_id = "agent-" + r.node.name;
    ASSERT_TRUE(cp().Register(r).ok());
  }
  auto get = [&](const std::string& path) {
    const HttpResponse r = Call("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body);
  };
  json page = get("/v1/sites?limit=4");
  ASSERT_EQ(page["sites"].size(), 4u);
  EXPECT_EQ(page["total"], 6);
  EXPECT_EQ(page["sites"][3]["name"], "site-03");
  EXPECT_EQ(page["next"], "site-03");
  page = get("/v1/sites?limit=4&after=site-03");
  ASSERT_EQ(page["sites"].size(), 2u);
  EXPECT_EQ(page["sites"][0]["name"], "site-04");
  EXPECT_FALSE(page.contains("next"));
  EXPECT_EQ(get("/v1/sites")["sites"].size(), 6u);  // no limit: all (the dashboard's ask)
  page = get("/v1/sites?region=us");
  ASSERT_EQ(page["sites"].size(), 2u);
  EXPECT_EQ(page["sites"][0]["name"], "site-04");
  EXPECT_EQ(page["sites"][0]["nodes"], 2);
  const json regions = get("/v1/sites?by=region")["regions"];
  ASSERT_EQ(regions.size(), 2u);
  EXPECT_EQ(regions[0]["region"], "eu");
  EXPECT_EQ(regions[0]["sites"], 4);
  EXPECT_EQ(regions[0]["nodes"], 8);
  EXPECT_EQ(regions[0]["accelerators"]["H100"], 64);
  EXPECT_EQ(get("/v1/sites?by=jurisdiction&region=us")["jurisdictions"][0]["jurisdiction"], "US");
  page = get("/v1/nodes?site=site-05&limit=1");
  ASSERT_EQ(page["nodes"].size(), 1u);
  EXPECT_EQ(page["nodes"][0]["name"], "n10");
  EXPECT_EQ(page["total"], 2);
  EXPECT_EQ(page["next"], "n10");
  EXPECT_EQ(get("/v1/nodes?site=site-05&after=n10")["nodes"][0]["name"], "n11");
  for (const char* bad : {"/v1/sites?limit=x", "/v1/sites?limit=-1", "/v1/nodes?limit=100001", "/v1/sites?by=planet"}) {
    const HttpResponse r = Call("GET", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("\"field\""), std::string::npos) << bad << ": " << r.body;
  }
}

}  // namespace
}  // namespace stargate::control
