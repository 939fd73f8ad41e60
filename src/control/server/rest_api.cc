#include "control/server/rest_api.h"

#include <charconv>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/server/rest_reply.h"
#include "core/job_file_parser.h"
#include "core/unit_parser.h"

namespace stargate::control {
namespace {

using nlohmann::json;
using rest::Dump;
using rest::ErrorResponse;
using rest::FromStatus;

constexpr size_t kMaxBody = size_t{1} << 20;

// `?allow_pending=true` (or 1): a job no site can run yet is queued for
// nodes yet to join instead of refused (ControlPlane::SubmitMany).
bool AllowPending(const HttpRequest& req) {
  auto it = req.query.find("allow_pending");
  return it != req.query.end() && (it->second == "true" || it->second == "1");
}

json MsOrNull(Time t) { return t == Time::Never() ? json(nullptr) : json(t.millis()); }
json QuantilesJson(const Quantiles& q) {
  return json{{"p10", MsOrNull(q[0])}, {"p50", MsOrNull(q[1])}, {"p90", MsOrNull(q[2])}};
}

// `standing`: the server's standing forecast (null: none), whose view of
// a pending or running job is shown with it.
// `predicted`: the run-time model's prediction for a live job (null: none
// shown).
json JobJson(const JobRecord& r, bool with_spec, const Forecast* standing = nullptr,
             const RunPrediction* predicted = nullptr) {
  const JobSpec& s = r.spec.spec;
  json accels = json::array();
  for (AcceleratorType t : s.accelerators) accels.push_back(Name(t));
  json j = {{"id", r.id},
            {"name", s.name},
            {"tenant", s.tenant},
            {"kind", Name(s.kind)},
            {"state", Name(r.state)},
            {"reason", r.reason},
            {"accelerators", accels},
            {"per_node", r.spec.spec.per_node},
            {"nodes", r.spec.nodes},
            {"priority", s.priority},
            {"restarts", r.restarts},
            {"submitted_unix_ms", r.submitted.millis()},
            {"updated_unix_ms", r.updated.millis()}};
  if (!r.idempotency_key.empty()) j["idempotency_key"] = r.idempotency_key;
  if (s.share_milli > 0) {  // a share of one device, and the slot it was packed into
    j["share"] = {{"of_device", s.share_milli / 1000.0}, {"slot", r.share_slot}};
  }
  if (r.array_id != 0) {
    j["array"] = {{"id", r.array_id}, {"index", r.array_index}, {"size", r.spec.array.size()}};
  }
  j["attempt"] = r.attempt;
  j["placement"] = r.nodes;                                  // the current (or last) attempt's nodes, in rank order
  if (r.failed_rank >= 0) j["failed_rank"] = r.failed_rank;  // whose exit ended the last failed attempt
  if (s.checkpoint.enabled && r.checkpoint_interval > Duration::Zero()) {  // of the current (or last) attempt
    j["checkpoint_interval_s"] = static_cast<double>(r.checkpoint_interval.millis()) / 1e3;
  }
  if (s.checkpoint.enabled) {  // where its checkpoints are (issue 22)
    json sites = json::object();
    for (const auto& [site, h] : r.checkpoints) {
      sites[site] = {{"step", h.step}, {"bytes", h.bytes}, {"seen_unix_ms", h.seen.millis()}};
    }
    j["checkpoints"] = {{"replica_sites", s.checkpoint.replica_sites}, {"sites", std::move(sites)}};
  }
  if (with_spec) j["spec"] = r.spec_text;
  json estimate = {{"given", r.spec.estimate_auto ? "auto" : "file"}};
  if (!r.spec.estimate_auto) estimate["file_s"] = r.spec.estimate.millis() / 1000.0;
  if (predicted != nullptr) {
    estimate["predicted_s"] = predicted->run_time.millis() / 1000.0;
    estimate["source"] = Name(predicted->source);
    estimate["from"] = predicted->from;
    estimate["fail_early"] = predicted->fail_early;
  }
  j["estimate"] = std::move(estimate);
  if (standing != nullptr && (r.state == JobState::kPending || r.state == JobState::kRunning)) {
    auto f = std::lower_bound(standing->jobs.begin(), standing->jobs.end(), r.id,
                              [](const JobForecast& x, uint64_t id) { return x.id < id; });
    if (f != standing->jobs.end() && f->id == r.id) {
      j["forecast"] = {{"as_of_unix_ms", standing->now.millis()},
                       {"horizon_s", standing->horizon.millis() / 1000},
                       {"start_unix_ms", QuantilesJson(f->start)},
                       {"finish_unix_ms", QuantilesJson(f->finish)},
                       {"site", f->site},
                       {"site_share", f->site_share},
                       {"run_time_s", f->run_time.millis() / 1000.0},
                       {"run_time_from", f->run_time_from}};
    }
  }
  return j;
}

std::optional<uint64_t> ParseId(std::string_view text) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::string Header(const HttpRequest& req, const std::string& name) {
  auto it = req.headers.find(name);
  return it == req.headers.end() ? "" : it->second;
}

}  // namespace

HttpResponse RestApi::Handle(const HttpRequest& req) {
  Who who = nullptr;
  if (access_ != nullptr && req.path != "/v1/health") {
    const std::string auth = Header(req, "authorization");
    constexpr std::string_view kBearer = "Bearer ";
    who = auth.starts_with(kBearer) ? access_->Find(std::string_view(auth).substr(kBearer.size())) : nullptr;
    if (who == nullptr) {
      return ErrorResponse(401, "unauthenticated",
                           "this server needs \"Authorization: Bearer TOKEN\" with a known token");
    }
    if (req.method != "GET" && who->role == Role::kViewer && req.path != "/v1/forecast" &&
        req.path != "/v1/forecast/scenario") {
      return ErrorResponse(403, "permission_denied", fmt::format("{} is a viewer: read only", who->name));
    }
  }
  HttpResponse out = Route(req, who);
  // Group commit (store.h): the answer leaves once what it reports and
  // what the call changed is on disk, whatever the call was.
  if (Status st = cp_->AwaitDurable(); !st.ok()) return FromStatus(st);
  return out;
}

HttpResponse RestApi::Route(const HttpRequest& req, Who who) {
  const std::string& p = req.path;
  if (p == "/v1/join-tokens" || p.starts_with("/v1/join-tokens/") ||
      (p.starts_with("/v1/nodes/") && p.ends_with("/revoke"))) {
    if (who != nullptr && who->role != Role::kAdmin) {
      return ErrorResponse(403, "permission_denied", "node identity is for admins");
    }
    return NodeIdentityCall(req, who);
  }
  if (p == "/v1/sites/reload") {  // read --sites again (as SIGHUP does)
    if (req.method != "POST") return ErrorResponse(405, "method_not_allowed", "use POST");
    if (who != nullptr && who->role != Role::kAdmin) {
      return ErrorResponse(403, "permission_denied", "reloading the sites file is for admins");
    }
    if (Status st = cp_->ReloadSites(Actor(who)); !st.ok()) return FromStatus(st);
    return ListSites(HttpRequest{});
  }
  if (p == "/v1/nodes" || p == "/v1/sites") {
    if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
    return p == "/v1/nodes" ? ListNodes(req) : ListSites(req);
  }
  if (p == "/v1/history") {  // the dashboard's time series (history.h); as /v1/sites, for any caller
    if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
    return HttpResponse{200, Dump(cp_->HistoryJson())};
  }
  if (p == "/v1/forecast" || p == "/v1/forecast/scenario") {  // POST: with a what-if (it changes nothing)
    if (req.method != "GET" && req.method != "POST") return ErrorResponse(405, "method_not_allowed", "use GET or POST");
    return GetForecast(req, who);
  }
  if (p == "/metrics") {  // Prometheus; with tokens on, any role may scrape
    if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
    HttpResponse out(200, cp_->RenderMetrics());
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return out;
  }
  if (p == "/v1/health") {
    if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
    StatusOr<int64_t> rev = cp_->Revision();
    if (!rev.ok()) return FromStatus(rev.status());
    return HttpResponse{200,
                        Dump(json{{"status", "ok"}, {"revision", *rev}, {"unreadable_jobs", cp_->UnreadableJobs()}})};
  }
  if (p == "/v1/audit") {
    if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
    if (who != nullptr && !(who->role == Role::kAdmin || (who->role == Role::kViewer && who->tenant.empty()))) {
      return ErrorResponse(403, "permission_denied", "the audit log is for admins and all-tenant viewers");
    }
    return QueryAudit(req);
  }
  if (p == "/v1/datasets" || p.starts_with("/v1/datasets/")) return DatasetCall(req, who);
  if (p == "/v1/jobs/bulk") {
    if (req.method != "POST") return ErrorResponse(405, "method_not_allowed", "use POST");
    return SubmitBulk(req, who);
  }
  if (p.starts_with("/v1/arrays/")) return ArrayCall(req, who);
  if (p == "/v1/jobs") {
    if (req.method == "POST") return Submit(req, who);
    if (req.method == "GET") return ListJobs(req, who);
    return ErrorResponse(405, "method_not_allowed", "use GET or POST");
  }
  constexpr std::string_view kJobs = "/v1/jobs/";
  if (p.starts_with(kJobs)) {
    std::string_view rest = std::string_view(p).substr(kJobs.size());
    const bool cancel = rest.ends_with("/cancel");
    if (cancel) rest.remove_suffix(std::string_view("/cancel").size());
    const bool logs = !cancel && rest.ends_with("/logs");
    if (logs) rest.remove_suffix(std::string_view("/logs").size());
    // /v1/jobs/ID/logs/RANK: one rank's log, fetched through the server.
    std::string_view rank;
    if (const size_t at = rest.find("/logs/"); !cancel && !logs && at != std::string_view::npos) {
      rank = rest.substr(at + 6);
      rest = rest.substr(0, at);
    }
    const std::optional<uint64_t> id = ParseId(rest);
    if (!id.has_value()) return ErrorResponse(404, "not_found", fmt::format("no such resource {}", p));
    if (auto no = Forbidden(*id, cancel, who)) return *no;
    if (logs || !rank.empty()) {
      if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
      return logs ? JobLogs(*id) : JobLog(*id, rank, req);
    }
    if (cancel) {
      if (req.method != "POST") return ErrorResponse(405, "method_not_allowed", "use POST");
      return CancelJob(*id, who);
    }
    if (req.method != "GET") return ErrorResponse(405, "method_not_allowed", "use GET");
    return GetJob(*id);
  }
  return ErrorResponse(404, "not_found", fmt::format("no such resource {}", p));
}

namespace {
// Job files, names and keys are text: bytes that are not UTF-8 are refused
// rather than stored and echoed back altered.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size() + (extra == 0 ? 1 : 0)) return false;
    for (int k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}
}  // namespace

namespace {
// Most job files in one bulk request, and most bytes of job records one
// request may store (an array stores its file once per job).
constexpr size_t kMaxBulkFiles = 1000;
constexpr uint64_t kMaxStoredBytes = uint64_t{64} << 20;

json ArrayJson(const std::vector<JobRecord>& jobs) {
  const JobRecord& first = jobs.front();
  return json{{"id", first.array_id},
              {"size", jobs.size()},
              {"indices", first.spec.array.text()},
              {"first_job", first.id},
              {"last_job", jobs.back().id}};
}

// What a bulk or single submit answers for one submission.
json MadeJson(const JobRegistry::Made& m) {
  json j = {{"job", JobJson(m.jobs.front(), false)}, {"created", m.created}};
  if (m.jobs.front().array_id != 0) j["array"] = ArrayJson(m.jobs);
  return j;
}
}  // namespace

StatusOr<JobRegistry::NewJob> RestApi::Prepare(std::string text, std::string filename, std::string key,
                                               const std::string& array, Who who) {
  if (text.size() > kMaxBody) {
    return absl::InvalidArgumentError(fmt::format("job file is {} bytes; the limit is {}", text.size(), kMaxBody));
  }
  if (filename.empty() || filename.size() > 256) filename = "job.yaml";
  if (!ValidUtf8(text) || !ValidUtf8(filename)) {
    return absl::InvalidArgumentError("the job file and its name must be UTF-8 text");
  }
  if (!ValidUtf8(key)) return absl::InvalidArgumentError("Idempotency-Key must be UTF-8 text");
  if (key.size() > 200) return absl::InvalidArgumentError("Idempotency-Key is longer than 200 bytes");
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f) return absl::InvalidArgumentError("Idempotency-Key has a control character");
  }
  // Parsed here, on the HTTP worker, outside the control plane's lock.
  SG_ASSIGN_OR_RETURN(JobFile spec, ParseJobFile(text, filename));
  if (!array.empty()) {  // --array: in place of the file's
    StatusOr<JobArray> a = JobArray::Parse(array);
    if (!a.ok()) return absl::InvalidArgumentError(fmt::format("array: {}", std::string(a.status().message())));
    spec.array = *std::move(a);
  }
  if (!spec.array.empty() && uint64_t{spec.array.size()} * (text.size() + 512) > kMaxStoredBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "array: {} jobs of a {}-byte job file would store more than {} MiB; use a shorter file or fewer jobs",
        spec.array.size(), text.size(), kMaxStoredBytes >> 20));
  }
  if (who != nullptr && !who->May(spec.spec.tenant, true)) {  // only into a tenant the caller may use
    return absl::PermissionDeniedError(
        fmt::format("{} may submit to tenant '{}' only, not '{}'", who->name, who->tenant, spec.spec.tenant));
  }
  return JobRegistry::NewJob{std::move(spec), std::move(text), std::move(filename), std::move(key)};
}

HttpResponse RestApi::Submit(const HttpRequest& req, Who who) {
  if (req.body.size() > kMaxBody) {
    return ErrorResponse(413, "too_large",
                         fmt::format("job file is {} bytes; the limit is {}", req.body.size(), kMaxBody));
  }
  auto array = req.query.find("array");
  StatusOr<JobRegistry::NewJob> item = Prepare(req.body, Header(req, "x-filename"), Header(req, "idempotency-key"),
                                               array == req.query.end() ? "" : array->second, who);
  if (!item.ok()) {
    // A refused tenant names its field, as a parse error does.
    if (item.status().code() == absl::StatusCode::kPermissionDenied) {
      return ErrorResponse(403, "permission_denied", std::string(item.status().message()), "tenant");
    }
    return FromStatus(item.status());
  }
  item->allow_pending = AllowPending(req);
  std::vector<JobRegistry::NewJob> one;
  one.push_back(*std::move(item));
  StatusOr<std::vector<JobRegistry::Made>> made = cp_->SubmitMany(std::move(one), Actor(who));
  if (!made.ok()) return FromStatus(made.status());
  const JobRegistry::Made& m = made->front();
  json out = {{"job", JobJson(m.jobs.front(), false)}};
  if (m.jobs.front().array_id != 0) out["array"] = ArrayJson(m.jobs);
  return HttpResponse{m.created ? 201 : 200, Dump(out)};
}

HttpResponse RestApi::SubmitBulk(const HttpRequest& req, Who who) {
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("jobs") || !body["jobs"].is_array()) {
    return ErrorResponse(400, "invalid_argument",
                         "expected {\"jobs\": [{\"file\": \"JOB FILE TEXT\", \"filename\": ..., "
                         "\"idempotency_key\": ..., \"array\": ...}, ...]}");
  }
  const json& jobs = body["jobs"];
  if (jobs.empty() || jobs.size() > kMaxBulkFiles) {
    return ErrorResponse(400, "invalid_argument", fmt::format("jobs: 1 to {} job files per request", kMaxBulkFiles),
                         "jobs");
  }
  std::vector<JobRegistry::NewJob> batch;
  batch.reserve(jobs.size());
  uint64_t total = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const json& e = jobs[i];
    auto text_of = [&](const char* name) -> std::optional<std::string> {
      if (!e.is_object() || !e.contains(name)) return std::string();
      if (!e[name].is_string()) return std::nullopt;
      return e[name].get<std::string>();
    };
    const std::optional<std::string> file = text_of("file"), filename = text_of("filename"),
                                     key = text_of("idempotency_key"), array = text_of("array");
    const std::string field = fmt::format("jobs[{}]", i);
    if (!e.is_object() || !file || !filename || !key || !array || file->empty()) {
      return ErrorResponse(400, "invalid_argument",
                           fmt::format("{}: an object with \"file\" (the job file's text) and optional string "
                                       "\"filename\", \"idempotency_key\" and \"array\"",
                                       field),
                           field);
    }
    StatusOr<JobRegistry::NewJob> item = Prepare(*file, *filename, *key, *array, who);
    if (!item.ok()) {
      return rest::FromStatusIn(item.status(), field);
    }
    item->allow_pending = AllowPending(req) || (e.contains("allow_pending") && e["allow_pending"] == true);
    total += item->spec.array.empty() ? 1 : item->spec.array.size();
    if (total > JobArray::kMaxSize) {
      return ErrorResponse(400, "invalid_argument", fmt::format("more than {} jobs in one request", JobArray::kMaxSize),
                           field);
    }
    batch.push_back(*std::move(item));
  }
  StatusOr<std::vector<JobRegistry::Made>> made = cp_->SubmitMany(std::move(batch), Actor(who));
  if (!made.ok()) return FromStatus(made.status());
  json results = json::array();
  bool created = false;
  for (const JobRegistry::Made& m : *made) {
    results.push_back(MadeJson(m));
    created = created || m.created;
  }
  return HttpResponse{created ? 201 : 200, Dump(json{{"results", results}})};
}

HttpResponse RestApi::ArrayCall(const HttpRequest& req, Who who) {
  std::string_view rest = std::string_view(req.path).substr(std::string_view("/v1/arrays/").size());
  const bool cancel = rest.ends_with("/cancel");
  if (cancel) rest.remove_suffix(std::string_view("/cancel").size());
  const std::optional<uint64_t> id = ParseId(rest);
  if (!id.has_value()) return ErrorResponse(404, "not_found", fmt::format("no such resource {}", req.path));
  if (req.method != (cancel ? "POST" : "GET")) {
    return ErrorResponse(405, "method_not_allowed", cancel ? "use POST" : "use GET");
  }
  if (auto no = Forbidden(*id, cancel, who)) return *no;
  StatusOr<std::vector<JobRecord>> jobs =
      cancel
          ? cp_->CancelArray(*id, fmt::format("cancelled by {}", who != nullptr ? who->name : "the user"), Actor(who))
          : cp_->Array(*id);
  if (!jobs.ok()) return FromStatus(jobs.status());
  json a = ArrayJson(*jobs);
  const JobRecord& first = jobs->front();
  a["name"] = first.spec.spec.name;
  a["tenant"] = first.spec.spec.tenant;
  json states = json::object();
  for (JobState s :
       {JobState::kPending, JobState::kRunning, JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}) {
    states[std::string(Name(s))] = 0;
  }
  int64_t first_submitted = first.submitted.millis(), last_updated = 0;
  for (const JobRecord& r : *jobs) {
    states[std::string(Name(r.state))] = states[std::string(Name(r.state))].get<int64_t>() + 1;
    last_updated = std::max(last_updated, r.updated.millis());
  }
  a["states"] = states;
  a["ended"] =
      states["succeeded"].get<int64_t>() + states["failed"].get<int64_t>() + states["cancelled"].get<int64_t>() ==
      static_cast<int64_t>(jobs->size());
  a["submitted_unix_ms"] = first_submitted;
  a["updated_unix_ms"] = last_updated;
  return HttpResponse{200, Dump(json{{"array", a}})};
}

HttpResponse RestApi::ListJobs(const HttpRequest& req, Who who) {
  std::string state_filter;
  if (auto it = req.query.find("state"); it != req.query.end()) state_filter = it->second;
  std::optional<uint64_t> array;
  if (auto it = req.query.find("array"); it != req.query.end()) {
    array = ParseId(it->second);
    if (!array.has_value()) {
      return ErrorResponse(400, "invalid_argument", fmt::format("array: '{}' is not an array id", it->second), "array");
    }
  }
  StatusOr<std::vector<JobRecord>> all = array.has_value() ? cp_->Array(*array) : cp_->Jobs();
  if (!all.ok()) return FromStatus(all.status());
  const std::shared_ptr<const Forecast> standing = forecaster_->Latest();
  json list = json::array();
  bool known_state = state_filter.empty();
  for (JobState s :
       {JobState::kPending, JobState::kRunning, JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}) {
    known_state = known_state || Name(s) == state_filter;
  }
  if (!known_state) {
    return ErrorResponse(
        400, "invalid_argument",
        fmt::format("unknown state '{}' (known: pending, running, succeeded, failed, cancelled)", state_filter),
        "state");
  }
  std::string tenant_filter;
  if (auto it = req.query.find("tenant"); it != req.query.end()) tenant_filter = it->second;
  std::vector<JobRecord> shown;
  for (JobRecord& r : *all) {
    if (who != nullptr && !who->May(r.spec.spec.tenant, false)) continue;  // other tenants' jobs are not shown
    if (!tenant_filter.empty() && r.spec.spec.tenant != tenant_filter) continue;
    if (state_filter.empty() || Name(r.state) == state_filter) shown.push_back(std::move(r));
  }
  std::vector<JobRecord> live;
  for (const JobRecord& r : shown) {
    if (r.state == JobState::kPending || r.state == JobState::kRunning) live.push_back(r);
  }
  const std::map<uint64_t, RunPrediction> predicted = cp_->Predictions(live);
  for (const JobRecord& r : shown) {
    auto p = predicted.find(r.id);
    list.push_back(JobJson(r, false, standing.get(), p == predicted.end() ? nullptr : &p->second));
  }
  return HttpResponse{200, Dump(json{{"jobs", list}})};
}

namespace {

// A forecast as the API shows it to `may_see` (a job's tenant -> shown).
template <typename MaySee>
json ForecastJson(const Forecast& f, const MaySee& may_see) {
  json jobs = json::array();
  for (const JobForecast& j : f.jobs) {
    if (!may_see(j.tenant)) continue;  // other tenants' jobs are not shown
    json e = {{"id", j.id},
              {"name", j.name},
              {"tenant", j.tenant},
              {"state", Name(j.state)},
              {"started_in_seeds", j.started},
              {"finished_in_seeds", j.finished},
              {"start_unix_ms", QuantilesJson(j.start)},
              {"finish_unix_ms", QuantilesJson(j.finish)},
              {"site", j.site},
              {"site_share", j.site_share},
              {"interruptions", j.interruptions},
              {"co2_kg", j.co2_kg},
              {"run_time_s", j.run_time.millis() / 1000.0},
              {"run_time_from", j.run_time_from},
              {"fail_early", j.fail_early}};
    if (j.added) e["what_if"] = true;
    jobs.push_back(std::move(e));
  }
  json sites = json::array();
  for (const SiteForecast& s : f.sites) {
    sites.push_back({{"name", s.name},
                     {"accelerators", s.accelerators},
                     {"power_cap_mw", s.power_cap_mw},
                     {"mean_mw", s.mean_mw},
                     {"peak_mw", s.peak_mw},
                     {"utilisation", s.utilisation},
                     {"tco2", s.tco2},
                     {"node_failures_per_year", s.node_failures_per_year}});
  }
  return json{{"now_unix_ms", f.now.millis()},
              {"horizon_s", f.horizon.millis() / 1000},
              {"seeds", f.seeds},
              {"policy", f.policy},
              {"goodput", f.goodput},
              {"useful_device_h", f.useful_device_h},
              {"tco2", f.tco2},
              {"jobs", jobs},
              {"sites", sites}};
}

template <typename MaySee>
json DiffJson(const ForecastDiff& d, const MaySee& may_see) {
  json jobs = json::array();
  for (const ForecastDiff::Job& j : d.jobs) {
    if (!may_see(j.tenant)) continue;
    jobs.push_back({{"id", j.id},
                    {"name", j.name},
                    {"tenant", j.tenant},
                    {"added", j.added},
                    {"start_p50_unix_ms", {MsOrNull(j.start_before), MsOrNull(j.start_after)}},
                    {"finish_p50_unix_ms", {MsOrNull(j.finish_before), MsOrNull(j.finish_after)}},
                    {"site", {j.site_before, j.site_after}},
                    {"co2_kg", {j.co2_kg_before, j.co2_kg_after}}});
  }
  json sites = json::array();
  for (const ForecastDiff::Site& s : d.sites) {
    sites.push_back({{"name", s.name},
                     {"tco2", {s.tco2_before, s.tco2_after}},
                     {"mean_mw", {s.mean_mw_before, s.mean_mw_after}},
                     {"utilisation", {s.utilisation_before, s.utilisation_after}}});
  }
  return json{{"goodput", {d.goodput_before, d.goodput_after}},
              {"tco2", {d.tco2_before, d.tco2_after}},
              {"jobs", jobs},
              {"sites", sites}};
}

// A duration field of a what-if ("2h"); false after setting *error.
bool ReadDuration(const json& v, const std::string& field, Duration* out, std::optional<HttpResponse>* error) {
  StatusOr<Duration> d = v.is_string() ? ParseDuration(v.get<std::string>()) : StatusOr<Duration>(Duration::Zero());
  if (!v.is_string() || !d.ok() || *d < Duration::Zero() || *d > Duration::Days(30)) {
    *error = ErrorResponse(400, "invalid_argument",
                           fmt::format("{}: expected a duration such as 2h, at most 30d", field), field);
    return false;
  }
  *out = *d;
  return true;
}

// The body of POST /v1/forecast: horizon, seeds and what_if (rest-api.md).
std::optional<HttpResponse> ReadForecastAsk(const std::string& body, ForecastOptions* o, WhatIf* w) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ErrorResponse(400, "invalid_argument", "expected a JSON object");
  std::optional<HttpResponse> error;
  auto bad = [&](const std::string& field, const std::string& problem) {
    return ErrorResponse(400, "invalid_argument", fmt::format("{}: {}", field, problem), field);
  };
  for (const auto& [key, value] : j.items()) {
    if (key != "horizon" && key != "seeds" && key != "what_if") return bad(key, "unknown field");
  }
  if (j.contains("horizon")) {
    if (!ReadDuration(j["horizon"], "horizon", &o->horizon, &error)) return error;
    if (o->horizon <= Duration::Zero() || o->horizon > ForecastOptions::kMaxHorizon) {
      return bad("horizon", "expected a duration above 0 and at most 7d");
    }
  }
  if (j.contains("seeds")) {
    if (!j["seeds"].is_number_integer() || j["seeds"].get<int64_t>() < 1 ||
        j["seeds"].get<int64_t>() > ForecastOptions::kMaxSeeds) {
      return bad("seeds", fmt::format("expected 1 to {}", ForecastOptions::kMaxSeeds));
    }
    o->seeds = j["seeds"].get<int>();
  }
  if (!j.contains("what_if")) return std::nullopt;
  const json& x = j["what_if"];
  if (!x.is_object()) return bad("what_if", "expected an object");
  auto list = [&](const char* name) -> const json* {
    return x.contains(name) && x[name].is_array() ? &x[name] : nullptr;
  };
  auto text = [](const json& v, const char* name) {
    return v.contains(name) && v[name].is_string() ? v[name].get<std::string>() : std::string();
  };
  for (const auto& [key, value] : x.items()) {
    static const std::set<std::string> kKnown = {"drains", "add_nodes", "policy", "weights", "spikes", "submit"};
    if (!kKnown.count(key)) return bad("what_if." + key, "unknown field");
    if ((key == "drains" || key == "add_nodes" || key == "spikes") && !value.is_array()) {
      return bad("what_if." + key, "expected a list");
    }
  }
  if (const json* drains = list("drains")) {
    for (size_t i = 0; i < drains->size(); ++i) {
      const json& d = (*drains)[i];
      const std::string field = fmt::format("what_if.drains[{}]", i);
      if (!d.is_object() || text(d, "target").empty()) return bad(field + ".target", "give a site or node name");
      WhatIf::Drain drain{text(d, "target"), Duration::Zero()};
      if (d.contains("at") && !ReadDuration(d["at"], field + ".at", &drain.at, &error)) return error;
      w->drains.push_back(std::move(drain));
    }
  }
  if (const json* adds = list("add_nodes")) {
    for (size_t i = 0; i < adds->size(); ++i) {
      const json& a = (*adds)[i];
      const std::string field = fmt::format("what_if.add_nodes[{}]", i);
      if (!a.is_object() || text(a, "site").empty()) return bad(field + ".site", "give the site");
      WhatIf::AddNodes add;
      add.site = text(a, "site");
      if (a.contains("count")) {
        if (!a["count"].is_number_integer()) return bad(field + ".count", "expected a whole number");
        add.count = static_cast<int>(std::clamp<int64_t>(a["count"].get<int64_t>(), -1, 1'000'000));
      }
      const std::string accel = text(a, "accelerators");  // "H100:8"
      const size_t colon = accel.find(':');
      StatusOr<AcceleratorType> type = ParseAcceleratorType(accel.substr(0, colon));
      const std::optional<uint64_t> per = colon == std::string::npos ? std::nullopt : ParseId(accel.substr(colon + 1));
      if (!type.ok() || !per.has_value()) return bad(field + ".accelerators", "expected TYPE:N, such as H100:8");
      add.type = *type;
      add.per_node = static_cast<int>(std::min<uint64_t>(*per, 1000));
      w->add_nodes.push_back(std::move(add));
    }
  }
  w->policy = text(x, "policy");
  if (x.contains("weights")) {
    if (!x["weights"].is_object()) return bad("what_if.weights", "expected an object of numbers");
    for (const auto& [name, v] : x["weights"].items()) {
      if (!v.is_number()) return bad("what_if.weights." + name, "expected a number");
      w->weights[name] = v.get<double>();
    }
  }
  if (const json* spikes = list("spikes")) {
    for (size_t i = 0; i < spikes->size(); ++i) {
      const json& v = (*spikes)[i];
      const std::string field = fmt::format("what_if.spikes[{}]", i);
      if (!v.is_object() || text(v, "site").empty()) return bad(field + ".site", "give the site");
      WhatIf::Spike spike;
      spike.site = text(v, "site");
      const std::string signal = text(v, "signal");
      if (signal != "carbon" && signal != "price") return bad(field + ".signal", "expected carbon or price");
      spike.carbon = signal == "carbon";
      if (!v.contains("value") || !v["value"].is_number()) return bad(field + ".value", "expected a number");
      spike.value = v["value"].get<double>();
      if (v.contains("from") && !ReadDuration(v["from"], field + ".from", &spike.from, &error)) return error;
      spike.to = spike.from + Duration::Hours(1);
      if (v.contains("to") && !ReadDuration(v["to"], field + ".to", &spike.to, &error)) return error;
      w->spikes.push_back(std::move(spike));
    }
  }
  if (x.contains("submit")) {
    if (!x["submit"].is_string() || x["submit"].get<std::string>().empty()) {
      return bad("what_if.submit", "expected a job file's text");
    }
    w->submit = x["submit"].get<std::string>();
  }
  return std::nullopt;
}
}  // namespace

// The forecaster busy with another ask is 429 (try again), not an error.
HttpResponse ForecastError(const Status& st) {
  if (st.code() == absl::StatusCode::kResourceExhausted) {
    return ErrorResponse(429, "resource_exhausted", std::string(st.message()));
  }
  return FromStatus(st);
}

HttpResponse RestApi::GetForecast(const HttpRequest& req, Who who) {
  ForecastOptions o;
  WhatIf what_if;
  if (req.method == "POST") {
    if (auto error = ReadForecastAsk(req.body, &o, &what_if)) return *error;
  }
  if (auto it = req.query.find("horizon"); it != req.query.end()) {
    StatusOr<Duration> h = ParseDuration(it->second);
    if (!h.ok() || *h <= Duration::Zero() || *h > ForecastOptions::kMaxHorizon) {
      return ErrorResponse(
          400, "invalid_argument",
          fmt::format("horizon: expected a duration above 0 and at most 7d, such as 24h; got '{}'", it->second),
          "horizon");
    }
    o.horizon = *h;
  }
  if (auto it = req.query.find("seeds"); it != req.query.end()) {
    const std::optional<uint64_t> n = ParseId(it->second);
    if (!n.has_value() || *n < 1 || *n > static_cast<uint64_t>(ForecastOptions::kMaxSeeds)) {
      return ErrorResponse(400, "invalid_argument",
                           fmt::format("seeds: expected 1 to {}, got '{}'", ForecastOptions::kMaxSeeds, it->second),
                           "seeds");
    }
    o.seeds = static_cast<int>(*n);
  }
  auto may_see = [who](const std::string& tenant) { return who == nullptr || who->May(tenant, false); };
  if (req.path == "/v1/forecast/scenario") {  // the scenario file (ExportForecast)
    if (who != nullptr && !who->tenant.empty()) {
      return ErrorResponse(403, "permission_denied",
                           fmt::format("{} sees tenant {} only; the scenario holds every tenant's jobs (admins and "
                                       "all-tenant viewers may export it)",
                                       who->name, who->tenant));
    }
    StatusOr<std::string> yaml = forecaster_->Export(o, what_if);
    if (!yaml.ok()) return ForecastError(yaml.status());
    HttpResponse out(200, std::move(yaml).value());
    out.content_type = "application/yaml";
    return out;
  }
  if (auto it = req.query.find("latest"); it != req.query.end() && it->second != "0" && req.method == "GET") {
    const std::shared_ptr<const Forecast> latest = forecaster_->Latest();
    if (latest == nullptr) {
      return ErrorResponse(404, "not_found", "no standing forecast yet (the server's --forecast-interval)");
    }
    return HttpResponse{200, Dump(ForecastJson(*latest, may_see))};
  }
  if (what_if.empty()) {
    StatusOr<Forecast> f = forecaster_->Ask(o);
    if (!f.ok()) return ForecastError(f.status());
    return HttpResponse{200, Dump(ForecastJson(*f, may_see))};
  }
  StatusOr<std::pair<Forecast, Forecast>> both = forecaster_->AskWhatIf(o, what_if);
  if (!both.ok()) return ForecastError(both.status());
  const auto& [base, changed] = *both;
  return HttpResponse{200, Dump(json{{"baseline", ForecastJson(base, may_see)},
                                     {"what_if", ForecastJson(changed, may_see)},
                                     {"changes", DiffJson(Diff(base, changed), may_see)}})};
}

HttpResponse RestApi::JobLogs(uint64_t id) {
  StatusOr<JobRecord> r = cp_->Job(id);
  if (!r.ok()) return FromStatus(r.status());
  json list = json::array();
  for (size_t rank = 0; rank < r->nodes.size(); ++rank) {
    const std::optional<NodeInfo> n = cp_->FindNode(r->nodes[rank]);
    json entry = {{"rank", rank}, {"node", r->nodes[rank]}, {"attempt", r->attempt}};
    if (n.has_value() && n->log_port > 0) entry["path"] = fmt::format("/v1/jobs/{}/logs/{}", r->id, rank);
    list.push_back(std::move(entry));
  }
  json out = {{"state", Name(r->state)}, {"logs", list}};
  if (r->failed_rank >= 0) out["failed_rank"] = r->failed_rank;
  return HttpResponse{200, Dump(out)};
}

HttpResponse RestApi::JobLog(uint64_t id, std::string_view rank_text, const HttpRequest& req) {
  StatusOr<JobRecord> r = cp_->Job(id);
  if (!r.ok()) return FromStatus(r.status());
  const std::optional<uint64_t> rank = ParseId(rank_text);
  if (!rank.has_value() || *rank >= r->nodes.size()) {
    return ErrorResponse(404, "not_found",
                         fmt::format("job {} has no rank {} (in its current attempt)", id, rank_text));
  }
  const std::optional<NodeInfo> n = cp_->FindNode(r->nodes[*rank]);
  if (!n.has_value() || n->log_port <= 0) {
    return ErrorResponse(404, "not_found", fmt::format("node {} serves no logs", r->nodes[*rank]));
  }
  // The caller's offset is into one attempt's log: a newer attempt has
  // its own file.
  if (auto it = req.query.find("attempt"); it != req.query.end() && it->second != std::to_string(r->attempt)) {
    return ErrorResponse(409, "conflict", fmt::format("job {} is on attempt {} now", id, r->attempt));
  }
  int64_t offset = 0;
  if (auto it = req.query.find("offset"); it != req.query.end()) {
    const std::optional<uint64_t> o = ParseId(it->second);
    if (!o.has_value() || *o > (uint64_t{1} << 62)) {
      return ErrorResponse(400, "invalid_argument", "offset: expected a byte offset (a whole number)");
    }
    offset = static_cast<int64_t>(*o);
  }
  HttpResponse out;
  out.fetch_url = fmt::format("http://{}:{}/logs/{}?offset={}", n->log_address.empty() ? n->address : n->log_address,
                              n->log_port, TaskLogName({r->id, r->attempt}), offset);
  out.fetch_headers["Authorization"] = "Bearer " + n->log_token;
  return out;
}

namespace {

// A list's filters and page, from the query: `KEY=VALUE` filters (each of
// `filters`; an item is kept when every given one matches), `after=NAME`
// (items named after it, in name order) and `limit=N` (at most N; 0 or
// none: all). Thousands of sites and nodes are read a page at a time.
struct ListQuery {
  std::map<std::string, std::string> match;
  std::string after;
  size_t limit = 0;
};
constexpr size_t kMaxListLimit = 100000;

std::optional<HttpResponse> ReadListQuery(const HttpRequest& req, std::initializer_list<const char*> filters,
                                          ListQuery* q) {
  for (const char* key : filters) {
    if (auto it = req.query.find(key); it != req.query.end()) q->match[key] = it->second;
  }
  if (auto it = req.query.find("after"); it != req.query.end()) q->after = it->second;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    size_t n = 0;
    const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (ec != std::errc() || end != it->second.data() + it->second.size() || n > kMaxListLimit) {
      return ErrorResponse(400, "invalid_argument",
                           fmt::format("limit: a whole number from 0 to {}, got '{}'", kMaxListLimit, it->second),
                           "limit");
    }
    q->limit = n;
  }
  return std::nullopt;
}

bool Matches(const ListQuery& q, const std::string& key, const std::string& value) {
  auto it = q.match.find(key);
  return it == q.match.end() || it->second == value;
}

// Of `names` (sorted), those the page holds: after q.after, at most
// q.limit; `next` is the name to ask `after` for the rest ("" = none).
std::vector<std::string> PageOf(const std::vector<std::string>& names, const ListQuery& q, std::string* next) {
  auto from = q.after.empty() ? names.begin() : std::upper_bound(names.begin(), names.end(), q.after);
  std::vector<std::string> out;
  for (auto it = from; it != names.end(); ++it) {
    if (q.limit > 0 && out.size() == q.limit) {
      *next = out.back();
      break;
    }
    out.push_back(*it);
  }
  return out;
}

json Listing(const char* key, json list, size_t total, const std::string& next) {
  json out = {{key, std::move(list)}, {"total", total}};
  if (!next.empty()) out["next"] = next;
  return out;
}

// ?by=region|jurisdiction: the sites aggregated per group.
json SitesBy(const std::string& by, const std::map<std::string, json>& sites) {
  // One row per region (or jurisdiction): its sites, nodes and devices.
  std::map<std::string, json> groups;
  for (const auto& [name, s] : sites) {
    const std::string key = s[by].get<std::string>();
    json& g = groups[key];
    if (g.is_null()) g = {{by, key}, {"sites", 0}, {"nodes", 0}, {"nodes_alive", 0}, {"accelerators", json::object()}};
    g["sites"] = g["sites"].get<int>() + 1;
    g["nodes"] = g["nodes"].get<int>() + s["nodes"].get<int>();
    g["nodes_alive"] = g["nodes_alive"].get<int>() + s["nodes_alive"].get<int>();
    for (const auto& [type, count] : s["accelerators"].items()) {
      json& acc = g["accelerators"][type];
      acc = (acc.is_null() ? 0 : acc.get<int>()) + count.get<int>();
    }
  }
  json list = json::array();
  for (auto& [key, g] : groups) list.push_back(std::move(g));
  return json{{by == "region" ? "regions" : "jurisdictions", std::move(list)}};
}

}  // namespace

HttpResponse RestApi::ListNodes(const HttpRequest& req) {
  ListQuery q;
  if (auto bad = ReadListQuery(req, {"site", "region", "jurisdiction"}, &q)) return *bad;
  const ControlPlane::NodesView view = cp_->Nodes();
  std::map<std::string, const ControlPlane::NodeView*> by_name;
  for (const ControlPlane::NodeView& v : view.nodes) {
    if (Matches(q, "site", v.info.site) && Matches(q, "region", v.info.region) &&
        Matches(q, "jurisdiction", v.info.jurisdiction)) {
      by_name.emplace(v.info.name, &v);
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, v] : by_name) names.push_back(name);
  std::string next;
  json list = json::array();
  for (const std::string& name : PageOf(names, q, &next)) {
    const ControlPlane::NodeView& v = *by_name.at(name);
    const NodeTelemetry& t = v.telemetry;
    json node = NodeJson(v.info);
    node.update({{"alive", v.alive},
                 {"last_heartbeat_unix_ms", t.last_heartbeat.millis()},
                 {"cpu_utilisation", t.cpu_utilisation},
                 {"memory_used_bytes", t.memory_used_bytes},
                 {"gpu_utilisation", t.gpu_utilisation},
                 {"gpu_power_w", t.gpu_power_w}});
    list.push_back(std::move(node));
  }
  return HttpResponse{200, Dump(Listing("nodes", std::move(list), names.size(), next))};
}

HttpResponse RestApi::ListSites(const HttpRequest& req) {
  ListQuery q;
  if (auto bad = ReadListQuery(req, {"region", "jurisdiction"}, &q)) return *bad;
  std::string by;
  if (auto it = req.query.find("by"); it != req.query.end()) by = it->second;
  if (!by.empty() && by != "region" && by != "jurisdiction") {
    return ErrorResponse(400, "invalid_argument", fmt::format("by: region or jurisdiction, got '{}'", by), "by");
  }
  const ControlPlane::NodesView nodes = cp_->Nodes();
  const ControlPlane::SitesView view = cp_->Sites();
  std::map<std::string, json> sites;
  for (const ControlPlane::NodeView& v : nodes.nodes) {
    const NodeInfo& n = v.info;
    if (!Matches(q, "region", n.region) || !Matches(q, "jurisdiction", n.jurisdiction)) continue;
    json& s = sites[n.site];
    if (s.is_null()) {
      s = {{"name", n.site}, {"region", n.region}, {"jurisdiction", n.jurisdiction},
           {"nodes", 0},     {"nodes_alive", 0},   {"accelerators", json::object()}};
    }
    s["nodes"] = s["nodes"].get<int>() + 1;
    if (v.alive) {
      s["nodes_alive"] = s["nodes_alive"].get<int>() + 1;
      s["gpu_power_w"] = s.value("gpu_power_w", 0.0) + v.telemetry.gpu_power_w;
    }
    json& acc = s["accelerators"][std::string(Name(n.accelerator))];
    acc = (acc.is_null() ? 0 : acc.get<int>()) + n.accelerators;
  }
  if (!by.empty()) return HttpResponse{200, Dump(SitesBy(by, sites))};
  std::vector<std::string> names;
  for (const auto& entry : sites) names.push_back(entry.first);
  std::string next;
  json list = json::array();
  for (const std::string& name : PageOf(names, q, &next)) {
    json& s = sites.at(name);  // (not a structured binding: `signal` captures it)
    // Measured reliability (what `checkpoint.interval: auto` plans with).
    auto h = nodes.health.find(name);
    const SiteHealth health = h == nodes.health.end() ? SiteHealth{} : h->second;
    s["node_hours"] = health.node_hours;
    s["failures"] = health.failures;
    if (!s.contains("gpu_power_w")) s["gpu_power_w"] = 0.0;
    // What the scheduler reckons it draws (measured, or estimated).
    if (auto d = view.draw.find(name); d != view.draw.end()) {
      s["facility_power_w"] = d->second.facility_w;
      s["power_source"] = d->second.Source();
    }
    // From --sites: where it is, what it may draw, its grid now.
    const SiteInfo* i = view.book != nullptr ? view.book->Find(name) : nullptr;
    if (i != nullptr) {
      if (i->latitude) s["latitude"] = *i->latitude;
      if (i->longitude) s["longitude"] = *i->longitude;
      if (i->power_cap_w) s["power_cap_w"] = *i->power_cap_w;
      s["pue"] = i->pue;
      const SiteGridNow g = view.book->GridAt(name, view.now);
      auto signal = [&](const char* key, double value, bool stale, Time as_of, const GridSeriesInfo& info) {
        json j = {{"value", value}, {"stale", stale}, {"stale_after_s", info.stale_after.seconds()}};
        if (as_of != Time::Never()) j["as_of_unix_ms"] = as_of.millis();
        s[key] = std::move(j);
      };
      if (g.carbon_given) {
        s["carbon_g_per_kwh"] = g.signals.carbon;
        signal("carbon", g.signals.carbon, g.signals.carbon_stale, g.carbon_as_of, i->carbon);
        s["carbon"]["forecast_mean"] = g.signals.carbon_ahead;
        s["carbon"]["forecast_min"] = g.signals.carbon_min_ahead;
        s["carbon"]["forecast_min_at_unix_ms"] = g.signals.carbon_min_at.millis();
      }
      if (g.price_given) {
        s["price_usd_per_mwh"] = g.signals.price;
        signal("price", g.signals.price, g.signals.price_stale, g.price_as_of, i->price);
      }
      s["forecast_s"] = i->forecast.seconds();
    }
    list.push_back(std::move(s));
  }
  return HttpResponse{200, Dump(Listing("sites", std::move(list), names.size(), next))};
}

HttpResponse RestApi::GetJob(uint64_t id) {
  StatusOr<JobRecord> r = cp_->Job(id);
  if (!r.ok()) return FromStatus(r.status());
  std::map<uint64_t, RunPrediction> predicted;
  if (r->state == JobState::kPending || r->state == JobState::kRunning) predicted = cp_->Predictions({*r});
  auto p = predicted.find(r->id);
  json j = JobJson(*r, true, forecaster_->Latest().get(), p == predicted.end() ? nullptr : &p->second);
  if (std::vector<CheckpointCopyState> copies = cp_->CheckpointCopies(id); !copies.empty()) {
    json list = json::array();
    for (const CheckpointCopyState& c : copies) {
      json e = {{"site", c.site},
                {"from", c.from},
                {"step", c.step},
                {"state", Name(c.state)},
                {"bytes_done", c.bytes_done},
                {"bytes_total", c.bytes_total},
                {"since_unix_ms", c.since.millis()},
                {"staging", c.staging}};
      if (c.ended != Time()) e["seconds"] = (c.ended - c.since).seconds();
      if (!c.error.empty()) e["error"] = c.error;
      list.push_back(std::move(e));
    }
    j["checkpoints"]["copies"] = std::move(list);
  }
  return HttpResponse{200, Dump(json{{"job", std::move(j)}})};
}

HttpResponse RestApi::CancelJob(uint64_t id, Who who) {
  StatusOr<JobRecord> r =
      cp_->Cancel(id, fmt::format("cancelled by {}", who != nullptr ? who->name : "the user"), Actor(who));
  if (!r.ok()) return FromStatus(r.status());
  return HttpResponse{200, Dump(json{{"job", JobJson(*r, false)}})};
}

std::optional<HttpResponse> RestApi::Forbidden(uint64_t id, bool write, Who who) {
  if (who == nullptr) return std::nullopt;
  StatusOr<JobRecord> r = cp_->Job(id);
  if (!r.ok()) return std::nullopt;
  if (!who->May(r->spec.spec.tenant, false)) {  // another tenant's job: as if there were none
    return FromStatus(absl::NotFoundError(fmt::format("no job {}", id)));
  }
  if (write && !who->May(r->spec.spec.tenant, true)) {  // a viewer of the tenant (405 came first for GETs)
    return ErrorResponse(403, "permission_denied", fmt::format("{} may not change job {}", who->name, id));
  }
  return std::nullopt;
}

HttpResponse RestApi::NodeIdentityCall(const HttpRequest& req, Who who) {
  const std::string& p = req.path;
  auto token_json = [](const JoinToken& t) {
    return json{{"id", t.id},
                {"node", t.node},
                {"created_unix_ms", t.created.millis()},
                {"expires_unix_ms", t.expires.millis()},
                {"created_by", t.created_by},
                {"revoked", t.revoked}};
  };
  if (p == "/v1/join-tokens") {
    if (req.method == "GET") {
      StatusOr<std::vector<JoinToken>> all = cp_->JoinTokens();
      if (!all.ok()) return FromStatus(all.status());
      json list = json::array();
      for (const JoinToken& t : *all) list.push_back(token_json(t));
      return HttpResponse{200, Dump(json{{"join_tokens", list}})};
    }
    if (req.method != "POST") return ErrorResponse(405, "method_not_allowed", "use GET or POST");
    int64_t ttl_s = 24 * 3600;
    std::string node;
    if (!req.body.empty()) {
      const json body = json::parse(req.body, nullptr, false);
      if (!body.is_object()) return ErrorResponse(400, "invalid_argument", "expected a JSON object {ttl_s, node}");
      const json ttl = body.value("ttl_s", json(ttl_s));
      if (!ttl.is_number_integer() || ttl.get<int64_t>() < 1 || ttl.get<int64_t>() > 365 * 24 * 3600) {
        return ErrorResponse(400, "invalid_argument", "ttl_s: whole seconds in [1, 31536000]", "ttl_s");
      }
      ttl_s = ttl.get<int64_t>();
      const json n = body.value("node", json(""));
      if (!n.is_string() || n.get<std::string>().size() > 253) {
        return ErrorResponse(400, "invalid_argument", "node: a node name", "node");
      }
      node = n.get<std::string>();
    }
    StatusOr<std::pair<std::string, JoinToken>> made = cp_->CreateJoinToken(Duration::Seconds(ttl_s), node, Actor(who));
    if (!made.ok()) return FromStatus(made.status());
    return HttpResponse{201, Dump(json{{"token", made->first}, {"join_token", token_json(made->second)}})};
  }
  if (req.method != "POST") return ErrorResponse(405, "method_not_allowed", "use POST");
  constexpr std::string_view kTokens = "/v1/join-tokens/", kNodes = "/v1/nodes/", kRevoke = "/revoke";
  std::string_view rest = p;
  if (!rest.ends_with(kRevoke)) return ErrorResponse(404, "not_found", fmt::format("no such resource {}", p));
  rest.remove_suffix(kRevoke.size());
  const bool token = rest.starts_with(kTokens);
  rest.remove_prefix(token ? kTokens.size() : kNodes.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return ErrorResponse(404, "not_found", fmt::format("no such resource {}", p));
  }
  const Status st =
      token ? cp_->RevokeJoinToken(std::string(rest), Actor(who)) : cp_->RevokeNode(std::string(rest), Actor(who));
  if (!st.ok()) return FromStatus(st);
  return HttpResponse{200, Dump(json{{"revoked", rest}})};
}

HttpResponse RestApi::QueryAudit(const HttpRequest& req) {
  AuditFilter f;
  auto get = [&](const char* k) {
    auto it = req.query.find(k);
    return it == req.query.end() ? std::string() : it->second;
  };
  if (const std::string job = get("job"); !job.empty()) {
    const std::optional<uint64_t> id = ParseId(job);
    if (!id.has_value()) return ErrorResponse(400, "invalid_argument", "job must be a job id", "job");
    f.job = *id;
  }
  if (const std::string limit = get("limit"); !limit.empty()) {
    const std::optional<uint64_t> n = ParseId(limit);
    if (!n.has_value() || *n == 0 || *n > 100000) {
      return ErrorResponse(400, "invalid_argument", "limit must be in [1, 100000]", "limit");
    }
    f.limit = *n;
  }
  f.actor = get("actor");
  f.action = get("action");
  StatusOr<std::vector<AuditEntry>> entries = cp_->QueryAudit(f);
  if (!entries.ok()) return FromStatus(entries.status());
  json list = json::array();
  for (const AuditEntry& e : *entries) {
    list.push_back({{"seq", e.seq},
                    {"unix_ms", e.at.millis()},
                    {"actor", e.actor},
                    {"action", e.action},
                    {"job", e.job},
                    {"detail", e.detail}});
  }
  return HttpResponse{200, Dump(json{{"entries", list}})};
}

}  // namespace stargate::control
