#include "control/serve/serve_router.h"

#include <absl/base/thread_annotations.h>
#include <httplib.h>

#include "control/net/httplib_bind.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/random_hex.h"
#include "sched/replica_choice.h"

namespace stargate::control {
namespace {

std::string ErrorJson(const std::string& code, const std::string& message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

// Headers that describe one connection, not the message (RFC 9110 7.6.1),
// and the ones the client library writes itself.
bool SameHeader(const std::string& a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

bool HopByHop(const std::string& name) {
  // Also the encodings: each hop's httplib decodes what it receives and
  // encodes what it sends for its own peer.
  static const char* const kNames[] = {
      "connection", "keep-alive",     "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
      "host",       "content-length", "content-encoding", "accept-encoding"};
  for (const char* n : kNames) {
    if (SameHeader(name, n)) return true;
  }
  return false;
}

// httplib hands a multipart/form-data body over as parsed parts only: the
// body to forward is rebuilt from them (RFC 7578), with a boundary of its
// own. Parts come in name order; their own extra headers are not kept.
std::string MultipartBody(const httplib::MultipartFormDataMap& parts, std::string* content_type) {
  const std::string boundary = "stargate-" + RandomHex(4);
  std::string body;
  for (const auto& [name, part] : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part.name + "\"";
    if (!part.filename.empty()) body += "; filename=\"" + part.filename + "\"";
    body += "\r\n";
    if (!part.content_type.empty()) body += "Content-Type: " + part.content_type + "\r\n";
    body += "\r\n" + part.content + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  *content_type = "multipart/form-data; boundary=" + boundary;
  return body;
}

// Latency histogram buckets (seconds) for /_stargate/metrics.
constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
constexpr double kServiceAlpha = 0.2;  // EWMA weight of the newest service time

}  // namespace

struct ServeRouter::Impl {
  Impl(RouterOptions o, Clock* c) : options(std::move(o)), clock(c) {}

  struct Replica {
    ReplicaEndpoint endpoint;
    Time failed_at;  // last forward that got no answer (the epoch: none)
    int inflight = 0;
    uint64_t served = 0, failed = 0;
    Duration service;
    std::vector<std::unique_ptr<httplib::Client>> idle;  // kept-alive connections to `endpoint`
    uint64_t generation = 0;  // bumped when the replica moves: older connections are not kept
    size_t slot = 0;          // its index in `replicas` (and in each ReplicaIndex)
    bool Routable() const { return endpoint.routable && failed_at <= endpoint.healthy_at; }
  };

  RouterOptions options;
  Clock* clock;
  httplib::Server server;

  mutable std::mutex mu;
  std::condition_variable changed;
  // shared: a forward may outlive its removal
  std::vector<std::shared_ptr<Replica>> replicas ABSL_GUARDED_BY(mu);
  // Time-weighted in-flight total since the last TakeMeanInflight.
  int inflight_total ABSL_GUARDED_BY(mu) = 0;
  Time area_since ABSL_GUARDED_BY(mu) = clock->Now();
  Time area_last ABSL_GUARDED_BY(mu) = area_since;
  double area ABSL_GUARDED_BY(mu) = 0;
  uint64_t answered ABSL_GUARDED_BY(mu) = 0, given_up ABSL_GUARDED_BY(mu) = 0, retries ABSL_GUARDED_BY(mu) = 0;
  uint64_t bucket_counts[std::size(kBuckets) + 1] ABSL_GUARDED_BY(mu) = {};
  // The choice in O(log n) (sched::ReplicaIndex): one index per users'
  // region some replica has a network figure for ("" for any other: every
  // replica's probe round trip), made on the first request from there and
  // told of every change of a replica's load (Touch); the measured service
  // times' sum, for the unmeasured replicas' fallback.
  std::map<std::string, sched::ReplicaIndex> by_region ABSL_GUARDED_BY(mu);
  std::set<std::string> regions ABSL_GUARDED_BY(mu);
  int64_t service_sum_ns ABSL_GUARDED_BY(mu) = 0;
  int measured ABSL_GUARDED_BY(mu) = 0;
  double latency_sum_s ABSL_GUARDED_BY(mu) = 0;

  void AddInflight(int delta) {  // under mu
    const Time now = clock->Now();
    area += static_cast<double>(inflight_total) * static_cast<double>((now - area_last).nanos());
    area_last = now;
    inflight_total += delta;
  }

  static sched::ReplicaLoad LoadFor(const Replica& r, const std::string& region) {
    auto net = r.endpoint.network_by_region.find(region);
    return {r.Routable(), net != r.endpoint.network_by_region.end() ? net->second : r.endpoint.probe_rtt, r.inflight,
            r.service};
  }
  // After any change of r's in-flight count, service time or health.
  void Touch(const Replica& r) {  // under mu
    for (auto& [region, index] : by_region) index.Set(r.slot, LoadFor(r, region));
  }
  void SetService(Replica& r, Duration service) {  // under mu
    if (r.service > Duration::Zero()) {
      service_sum_ns -= r.service.nanos();
      --measured;
    }
    r.service = service;
    if (r.service > Duration::Zero()) {
      service_sum_ns += r.service.nanos();
      ++measured;
    }
  }

  std::shared_ptr<Replica> Pick(const std::string& asked, const std::vector<std::shared_ptr<Replica>>& tried) {
    const std::string region = regions.count(asked) ? asked : "";
    auto [it, made] = by_region.try_emplace(region);
    if (made) {
      for (const auto& r : replicas) it->second.Set(r->slot, LoadFor(*r, region));
    }
    std::vector<size_t> skip;
    for (const auto& t : tried) {
      if (t->slot < replicas.size() && replicas[t->slot] == t) skip.push_back(t->slot);
    }
    // An unmeasured replica is taken to be as fast as the others' mean.
    const Duration fallback = measured > 0 ? Duration::Nanos(service_sum_ns / measured) : Duration::Millis(1);
    const auto best = it->second.Pick(skip, fallback);
    return best ? replicas[*best] : nullptr;
  }

  std::unique_ptr<httplib::Client> TakeClient(Replica& r) {  // under mu
    if (!r.idle.empty()) {
      auto c = std::move(r.idle.back());
      r.idle.pop_back();
      return c;
    }
    auto c = std::make_unique<httplib::Client>(r.endpoint.host, r.endpoint.port);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);  // a small request must not wait for the replica's delayed ACK
    c->set_url_encode(false);  // the target is forwarded as the caller wrote it
    c->set_connection_timeout(1, 0);
    const int64_t us = options.forward_timeout.nanos() / 1000;
    c->set_read_timeout(us / 1'000'000, us % 1'000'000);
    c->set_write_timeout(10, 0);
    return c;
  }

  void Forward(const httplib::Request& in, httplib::Response& out);
  void Metrics(httplib::Response& out);
  void ReplicasJson(httplib::Response& out);
};

void ServeRouter::Impl::Forward(const httplib::Request& in, httplib::Response& out) {
  const Time started = clock->Now();
  std::string region = in.get_header_value("X-Stargate-Region");
  if (region.empty()) region = options.region;
  httplib::Request fwd;
  fwd.method = in.method;
  fwd.path = in.target.empty() ? in.path : in.target;
  std::string forwarded_for = in.remote_addr;
  for (const auto& [k, v] : in.headers) {
    if (SameHeader(k, "X-Forwarded-For")) {
      forwarded_for = v + ", " + in.remote_addr;  // the chain so far, then who called us
    } else if (!HopByHop(k) && k != "REMOTE_ADDR" && k != "REMOTE_PORT" && k != "LOCAL_ADDR" && k != "LOCAL_PORT") {
      fwd.headers.emplace(k, v);
    }
  }
  fwd.headers.emplace("X-Forwarded-For", forwarded_for);
  if (in.is_multipart_form_data()) {
    std::string type;
    fwd.body = MultipartBody(in.files, &type);
    for (auto it = fwd.headers.begin(); it != fwd.headers.end();) {
      it = SameHeader(it->first, "Content-Type") ? fwd.headers.erase(it) : std::next(it);
    }
    fwd.headers.emplace("Content-Type", type);
  } else {
    fwd.body = in.body;
  }

  std::vector<std::shared_ptr<Replica>> tried;
  bool replied = false;
  std::string last_error = "no replica is routable";
  const Time wait_until = started + options.wait_for_replica;
  while (static_cast<int>(tried.size()) < options.max_attempts) {
    std::shared_ptr<Replica> r;
    std::unique_ptr<httplib::Client> client;
    std::string name;  // copied under the lock: SetReplicas may replace the endpoint meanwhile
    uint64_t generation = 0;
    {
      std::unique_lock lock(mu);
      // Wait for a replica (only before the first attempt: a retry that
      // finds none left gives up at once, the others having failed it).
      while ((r = Pick(region, tried)) == nullptr && tried.empty() && clock->WaitUntil(changed, lock, wait_until)) {
      }
      if (r == nullptr) break;
      tried.push_back(r);
      name = r->endpoint.name;
      generation = r->generation;
      client = TakeClient(*r);
      ++r->inflight;
      Touch(*r);
      AddInflight(+1);
      if (tried.size() > 1) ++retries;
    }
    const Time sent = clock->Now();
    httplib::Result res = client->send(fwd);
    const Duration took = clock->Now() - sent;
    const bool answered_ok = res && res->status != 503;  // 503: overloaded or going away; try another
    {
      std::lock_guard lock(mu);
      --r->inflight;
      AddInflight(-1);
      if (answered_ok) {
        ++r->served;
        SetService(
            *r, sched::NextServiceEwma(
                    r->service, took - r->endpoint.probe_rtt > Duration::Zero() ? took - r->endpoint.probe_rtt : took,
                    kServiceAlpha));
        if (r->idle.size() < 64 && r->generation == generation) r->idle.push_back(std::move(client));
      } else if (!res && r->generation == generation) {  // (a failure at its old address says nothing now)
        ++r->failed;
        r->failed_at = clock->Now();
        r->idle.clear();  // its other connections are as dead
      } else {
        ++r->served;
      }
      // (A replica SetReplicas dropped meanwhile is in no index now.)
      if (r->slot < replicas.size() && replicas[r->slot] == r) Touch(*r);
    }
    if (answered_ok || (res && static_cast<int>(tried.size()) >= options.max_attempts)) {
      out.status = res->status;
      for (const auto& [k, v] : res->headers) {
        if (!HopByHop(k) && k != "Content-Type") out.headers.emplace(k, v);
      }
      out.set_header("X-Stargate-Replica", name);
      const std::string type =
          res->has_header("Content-Type") ? res->get_header_value("Content-Type") : "application/octet-stream";
      out.set_content(res->body, type.c_str());
      replied = true;
      break;
    }
    last_error = res ? fmt::format("replica {} answered 503", name)
                     : fmt::format("replica {} did not answer: {}", name, httplib::to_string(res.error()));
  }
  const double seconds = (clock->Now() - started).seconds();
  std::lock_guard lock(mu);
  if (!replied) {
    ++given_up;
    out.status = 503;
    out.set_content(ErrorJson("unavailable",
                              fmt::format("{} (tried {} of {} replicas)", last_error, tried.size(), replicas.size())),
                    "application/json");
    return;
  }
  ++answered;
  latency_sum_s += seconds;
  size_t b = 0;
  while (b < std::size(kBuckets) && seconds > kBuckets[b]) ++b;
  ++bucket_counts[b];
}

void ServeRouter::Impl::ReplicasJson(httplib::Response& out) {
  nlohmann::json list = nlohmann::json::array();
  std::lock_guard lock(mu);
  for (const auto& r : replicas) {
    nlohmann::json net = nlohmann::json::object();
    for (const auto& [region, d] : r->endpoint.network_by_region) net[region] = d.nanos() / 1e6;
    list.push_back({{"name", r->endpoint.name},
                    {"address", fmt::format("{}:{}", r->endpoint.host, r->endpoint.port)},
                    {"site", r->endpoint.site},
                    {"routable", r->Routable()},
                    {"inflight", r->inflight},
                    {"served", r->served},
                    {"failed", r->failed},
                    {"service_ms", r->service.nanos() / 1e6},
                    {"probe_rtt_ms", r->endpoint.probe_rtt.nanos() / 1e6},
                    {"network_ms", net}});
  }
  out.set_content(nlohmann::json{{"replicas", list}, {"region", options.region}}.dump(), "application/json");
}

void ServeRouter::Impl::Metrics(httplib::Response& out) {
  std::lock_guard lock(mu);
  std::string t;
  t += "# HELP stargate_serve_requests_total Requests answered by a replica.\n# TYPE stargate_serve_requests_total "
       "counter\n";
  t += fmt::format("stargate_serve_requests_total {}\n", answered);
  t += "# HELP stargate_serve_unanswered_total Requests no replica answered (503 from the router).\n"
       "# TYPE stargate_serve_unanswered_total counter\n";
  t += fmt::format("stargate_serve_unanswered_total {}\n", given_up);
  t += "# HELP stargate_serve_retries_total Forwards retried on another replica.\n# TYPE stargate_serve_retries_total "
       "counter\n";
  t += fmt::format("stargate_serve_retries_total {}\n", retries);
  t += "# HELP stargate_serve_replica_inflight Requests in flight at each replica.\n# TYPE "
       "stargate_serve_replica_inflight gauge\n";
  for (const auto& r : replicas)
    t += fmt::format("stargate_serve_replica_inflight{{replica=\"{}\"}} {}\n", r->endpoint.name, r->inflight);
  t += "# HELP stargate_serve_replica_routable 1 when the replica gets traffic.\n# TYPE "
       "stargate_serve_replica_routable gauge\n";
  for (const auto& r : replicas)
    t += fmt::format("stargate_serve_replica_routable{{replica=\"{}\"}} {}\n", r->endpoint.name, r->Routable() ? 1 : 0);
  t += "# HELP stargate_serve_request_seconds Time from request to answer through the router.\n"
       "# TYPE stargate_serve_request_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= std::size(kBuckets); ++b) {
    cumulative += bucket_counts[b];
    t += fmt::format("stargate_serve_request_seconds_bucket{{le=\"{}\"}} {}\n",
                     b < std::size(kBuckets) ? fmt::format("{}", kBuckets[b]) : "+Inf", cumulative);
  }
  t += fmt::format("stargate_serve_request_seconds_sum {}\nstargate_serve_request_seconds_count {}\n", latency_sum_s,
                   answered);
  out.set_content(t, "text/plain; version=0.0.4");
}

ServeRouter::ServeRouter(RouterOptions options, Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {
  httplib::Server& s = impl_->server;
  const int threads = std::max(1, impl_->options.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_keep_alive_max_count(1'000'000);  // load generators keep their connections
  // An idle kept-alive connection holds a worker until this passes, and
  // Stop() waits for the workers: short, so a stopping router exits soon.
  s.set_keep_alive_timeout(5);
  s.set_tcp_nodelay(true);  // headers and body go out as separate writes: no Nagle wait between
  s.set_payload_max_length(size_t{64} << 20);
  auto handler = [this](const httplib::Request& in, httplib::Response& out) {
    if (in.path.rfind("/_stargate/", 0) == 0) {
      if (in.method == "GET" && in.path == "/_stargate/replicas") return impl_->ReplicasJson(out);
      if (in.method == "GET" && in.path == "/_stargate/metrics") return impl_->Metrics(out);
      out.status = 404;
      out.set_content(ErrorJson("not_found", "the router serves /_stargate/replicas and /_stargate/metrics"),
                      "application/json");
      return;
    }
    impl_->Forward(in, out);
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  s.Patch(".*", handler);
  s.Options(".*", handler);
}

ServeRouter::~ServeRouter() { Stop(); }

StatusOr<int> ServeRouter::Bind(const std::string& host, int port) { return BindHttplib(impl_->server, host, port); }

Status ServeRouter::Serve() {
  if (!impl_->server.listen_after_bind()) return absl::UnavailableError("the router stopped with an error");
  return Status();
}

bool ServeRouter::running() const { return impl_->server.is_running(); }

void ServeRouter::Stop() {
  if (impl_ && impl_->server.is_running()) impl_->server.stop();
}

void ServeRouter::SetReplicas(std::vector<ReplicaEndpoint> replicas) {
  std::lock_guard lock(impl_->mu);
  std::vector<std::shared_ptr<Impl::Replica>> next;
  for (ReplicaEndpoint& e : replicas) {
    std::shared_ptr<Impl::Replica> r;
    for (const auto& old : impl_->replicas) {
      if (old->endpoint.name == e.name) r = old;
    }
    if (r == nullptr) r = std::make_shared<Impl::Replica>();
    if (r->endpoint.host != e.host || r->endpoint.port != e.port) {  // moved (restarted elsewhere)
      r->idle.clear();
      ++r->generation;
      r->service = Duration::Zero();
    }
    r->endpoint = std::move(e);
    r->slot = next.size();
    next.push_back(std::move(r));
  }
  impl_->replicas = std::move(next);
  // The indexes are made again on the next requests.
  impl_->by_region.clear();
  impl_->regions.clear();
  impl_->service_sum_ns = 0;
  impl_->measured = 0;
  for (const auto& r : impl_->replicas) {
    for (const auto& [region, d] : r->endpoint.network_by_region) impl_->regions.insert(region);
    if (r->service > Duration::Zero()) {
      impl_->service_sum_ns += r->service.nanos();
      ++impl_->measured;
    }
  }
  impl_->changed.notify_all();
}

std::vector<ReplicaStats> ServeRouter::Stats() const {
  std::lock_guard lock(impl_->mu);
  std::vector<ReplicaStats> out;
  for (const auto& r : impl_->replicas) {
    out.push_back({r->endpoint.name, r->Routable(), r->inflight, r->served, r->failed, r->service});
  }
  return out;
}

double ServeRouter::TakeMeanInflight() {
  std::lock_guard lock(impl_->mu);
  impl_->AddInflight(0);
  const int64_t span = (impl_->area_last - impl_->area_since).nanos();
  const double mean = span > 0 ? impl_->area / static_cast<double>(span) : impl_->inflight_total;
  impl_->area = 0;
  impl_->area_since = impl_->area_last;
  return mean;
}

uint64_t ServeRouter::answered() const {
  std::lock_guard lock(impl_->mu);
  return impl_->answered;
}

uint64_t ServeRouter::given_up() const {
  std::lock_guard lock(impl_->mu);
  return impl_->given_up;
}

}  // namespace stargate::control
