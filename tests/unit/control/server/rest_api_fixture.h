// File: rest_api_fixture.h
// The REST API's tests' fixture (rest_api_test.cc, rest_datasets_test.cc):
// a control plane on a memory store and a manual clock, nodes joined as
// agents join them, and calls as HTTP requests would make them.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "control/server/rest_api.h"
#include "control/store/memory_store.h"
#include "runtime/manual_clock.h"

namespace stargate::control {

class RestApiTest : public ::testing::Test {
 protected:
  HttpResponse Call(std::string method, std::string path, std::string body = "",
                    std::map<std::string, std::string> headers = {}) {
    HttpRequest req;
    req.method = std::move(method);
    const size_t q = path.find('?');
    if (q != std::string::npos) {
      std::stringstream query(path.substr(q + 1));
      for (std::string kv; std::getline(query, kv, '&');) {
        const size_t eq = kv.find('=');
        req.query[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      path.resize(q);
    }
    req.path = std::move(path);
    req.body = std::move(body);
    req.headers = std::move(headers);
    return RestApi(&cp(), access_).Handle(req);
  }
  // A node as an agent brings it: registered, then heard from.
  void Join(const std::string& name, AcceleratorType type, int accelerators, int log_port = 0,
            const std::string& log_token = "", double gpu_power_w = 0) {
    Registration r;
    NodeInfo& n = r.node;
    n.name = name;
    n.site = name == "n1" ? "s" : "abilene";
    n.address = "10.0.0.1";
    n.accelerator = type;
    n.accelerators = accelerators;
    n.log_port = log_port;
    n.log_token = log_token;
    r.agent_id = "agent-" + name;
    ASSERT_TRUE(cp().Register(r).ok());
    AgentHeartbeat h;
    h.node = name;
    h.telemetry.agent_id = r.agent_id;
    h.telemetry.gpu_power_w = gpu_power_w;
    ASSERT_FALSE(cp().Heartbeat(h).value().register_again);  // no wait: answers at once
  }
  // The control plane, made on first use with what --sites says (sites_).
  ControlPlane& cp() {
    if (cp_ == nullptr) {
      ControlPlaneOptions o;
      o.reconciler.check_kept_view = true;
      o.data_dir = "/data";
      std::vector<SiteInfo> sites;
      for (const auto& [name, info] : sites_) sites.push_back(info);
      o.sites = SiteBook::FromSites(sites).value();
      cp_ = std::make_unique<ControlPlane>(&store_, &clock_, sched::MakeScheduler(policy_).value(), o);
    }
    return *cp_;
  }
  static constexpr int64_t kNow = 1'700'000'000'000;
  ManualClock clock_{Time::FromMillis(kNow)};
  MemoryStore store_;
  std::map<std::string, SiteInfo> sites_;
  const AccessList* access_ = nullptr;  // bearer tokens; none = an open API
  std::string policy_ = "fifo";         // the scheduler cp() is made with
  std::unique_ptr<ControlPlane> cp_;
};

}  // namespace stargate::control
