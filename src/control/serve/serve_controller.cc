#include "control/serve/serve_controller.h"

#include <httplib.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/net/http_client.h"
#include "core/job_file_parser.h"
#include "model/geo.h"
#include "runtime/random_hex.h"

namespace stargate::control {
namespace {

using json = nlohmann::json;

// "gone": the control plane no longer knows the job (or it is not ours).
bool Ended(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "cancelled" || state == "gone";
}

// How long a draining replica may take to finish its requests.
constexpr Duration kDrain = Duration::Seconds(30);
constexpr double kProbeAlpha = 0.3;  // EWMA weight of the newest probe round trip

sched::AutoscalePolicy PolicyOf(const ServeSpec& s) {
  return {s.min_replicas, s.max_replicas, s.target_inflight, s.scale_up_after, s.scale_down_after};
}

// GET `path` as a JSON object; NotFound for 404, else an error naming what
// failed.
StatusOr<json> GetJson(const std::string& server, const std::string& path) {
  SG_ASSIGN_OR_RETURN(const HttpResponse r, CallServer(server, "GET", path));
  if (r.status == 404) return absl::NotFoundError(fmt::format("GET {}: HTTP 404", path));
  if (r.status != 200) return absl::UnavailableError(fmt::format("GET {}: HTTP {}: {}", path, r.status, r.body));
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::UnavailableError(fmt::format("GET {}: not a JSON object", path));
  return j;
}

// The array at `key` of an object (empty when missing or not an array).
json ArrayAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : json::array();
}

// The object at `key` (empty when missing or not an object).
json ObjectAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : json::object();
}

// Exponential backoff for replacing replicas that keep failing: 1 s, 2 s,
// ... 64 s after the 1st, 2nd, ... 7th and later failure in a row.
Duration Backoff(int failures_in_row) { return Duration::Seconds(int64_t{1} << std::clamp(failures_in_row - 1, 0, 6)); }

}  // namespace

ServeController::ServeController(ServeFile file, std::string server, std::string router_region, ServeRouter* router,
                                 Log log, Clock* clock)
    : file_(std::move(file)),
      server_(std::move(server)),
      router_region_(std::move(router_region)),
      router_(router),
      log_(std::move(log)),
      clock_(clock),
      instance_(RandomHex(6)),
      autoscaler_(PolicyOf(file_.serve)) {}

Status ServeController::Start() {
  try {
    return Adopt();
  } catch (const std::exception& e) {  // an answer of an unexpected shape
    return absl::UnavailableError(fmt::format("reading the control plane's jobs: {}", e.what()));
  }
}

Status ServeController::Adopt() {
  const std::string& service = file_.job.spec.name;
  for (const char* state : {"running", "pending"}) {
    SG_ASSIGN_OR_RETURN(const json list, GetJson(server_, std::string("/v1/jobs?state=") + state));
    for (const json& j : ArrayAt(list, "jobs")) {
      if (!j.is_object()) continue;
      const int n = ReplicaNumber(service, j.value("name", ""));
      if (n < 0 || j.value("tenant", "") != file_.job.spec.tenant) continue;
      SG_ASSIGN_OR_RETURN(const json full, GetJson(server_, fmt::format("/v1/jobs/{}", j.value("id", 0))));
      const auto spec = ParseJobFile(ObjectAt(full, "job").value("spec", ""), "replica");
      if (!spec.ok() || !spec->env.count("PORT")) continue;  // not one of ours after all
      Replica r;
      r.n = n;
      r.job = j.value("id", uint64_t{0});
      r.port = std::atoi(spec->env.at("PORT").c_str());
      r.region = spec->spec.near;
      r.state = state;
      replicas_.push_back(r);
      next_n_ = std::max(next_n_, n + 1);
      log_(fmt::format("adopted replica {} (job {}, port {})", ReplicaJobName(service, n), r.job, r.port));
    }
  }
  wanted_ = std::clamp(static_cast<int>(replicas_.size()), file_.serve.min_replicas, file_.serve.max_replicas);
  return Status();
}

std::string ServeController::RegionForNewReplica() const {
  const std::vector<std::string>& regions = file_.serve.regions;
  if (regions.empty()) return file_.job.spec.near;
  std::string best;
  int best_count = INT32_MAX;
  for (const std::string& region : regions) {  // the region with the fewest, first listed on a tie
    const int count = static_cast<int>(std::count_if(
        replicas_.begin(), replicas_.end(), [&](const Replica& r) { return !r.draining && r.region == region; }));
    if (count < best_count) {
      best = region;
      best_count = count;
    }
  }
  return best;
}

int ServeController::FreePort() const {
  std::set<int> used;
  for (const Replica& r : replicas_) used.insert(r.port);
  for (int i = 0; i < kMaxReplicaPorts; ++i) {
    if (!used.count(file_.serve.port + i)) return file_.serve.port + i;
  }
  return -1;
}

Status ServeController::Submit(const std::string& region) {
  const int port = FreePort();
  if (port < 0) return absl::ResourceExhaustedError("every replica port is taken");
  const int n = next_n_;
  SG_ASSIGN_OR_RETURN(const std::string text, ReplicaJobText(file_, n, region, port));
  const std::string key = fmt::format("serve-{}-{}-r{}", instance_, file_.job.spec.name, n);
  StatusOr<HttpResponse> r;
  for (int attempt = 0; attempt < 3; ++attempt) {  // the same key makes a retry safe
    r = CallServer(server_, "POST", "/v1/jobs", text, {{"Idempotency-Key", key}, {"X-Filename", "serve"}});
    if (r.ok() && r->status != 503) break;
    clock_->SleepFor(Duration::Millis(200 << attempt));
  }
  if (!r.ok()) return r.status();
  if (r->status != 200 && r->status != 201) {
    return absl::FailedPreconditionError(
        fmt::format("submitting {}: HTTP {}: {}", ReplicaJobName(file_.job.spec.name, n), r->status, r->body));
  }
  const json job = json::parse(r->body, nullptr, false);
  if (job.is_discarded() || !job.contains("job")) return absl::UnavailableError("submit: the answer is not a job");
  ++next_n_;
  Replica rep;
  rep.n = n;
  rep.job = job["job"].value("id", uint64_t{0});
  rep.port = port;
  rep.region = region;
  rep.state = job["job"].value("state", "pending");
  replicas_.push_back(rep);
  log_(fmt::format("replica {} submitted as job {} (port {}{})", ReplicaJobName(file_.job.spec.name, n), rep.job, port,
                   region.empty() ? "" : ", near " + region));
  return Status();
}

void ServeController::Follow() {
  // Sites change rarely: their regions and coordinates every 10th pass.
  if (ticks_ % 10 == 0 || sites_.empty()) {
    if (auto sites = GetJson(server_, "/v1/sites"); sites.ok()) {
      sites_.clear();
      for (const json& s : ArrayAt(*sites, "sites")) {
        if (!s.is_object()) continue;
        Site& site = sites_[s.value("name", "")];
        site.region = s.value("region", "");
        site.located = s.contains("latitude") && s.contains("longitude");
        site.latitude = s.value("latitude", 0.0);
        site.longitude = s.value("longitude", 0.0);
      }
    }
  }
  auto nodes = GetJson(server_, "/v1/nodes");
  if (!nodes.ok()) {
    if (!server_down_logged_)
      log_(fmt::format("control plane unreachable ({}); routing to the replicas as last seen",
                       std::string(nodes.status().message())));
    server_down_logged_ = true;
    return;
  }
  if (server_down_logged_) log_("control plane reachable again");
  server_down_logged_ = false;
  std::map<std::string, std::pair<std::string, std::string>> where;  // node -> (address, site)
  for (const json& n : ArrayAt(*nodes, "nodes")) {
    if (!n.is_object()) continue;
    where[n.value("name", "")] = {n.value("address", ""), n.value("site", "")};
  }
  for (Replica& r : replicas_) {
    const std::string name = ReplicaJobName(file_.job.spec.name, r.n);
    auto got = GetJson(server_, fmt::format("/v1/jobs/{}", r.job));
    const json j = got.ok() ? ObjectAt(*got, "job") : json::object();
    if (absl::IsNotFound(got.status()) || (got.ok() && j.value("name", "") != name)) {
      // The control plane lost it (a server without durable state, say).
      if (r.state != "gone") log_(fmt::format("replica {}: job {} is gone", name, r.job));
      r.state = "gone";
      continue;
    }
    if (!got.ok()) continue;
    const std::string state = j.value("state", "");
    const int attempt = j.value("attempt", 0);
    std::string node;
    const json placement = ArrayAt(j, "placement");
    if (!placement.empty() && placement[0].is_string()) node = placement[0].get<std::string>();
    if (state != r.state && !(r.state == "pending" && state == "running")) {
      log_(fmt::format("replica {}: {} ({})", name, state, j.value("reason", "")));
    }
    if (attempt != r.attempt || node != r.node) {  // placed, or restarted elsewhere: check it afresh
      r.healthy = false;
      r.failed_checks = 0;
      r.probe_rtt = Duration::Zero();
      r.failing_since = Time();
      r.healthy_at = Time();
      if (!node.empty()) {
        log_(fmt::format("replica {} placed on {} (site {}), attempt {}", name, node, where[node].second, attempt));
      }
    }
    r.state = state;
    r.attempt = attempt;
    r.node = node;
    auto w = where.find(node);
    r.host = w == where.end() ? "" : w->second.first;
    r.site = w == where.end() ? "" : w->second.second;
  }
}

void ServeController::CheckHealth() {
  const ServeSpec& s = file_.serve;
  struct Probe {
    bool ok = false;
    Time started;
    Duration took;
  };
  std::vector<std::future<Probe>> probes;
  for (const Replica& r : replicas_) {
    const bool placed = r.state == "running" && !r.host.empty();
    probes.push_back(std::async(std::launch::async, [placed, host = r.host, port = r.port, &s, clock = clock_]() {
      Probe p;
      if (!placed) return p;
      p.started = clock->Now();
      httplib::Client c(host, port);
      const int64_t us = s.health_timeout.nanos() / 1000;
      c.set_connection_timeout(us / 1'000'000, us % 1'000'000);
      c.set_read_timeout(us / 1'000'000, us % 1'000'000);
      httplib::Result res = c.Get(s.health_path);
      p.took = clock->Now() - p.started;
      p.ok = res && res->status >= 200 && res->status < 300;
      return p;
    }));
  }
  for (size_t i = 0; i < replicas_.size(); ++i) {
    Replica& r = replicas_[i];
    const Probe p = probes[i].get();
    if (r.state != "running" || r.host.empty()) continue;
    const std::string name = ReplicaJobName(file_.job.spec.name, r.n);
    if (p.ok) {
      if (!r.healthy) log_(fmt::format("replica {} healthy at {}:{}", name, r.host, r.port));
      failures_in_row_ = 0;
      r.healthy = true;
      r.failed_checks = 0;
      r.failing_since = Time();
      r.healthy_at = p.started;
      r.probe_rtt = r.probe_rtt > Duration::Zero()
                        ? Duration::Nanos(static_cast<int64_t>(kProbeAlpha * p.took.nanos() +
                                                               (1 - kProbeAlpha) * r.probe_rtt.nanos()))
                        : p.took;
    } else if (r.failing_since == Time() && r.healthy_at != Time()) {  // a slow start is not a failure
      r.failing_since = p.started;
    }
    if (!p.ok && ++r.failed_checks >= s.health_failures && r.healthy) {
      r.healthy = false;
      log_(fmt::format("replica {} unhealthy: {} failed health checks", name, r.failed_checks));
    }
  }
}

std::map<std::string, Duration> ServeController::NetworkFrom(const std::string& site) const {
  std::map<std::string, Duration> out;
  auto at = sites_.find(site);
  if (at == sites_.end() || !at->second.located) return out;
  std::set<std::string> regions(file_.serve.regions.begin(), file_.serve.regions.end());
  if (!router_region_.empty()) regions.insert(router_region_);
  for (const auto& [name, s] : sites_) regions.insert(s.region);
  for (const std::string& region : regions) {
    double lat = 0, lon = 0;  // the region's centre: the mean of its located sites
    int n = 0;
    for (const auto& [name, s] : sites_) {
      if (s.located && (s.region == region || name == region)) {
        lat += s.latitude;
        lon += s.longitude;
        ++n;
      }
    }
    if (n == 0) continue;
    out[region] =
        model::FiberRoundTrip(model::HaversineKm(lat / n, lon / n, at->second.latitude, at->second.longitude));
  }
  return out;
}

void ServeController::Scale(Time now) {
  const std::string& service = file_.job.spec.name;
  // Replicas whose job ended are gone; the count below brings new ones.
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    if (!Ended(it->state)) {
      ++it;
      continue;
    }
    if (!it->draining) {
      log_(fmt::format("replica {} ended ({}); replacing it", ReplicaJobName(service, it->n), it->state));
      if (it->state != "succeeded") {  // a crash loop must not become a job flood
        ++failures_in_row_;
        no_submit_before_ = now + Backoff(failures_in_row_);
      }
    }
    it = replicas_.erase(it);
  }
  // A placed replica failing its checks too long: cancelled, so replaced below.
  for (Replica& r : replicas_) {
    if (r.draining || r.failing_since == Time() || now - r.failing_since < file_.serve.replace_after) {
      continue;
    }
    log_(fmt::format("replica {} failed its health checks for {:.0f} s; replacing it", ReplicaJobName(service, r.n),
                     (now - r.failing_since).seconds()));
    r.draining = true;  // no traffic; cancelled below at once (nothing in flight succeeds there anyway)
    r.drain_started = now - kDrain;
  }
  int active =
      static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(), [](const Replica& r) { return !r.draining; }));
  const double inflight = router_->TakeMeanInflight();
  const int next = autoscaler_.Observe(now, inflight, wanted_);
  if (next != wanted_) {
    log_(fmt::format("scaling {} -> {} replicas (mean {:.1f} requests in flight, target {} each)", wanted_, next,
                     inflight, file_.serve.target_inflight));
    wanted_ = next;
  }
  if (active < wanted_ && now < no_submit_before_) {
    if (!backoff_logged_) {
      log_(fmt::format("{} replicas failed in a row: the next one in {:.0f} s", failures_in_row_,
                       (no_submit_before_ - now).seconds()));
    }
    backoff_logged_ = true;
    active = wanted_;  // nothing this pass
  } else {
    backoff_logged_ = false;
  }
  while (active < wanted_) {
    if (Status st = Submit(RegionForNewReplica()); !st.ok()) {
      log_(fmt::format("cannot add a replica: {}", std::string(st.message())));
      break;
    }
    ++active;
  }
  std::map<std::string, int> inflight_at;  // by replica name, as the router counts now
  for (const ReplicaStats& s : router_->Stats()) inflight_at[s.name] = s.inflight;
  auto inflight_of = [&](const Replica& r) { return inflight_at[ReplicaJobName(service, r.n)]; };
  if (active > wanted_) {  // drain the one serving least: an unhealthy one, else the least loaded (newest on a tie)
    Replica* victim = nullptr;
    for (Replica& r : replicas_) {
      if (r.draining) continue;
      if (victim == nullptr || (victim->healthy && !r.healthy) ||
          (victim->healthy == r.healthy && inflight_of(r) <= inflight_of(*victim))) {
        victim = &r;
      }
    }
    if (victim != nullptr) {
      victim->draining = true;
      victim->drain_started = now;
      log_(fmt::format("draining replica {}", ReplicaJobName(service, victim->n)));
    }
  }
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    if (!it->draining) {
      ++it;
      continue;
    }
    const std::string name = ReplicaJobName(service, it->n);
    if (inflight_of(*it) > 0 && now - it->drain_started < kDrain) {
      ++it;
      continue;
    }
    auto r = CallServer(server_, "POST", fmt::format("/v1/jobs/{}/cancel", it->job));
    if (!r.ok() || (r->status != 200 && r->status != 409)) {
      ++it;  // try again next pass
      continue;
    }
    log_(fmt::format("replica {} drained and cancelled", name));
    it = replicas_.erase(it);
  }
}

void ServeController::Publish() {
  std::vector<ReplicaEndpoint> table;
  for (const Replica& r : replicas_) {
    ReplicaEndpoint e;
    e.name = ReplicaJobName(file_.job.spec.name, r.n);
    e.host = r.host;
    e.port = r.port;
    e.site = r.site;
    e.network_by_region = NetworkFrom(r.site);
    e.probe_rtt = r.probe_rtt;
    e.routable = r.healthy && !r.draining && r.state == "running" && !r.host.empty();
    e.healthy_at = r.healthy_at;
    table.push_back(std::move(e));
  }
  router_->SetReplicas(std::move(table));
}

void ServeController::Tick() {
  const Time now = clock_->Now();
  try {
    Follow();
    CheckHealth();
    Publish();  // before scaling: a replica found dead stops getting traffic now
    if (!server_down_logged_) {
      Scale(now);
      Publish();
    }
  } catch (const std::exception& e) {  // an answer of an unexpected shape: try again next pass
    log_(fmt::format("controller pass failed: {}", e.what()));
  }
  ++ticks_;
}

void ServeController::Shutdown() {
  for (const Replica& r : replicas_) {
    auto res = CallServer(server_, "POST", fmt::format("/v1/jobs/{}/cancel", r.job));
    if (!res.ok() || (res->status != 200 && res->status != 409)) {
      log_(fmt::format("could not cancel replica job {}: {}", r.job,
                       res.ok() ? fmt::format("HTTP {}", res->status) : std::string(res.status().message())));
    }
  }
  log_(fmt::format("cancelled {} replica jobs", replicas_.size()));
  replicas_.clear();
  router_->SetReplicas({});
}

}  // namespace stargate::control
