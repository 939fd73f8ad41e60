// Datasets over the REST API (rest_datasets.cc, dataset_book.h): register,
// list, show and unregister; bad input is a 4xx naming its field and
// changes nothing; tenants never see each other's; a job file that names
// a dataset is refused until it is registered, and is then placed where
// the data is (data gravity, on the registry's copies, after a restart).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rest_api_fixture.h"

namespace stargate::control {
namespace {

using nlohmann::json;

std::string Copy(const std::string& site, const std::string& size, const std::string& path = "/data/corpus") {
  return json{{"site", site}, {"size", size}, {"path", path}}.dump();
}

TEST_F(RestApiTest, DatasetsAreRegisteredListedShownAndUnregistered) {
  Join("n1", AcceleratorType::kH100, 8);  // site s
  Join("n2", AcceleratorType::kH100, 8);  // site abilene
  HttpResponse r = Call("POST", "/v1/datasets/corpus", Copy("abilene", "2TB"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["dataset"]["bytes"], 2e12);
  r = Call("POST", "/v1/datasets/corpus", json{{"site", "s"}, {"size", 1.5e12}, {"path", "/lake/corpus"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json d = json::parse(Call("GET", "/v1/datasets/corpus").body)["dataset"];
  ASSERT_EQ(d["copies"].size(), 2u);
  EXPECT_EQ(d["copies"][0]["site"], "abilene");  // by site
  EXPECT_EQ(d["copies"][1]["path"], "/lake/corpus");
  EXPECT_EQ(d["copies"][1]["registered_by"], "anonymous");
  EXPECT_EQ(d["tenant"], "default");
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets").body)["datasets"].size(), 1u);
  // Again at a site: replaces that copy.
  ASSERT_EQ(Call("POST", "/v1/datasets/corpus", Copy("s", "3TB")).status, 200);
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets/corpus").body)["dataset"]["bytes"], 3e12);
  r = Call("DELETE", "/v1/datasets/corpus?site=s");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["dataset"]["copies"].size(), 1u);
  EXPECT_EQ(Call("DELETE", "/v1/datasets/corpus?site=s").status, 404);  // no copy there now
  ASSERT_EQ(Call("DELETE", "/v1/datasets/corpus").status, 200);
  EXPECT_EQ(Call("GET", "/v1/datasets/corpus").status, 404);
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets").body)["datasets"].size(), 0u);
  // Each change is audited.
  const json entries = json::parse(Call("GET", "/v1/audit?action=data-register").body)["entries"];
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["detail"], "dataset corpus (tenant default): 2000.0 GB at site abilene, /data/corpus");
  EXPECT_EQ(json::parse(Call("GET", "/v1/audit?action=data-unregister").body)["entries"].size(), 2u);
}

TEST_F(RestApiTest, BadDatasetInputIsA4xxNamingItsFieldAndChangesNothing) {
  Join("n1", AcceleratorType::kH100, 8);
  auto field = [&](const std::string& path, const std::string& body) {
    const HttpResponse r = Call("POST", path, body);
    EXPECT_EQ(r.status, 400) << body;
    const json e = json::parse(r.body)["error"];
    return e.value("field", "") + " | " + e["message"].get<std::string>();
  };
  EXPECT_EQ(field("/v1/datasets/corpus", Copy("mars", "2TB")), "site | site: no site mars (known: s)");
  EXPECT_EQ(field("/v1/datasets/corpus", Copy("s", "2 parsecs")).substr(0, 13), "size | size: ");
  EXPECT_EQ(field("/v1/datasets/corpus", Copy("s", "0TB")), "size | size: 1 byte to 1 EB (\"2TB\", \"500GB\")");
  EXPECT_EQ(field("/v1/datasets/corpus", Copy("s", "2TB", "data/corpus")),
            "path | path: an absolute path (\"/data/corpus\") of printable characters");
  EXPECT_EQ(field("/v1/datasets/corpus", Copy("s", "2TB", "/data/\x01")).substr(0, 6), "path |");
  EXPECT_EQ(field("/v1/datasets/corpus", R"({"size": "2TB", "path": "/d"})"), "site | site: a string is required");
  EXPECT_EQ(field("/v1/datasets/corpus", "[1]").substr(0, 3), " | ");
  EXPECT_EQ(field("/v1/datasets/..", Copy("s", "2TB")), " | a dataset name does not start with '.'");
  EXPECT_EQ(field("/v1/datasets/a%20b", Copy("s", "2TB")),
            " | a dataset name has only letters, digits, '.', '_' and '-', not '%'");
  EXPECT_EQ(field("/v1/datasets/c", R"({"site": "s", "size": "1TB", "path": "/d", "tenant": "a/b"})"),
            "tenant | tenant: 1-32 characters of letters, digits, '-' or '_'");
  EXPECT_EQ(Call("PUT", "/v1/datasets/corpus", Copy("s", "2TB")).status, 405);
  EXPECT_EQ(Call("POST", "/v1/datasets", Copy("s", "2TB")).status, 405);
  EXPECT_EQ(Call("POST", "/v1/datasets/corpus", std::string(70000, ' ')).status, 413);
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets").body)["datasets"].size(), 0u);  // none of it stored
}

TEST_F(RestApiTest, TenantsNeverSeeEachOthersDatasets) {
  const AccessList access = AccessList::Parse(R"(tokens:
  - {token: admin-token-0123456789, name: ops, role: admin}
  - {token: alice-token-0123456789, name: alice, role: user, tenant: ml}
  - {token: bob-token-01234567890, name: bob, role: user, tenant: vision}
  - {token: view-token-0123456789, name: grafana, role: viewer, tenant: ml}
)",
                                              "tokens.yaml")
                                .value();
  access_ = &access;
  auto as = [](const std::string& who) {
    const std::map<std::string, std::string> tokens = {{"admin", "admin-token-0123456789"},
                                                       {"alice", "alice-token-0123456789"},
                                                       {"bob", "bob-token-01234567890"},
                                                       {"viewer", "view-token-0123456789"}};
    return std::map<std::string, std::string>{{"authorization", "Bearer " + tokens.at(who)}};
  };
  Join("n1", AcceleratorType::kH100, 8);
  EXPECT_EQ(Call("GET", "/v1/datasets").status, 401);
  ASSERT_EQ(Call("POST", "/v1/datasets/corpus", Copy("s", "2TB"), as("alice")).status, 200);  // into ml
  EXPECT_EQ(Call("POST", "/v1/datasets/corpus", Copy("s", "1TB"), as("viewer")).status, 403);
  // Bob cannot see, list, change or delete ml's, nor register into ml.
  EXPECT_EQ(Call("GET", "/v1/datasets/corpus?tenant=ml", "", as("bob")).status, 404);
  EXPECT_EQ(Call("GET", "/v1/datasets/corpus", "", as("bob")).status, 404);  // his own tenant has none
  EXPECT_EQ(Call("GET", "/v1/datasets?tenant=ml", "", as("bob")).status, 403);
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets", "", as("bob")).body)["datasets"].size(), 0u);
  EXPECT_EQ(Call("DELETE", "/v1/datasets/corpus?tenant=ml", "", as("bob")).status, 403);
  const std::string into_ml = R"({"site": "s", "size": "1TB", "path": "/x", "tenant": "ml"})";
  EXPECT_EQ(Call("POST", "/v1/datasets/corpus", into_ml, as("bob")).status, 403);
  // Bob's own "corpus" is another dataset.
  ASSERT_EQ(Call("POST", "/v1/datasets/corpus", Copy("s", "5TB"), as("bob")).status, 200);
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets/corpus", "", as("alice")).body)["dataset"]["bytes"], 2e12);
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets/corpus", "", as("viewer")).body)["dataset"]["bytes"], 2e12);
  EXPECT_EQ(json::parse(Call("GET", "/v1/datasets", "", as("admin")).body)["datasets"].size(), 2u);
  // A job of tenant vision cannot name ml's dataset by name: it is not there.
  const std::string named = "name: j\ntenant: vision\ninputs: [corpus-ml]\nrun: x\n";
  ASSERT_EQ(Call("POST", "/v1/datasets/corpus-ml", Copy("s", "1TB"), as("alice")).status, 200);
  EXPECT_EQ(Call("POST", "/v1/jobs", named, as("bob")).status, 400);
}

TEST_F(RestApiTest, AJobNamingADatasetIsPlacedWhereItsDataIs) {
  policy_ = "stargate";
  Join("n1", AcceleratorType::kH100, 8);  // site s
  Join("n2", AcceleratorType::kH100, 8);  // site abilene
  auto job = [](const std::string& name, const std::string& data) {
    return fmt::format("name: {}\nresources: {{accelerators: H100:8}}\ninputs: [{}]\nrun: x\n", name, data);
  };
  HttpResponse r = Call("POST", "/v1/jobs", job("a", "corpus"), {{"x-filename", "a.yaml"}});
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["message"],
            "a.yaml: inputs: tenant default has no dataset corpus (register it: stargate data register corpus "
            "--site SITE --size SIZE --path PATH)");
  ASSERT_EQ(Call("POST", "/v1/datasets/corpus", Copy("s", "200TB")).status, 200);
  ASSERT_EQ(Call("POST", "/v1/datasets/logs", Copy("abilene", "200TB")).status, 200);
  // Known to a restarted server (the registry is stored).
  cp_.reset();
  ASSERT_TRUE(cp().Load().ok());
  Join("n1", AcceleratorType::kH100, 8);
  Join("n2", AcceleratorType::kH100, 8);
  ASSERT_EQ(Call("POST", "/v1/jobs", job("a", "corpus")).status, 201);
  ASSERT_EQ(Call("POST", "/v1/jobs", job("b", "logs")).status, 201);
  cp().Pass();
  EXPECT_EQ(cp().Job(1).value().nodes, std::vector<std::string>{"n1"});
  EXPECT_EQ(cp().Job(2).value().nodes, std::vector<std::string>{"n2"});
}

}  // namespace
}  // namespace stargate::control
