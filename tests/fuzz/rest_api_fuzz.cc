// libFuzzer target for the REST API's request handler, with bearer tokens
// on: any request (method, path, query, headers, body from the input bytes)
// gets a JSON response with a known status, never a crash, exception or
// sanitizer report, and a refused request (4xx) leaves the store as it was.
// Run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/server/rest_api.h"
#include "control/store/memory_store.h"
#include "runtime/manual_clock.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

using namespace stargate::control;

struct World {
  stargate::ManualClock clock{stargate::Time::FromMillis(1'700'000'000'000)};
  MemoryStore store;
  ControlPlane cp{&store, &clock, stargate::sched::MakeScheduler("fifo").value(),
                  ControlPlaneOptions{.data_dir = "/data"}};
  AccessList access = AccessList::Parse(
                          "tokens:\n  - {token: admin-token-0123456789, name: ops, role: admin}\n"
                          "  - {token: alice-token-0123456789, name: alice, role: user, tenant: ml}\n"
                          "  - {token: view-token-0123456789, name: v, role: viewer}\n",
                          "t.yaml")
                          .value();
  RestApi api{&cp, &access};
  World() {
    // Something to read, cancel and be refused: a job per tenant.
    cp.Submit("name: a\ntenant: ml\nrun: x\n", "a.yaml", "", "fuzz").value();
    cp.Submit("name: b\ntenant: vision\nrun: x\n", "b.yaml", "", "fuzz").value();
  }
};

// The input, line by line: method, path[?query], header lines, a blank
// line, then the body.
HttpRequest Decode(std::string_view in) {
  HttpRequest req;
  auto line = [&]() {
    const size_t nl = in.find('\n');
    std::string_view l = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    return std::string(l);
  };
  req.method = line();
  std::string path = line();
  const size_t q = path.find('?');
  if (q != std::string::npos) {
    std::string query = path.substr(q + 1);
    path.resize(q);
    const size_t eq = query.find('=');
    req.query[query.substr(0, eq)] = eq == std::string::npos ? "" : query.substr(eq + 1);
  }
  req.path = path;
  for (std::string h = line(); !h.empty(); h = line()) {
    const size_t colon = h.find(':');
    req.headers[h.substr(0, colon)] = colon == std::string::npos ? "" : h.substr(colon + 1);
  }
  req.body = std::string(in);
  return req;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = new World();  // one server for the whole run, as in production
  const HttpRequest req = Decode(std::string_view(reinterpret_cast<const char*>(data), size));
  const int64_t before = w->store.Revision().value();
  const HttpResponse resp = w->api.Handle(req);
  Check(resp.status == 200 || resp.status == 201 || (resp.status >= 400 && resp.status <= 413));
  Check(nlohmann::json::accept(resp.body));
  if (resp.status >= 400) Check(w->store.Revision().value() == before);
  return 0;
}
