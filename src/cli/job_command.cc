// `stargate job submit|list|show|cancel|wait|logs` and `stargate run`:
// the user API from the shell. Exit codes: exit_codes.h (docs/cli.md).
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/rest_client.h"
#include "core/clock.h"
#include "runtime/random_hex.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

// A fresh key per submission, so a retry after a lost reply is recognised.
std::string RandomKey() { return "cli-" + RandomHex(4); }

using Response = RestClient::Response;

// The exit code for how a job (or, with several, the worst of them) ended.
int OutcomeCode(const std::string& state) {
  if (state == "succeeded") return exit_code::kOk;
  if (state == "cancelled") return exit_code::kJobCancelled;
  return exit_code::kJobFailed;
}

std::string Resources(const json& job) {
  std::string types;
  for (const auto& t : job["accelerators"]) types += (types.empty() ? "" : "|") + t.get<std::string>();
  return fmt::format("{}x {}:{}", job["nodes"].get<int>(), types, job["per_node"].get<int>());
}

struct Common {
  Clock* clock = nullptr;  // for retries and polls
  // One connection for all of a command's calls, made on first use (once
  // the command line, with --server and --context, is parsed).
  std::unique_ptr<RestClient> client;
  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    if (client == nullptr) client = std::make_unique<RestClient>(ServerUrl(), Settings().token);
    return client->Call(method, path, body, headers);
  }
};

// A job as the user names it: its id, or ARRAY_INDEX (an array's element
// by index, as squeue prints it).
struct JobRef {
  uint64_t id = 0;
  std::optional<uint32_t> index;
};

std::optional<JobRef> ParseRef(const std::string& text) {
  JobRef r;
  const size_t us = text.find('_');
  auto number = [](std::string_view t, auto& out) {
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return !t.empty() && ec == std::errc() && end == t.data() + t.size();
  };
  if (!number(std::string_view(text).substr(0, us), r.id)) return std::nullopt;
  if (us != std::string::npos) {
    uint32_t index = 0;
    if (!number(std::string_view(text).substr(us + 1), index)) return std::nullopt;
    r.index = index;
  }
  return r;
}

// The job `ref` names: an element by index is looked up in its array.
// With `whole_array`, an array's id names the whole array (as scancel
// does): its summary (GET /v1/arrays/ID) is put in *array.
std::optional<uint64_t> Resolve(Common& c, const JobRef& ref, std::string* error, json* array = nullptr,
                                bool* unreachable = nullptr) {
  if (ref.index.has_value()) {
    const Response r = c.Call("GET", fmt::format("/v1/jobs?array={}", ref.id));
    if (!r.ok()) {
      *error = r.error;
      if (unreachable != nullptr) *unreachable = r.unreachable;
      return std::nullopt;
    }
    if (r.status != 200) {
      const json j = json::parse(r.body, nullptr, false);
      *error = !j.is_discarded() && j.contains("error") ? j["error"].value("message", r.body) : r.body;
      return std::nullopt;
    }
    const json list = json::parse(r.body);
    for (const json& j : list["jobs"]) {
      if (j["array"]["index"].get<uint32_t>() == *ref.index) return j["id"].get<uint64_t>();
    }
    *error = fmt::format("array {} has no index {}", ref.id, *ref.index);
    return std::nullopt;
  }
  if (array != nullptr) {
    const Response r = c.Call("GET", fmt::format("/v1/arrays/{}", ref.id));
    if (r.ok() && r.status == 200) *array = json::parse(r.body)["array"];
  }
  return ref.id;
}

// Reads a job reference argument; prints why not and returns nullopt.
std::optional<JobRef> RefArg(const std::string& text) {
  std::optional<JobRef> ref = ParseRef(text);
  if (!ref.has_value()) std::cerr << "error: '" << text << "' is not a job id (ID, or ARRAY_INDEX as in 12_3)\n";
  return ref;
}

// What a job argument names once looked up: a job, or (an array's id)
// the whole array, with its summary.
struct Named {
  uint64_t id = 0;
  bool whole_array = false;
  json array;
};
// Says why on stderr, and sets *exit_code, when `text` names nothing.
// Without `arrays`, an array's id is only its first job's (no summary
// fetched).
std::optional<Named> Lookup(Common& c, const std::string& text, int* exit_code, bool arrays = true) {
  std::optional<JobRef> ref = RefArg(text);
  if (!ref.has_value()) {
    *exit_code = exit_code::kUsage;
    return std::nullopt;
  }
  Named out;
  std::string error;
  bool unreachable = false;
  std::optional<uint64_t> id = Resolve(c, *ref, &error, arrays ? &out.array : nullptr, &unreachable);
  if (!id.has_value()) {
    std::cerr << "error: " << error << "\n";
    *exit_code = unreachable ? exit_code::kUnreachable : exit_code::kNotFound;
    return std::nullopt;
  }
  out.id = *id;
  out.whole_array = out.array.is_object() && out.array["id"].get<uint64_t>() == *id;
  return out;
}

// Submits `text` (named `filename` in errors) and prints what was made
// (with `quiet` its id only); with `id`, puts the id there and prints
// nothing unless `quiet`. Says why and returns the exit code on failure.
int SubmitText(Common& c, const std::string& text, const std::string& filename, std::string key,
               const std::string& array, bool quiet, bool allow_pending, uint64_t* id = nullptr) {
  // The server checks the file: its errors name the file as given here
  // (X-Filename), its line and field, as a local parse would (the `stargate`
  // front binary links no YAML parser, to start fast).
  if (key.empty()) key = RandomKey();
  Response r;
  std::string path = array.empty() ? "/v1/jobs" : "/v1/jobs?array=" + UrlEncode(array);
  if (allow_pending) path += array.empty() ? "?allow_pending=true" : "&allow_pending=true";
  for (int attempt = 0; attempt < 5; ++attempt) {  // the same key makes retries safe
    r = c.Call("POST", path, text, {{"Idempotency-Key", key}, {"X-Filename", filename}});
    if (r.ok() && r.status != 503) break;
    if (r.unreachable && attempt >= 2) break;  // nobody there: say so soon
    c.clock->SleepFor(Duration::Millis(200 << attempt));
  }
  if (!r.ok() || (r.status != 200 && r.status != 201)) return ReportFailure(r);
  const json answer = json::parse(r.body);
  const json& job = answer["job"];
  const char* known = r.status == 200 ? ", already known under this idempotency key" : "";
  const uint64_t made = answer.contains("array") ? answer["array"]["id"].get<uint64_t>() : job["id"].get<uint64_t>();
  if (id != nullptr) {  // the caller says what it needs to
    *id = made;
    if (!quiet) return exit_code::kOk;
  }
  if (quiet) {
    fmt::print("{}\n", made);
  } else if (answer.contains("array")) {
    const json& a = answer["array"];
    fmt::print("array {} submitted: {} jobs (indices {}, ids {}-{}){}\n", a["id"].get<uint64_t>(),
               a["size"].get<uint64_t>(), a["indices"].get<std::string>(), a["first_job"].get<uint64_t>(),
               a["last_job"].get<uint64_t>(), known);
  } else {
    fmt::print("job {} submitted ({}){}\n", job["id"].get<uint64_t>(), job["state"].get<std::string>(), known);
  }
  std::fflush(stdout);
  return exit_code::kOk;
}

// `file` is a path, or "-" for standard input.
int Submit(Common& c, const std::string& file, const std::string& key, const std::string& array, bool quiet,
           bool allow_pending) {
  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream f(file, std::ios::binary);
    if (!f) {
      std::cerr << "error: cannot read " << file << "\n";
      return exit_code::kUsage;
    }
    text << f.rdbuf();
  }
  return SubmitText(c, text.str(), file == "-" ? "<stdin>" : file, key, array, quiet, allow_pending);
}

// The jobs of a list call, or the exit code it failed with.
struct StatusOrJobs {
  json jobs = json::array();
  int code = exit_code::kOk;
};

struct ListFilter {
  std::string state, tenant;
  uint64_t array = 0;
};

StatusOrJobs ListJobs(Common& c, const ListFilter& f) {
  std::string query;
  auto add = [&](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
  if (!f.state.empty()) add("state=" + UrlEncode(f.state));
  if (!f.tenant.empty()) add("tenant=" + UrlEncode(f.tenant));
  if (f.array != 0) add(fmt::format("array={}", f.array));
  Response r = c.Call("GET", "/v1/jobs" + query);
  StatusOrJobs out;
  if (!r.ok() || r.status != 200) {
    out.code = ReportFailure(r);
    return out;
  }
  out.jobs = json::parse(r.body)["jobs"];
  return out;
}

int List(Common& c, const ListFilter& filter, Format format) {
  StatusOrJobs got = ListJobs(c, filter);
  if (got.code != exit_code::kOk) return got.code;
  const json& jobs = got.jobs;
  std::vector<std::string> names;
  for (const json& j : jobs) names.push_back(fmt::format("job/{}", j["id"].get<uint64_t>()));
  if (PrintAs(format, json{{"jobs", jobs}}, names)) return exit_code::kOk;
  const bool wide = format == Format::kWide;
  fmt::print("{:>6}  {:<12} {:<24} {:<12} {:<10} {:<10} {:<16} {:>8}{}\n", "ID", "ARRAY", "NAME", "TENANT", "KIND",
             "STATE", "RESOURCES", "PRIORITY",
             wide ? fmt::format("  {:>8}  {:<24} {}", "RESTARTS", "NODES", "REASON") : "");
  for (const json& j : jobs) {
    const std::string element = j.contains("array") ? fmt::format("{}_{}", j["array"]["id"].get<uint64_t>(),
                                                                  j["array"]["index"].get<uint32_t>())
                                                    : "-";
    std::string extra;
    if (wide) {
      std::string nodes;
      for (const json& n : j.value("placement", json::array()))
        nodes += (nodes.empty() ? "" : ",") + n.get<std::string>();
      extra = fmt::format("  {:>8}  {:<24} {}", j["restarts"].get<int>(), nodes.empty() ? "-" : nodes,
                          j["reason"].get<std::string>());
    }
    fmt::print("{:>6}  {:<12} {:<24} {:<12} {:<10} {:<10} {:<16} {:>8}{}\n", j["id"].get<uint64_t>(), element,
               j["name"].get<std::string>(), j["tenant"].get<std::string>(), j["kind"].get<std::string>(),
               j["state"].get<std::string>(), Resources(j), j["priority"].get<int>(), extra);
  }
  return exit_code::kOk;
}

// "pending 3, running 2, succeeded 95" (the states with any).
std::string StateCounts(const json& states) {
  std::string out;
  for (const char* s : {"pending", "running", "succeeded", "failed", "cancelled"}) {
    const int64_t n = states.value(s, int64_t{0});
    if (n > 0) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", s, n);
  }
  return out;
}

void PrintArray(const json& a) {
  fmt::print("array:     {}\nname:      {}\ntenant:    {}\njobs:      {} (indices {}, ids {}-{})\nstates:    {}\n",
             a["id"].get<uint64_t>(), a["name"].get<std::string>(), a["tenant"].get<std::string>(),
             a["size"].get<uint64_t>(), a["indices"].get<std::string>(), a["first_job"].get<uint64_t>(),
             a["last_job"].get<uint64_t>(), StateCounts(a["states"]));
}

// Waits until every job `refs` names has ended (an array's id: all its
// jobs); exit 0 when all succeeded, 8 when any failed, else 9 when any
// was cancelled, 3 on timeout (exit_codes.h).
int Wait(Common& c, const std::vector<std::string>& refs, double timeout_s) {
  struct Target {
    std::string name;
    uint64_t id = 0;
    bool array = false;
  };
  std::vector<Target> targets;
  for (const std::string& text : refs) {
    int code = 0;
    const std::optional<Named> named = Lookup(c, text, &code);
    if (!named.has_value()) return code;  // nothing to wait for
    targets.push_back(Target{text, named->id, named->whole_array});
  }
  const Time deadline = timeout_s > 0 ? c.clock->Now() + Duration::Seconds(timeout_s) : Time::Never();
  int worst = exit_code::kOk;             // failed over cancelled over succeeded
  Duration pause = Duration::Millis(50);  // short jobs end soon: poll fast at first, then every second
  for (const Target& t : targets) {
    for (;;) {
      auto r = c.Call("GET", fmt::format("/v1/{}/{}", t.array ? "arrays" : "jobs", t.id));
      if (!r.ok() || r.status != 200) return ReportFailure(r);
      const json j = json::parse(r.body)[t.array ? "array" : "job"];
      const std::string state = t.array ? "" : j["state"].get<std::string>();
      const bool ended = t.array ? j["ended"].get<bool>() : state != "pending" && state != "running";
      if (ended) {
        int code = OutcomeCode(state);
        if (t.array) {
          const json& n = j["states"];
          code = n.value("failed", uint64_t{0}) > 0      ? exit_code::kJobFailed
                 : n.value("cancelled", uint64_t{0}) > 0 ? exit_code::kJobCancelled
                                                         : exit_code::kOk;
        }
        if (code == exit_code::kJobFailed) {
          worst = code;
        } else if (code == exit_code::kJobCancelled && worst == exit_code::kOk) {
          worst = code;
        }
        fmt::print("{} {}: {}\n", t.array ? "array" : "job", t.name, t.array ? StateCounts(j["states"]) : state);
        break;
      }
      if (c.clock->Now() >= deadline) {
        std::cerr << "error: timed out waiting for " << t.name << " (" << (t.array ? StateCounts(j["states"]) : state)
                  << ")\n";
        return exit_code::kTimeout;
      }
      c.clock->SleepFor(pause);
      pause = std::min(pause * 2, Duration::Seconds(1));
    }
  }
  std::fflush(stdout);
  return worst;
}

// "1h05m", "42m", "30s".
std::string Span(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (s < 60) return fmt::format("{}s", s);
  const int64_t m = (s + 30) / 60;
  return m < 60 ? fmt::format("{}m", m) : fmt::format("{}h{:02}m", m / 60, m % 60);
}

std::string Megabytes(const json& bytes) { return fmt::format("{:.1f} MB", bytes.get<double>() / 1e6); }

// Where the job's checkpoints are (each site's newest complete one) and
// the copies between sites (issue 22).
void PrintCheckpoints(const json& c) {
  std::string held;
  const json sites = c.value("sites", json::object());  // items() of a temporary would dangle
  for (const auto& [site, h] : sites.items()) {
    held += fmt::format("{}{} step {} ({})", held.empty() ? "" : ", ", site, h["step"].get<int64_t>(),
                        Megabytes(h["bytes"]));
  }
  const int want = c.value("replica_sites", 1);
  fmt::print("checkpoints: {}{}\n", held.empty() ? "none reported yet" : held,
             want > 1 ? fmt::format(" (the job wants {} sites)", want) : "");
  const json copies = c.value("copies", json::array());
  for (const json& cp : copies) {
    std::string line = fmt::format("  {} step {} from {}: {}", cp["site"].get<std::string>(), cp["step"].get<int64_t>(),
                                   cp["from"].get<std::string>(), cp["state"].get<std::string>());
    if (cp["state"] == "copying" || cp["state"] == "failed") {
      line += fmt::format(" {} of {}", Megabytes(cp["bytes_done"]), Megabytes(cp["bytes_total"]));
    } else if (cp.contains("seconds")) {
      line += fmt::format(" ({} in {:.1f} s)", Megabytes(cp["bytes_total"]), cp["seconds"].get<double>());
    }
    if (cp.value("staging", false)) line += cp["state"] == "done" ? " [staged]" : " [staging: its ranks wait]";
    if (cp.contains("error")) line += ": " + cp["error"].get<std::string>();
    fmt::print("{}\n", line);
  }
}

int Show(Common& c, const std::string& text, Format format) {
  int code = 0;
  const std::optional<Named> named = Lookup(c, text, &code);
  if (!named.has_value()) return code;
  const uint64_t id = named->id;
  if (named->whole_array) {
    if (PrintAs(format, named->array, {fmt::format("array/{}", id)})) return exit_code::kOk;
    PrintArray(named->array);
    fmt::print("(stargate job show {}_INDEX for one of its jobs; stargate job list --array {} for all)\n", id, id);
    return 0;
  }
  auto r = c.Call("GET", fmt::format("/v1/jobs/{}", id));
  if (!r.ok() || r.status != 200) return ReportFailure(r);
  const json j = json::parse(r.body)["job"];
  if (PrintAs(format, j, {fmt::format("job/{}", id)})) return exit_code::kOk;
  std::string nodes;
  for (const json& n : j.value("placement", json::array())) nodes += (nodes.empty() ? "" : " ") + n.get<std::string>();
  fmt::print(
      "id:        {}\nname:      {}\ntenant:    {}\nkind:      {}\nstate:     {}\nreason:    {}\n"
      "resources: {}\npriority:  {}\nrestarts:  {}\nattempt:   {}\nnodes:     {}\n",
      j["id"].get<uint64_t>(), j["name"].get<std::string>(), j["tenant"].get<std::string>(),
      j["kind"].get<std::string>(), j["state"].get<std::string>(), j["reason"].get<std::string>(), Resources(j),
      j["priority"].get<int>(), j["restarts"].get<int>(), j.value("attempt", 0), nodes.empty() ? "-" : nodes);
  if (j.contains("array")) {
    fmt::print("array:     {}_{} (index {} of {})\n", j["array"]["id"].get<uint64_t>(),
               j["array"]["index"].get<uint32_t>(), j["array"]["index"].get<uint32_t>(),
               j["array"]["size"].get<uint64_t>());
  }
  if (j.contains("estimate")) {  // what the scheduler plans with, and where it came from
    const json& e = j["estimate"];
    const bool file = e.value("given", "auto") == "file";
    std::string line = file ? fmt::format("{} (the job file)", Span(e["file_s"].get<double>())) : "auto";
    if (e.contains("predicted_s")) {
      const std::string predicted =
          fmt::format("{} ({})", Span(e["predicted_s"].get<double>()), e["from"].get<std::string>());
      line = file && e["source"] != "file" ? line + "; predicted run " + predicted : file ? line : predicted;
      const double p = e.value("fail_early", 0.0);
      if (p >= 0.005) line += fmt::format("; {:.0f}% chance it fails in its first 10 minutes", 100 * p);
    }
    fmt::print("estimate:  {}\n", line);
  }
  if (j.contains("forecast")) {  // the server's standing forecast (GET /v1/forecast, rest-api.md)
    const json& f = j["forecast"];
    const int64_t as_of = f["as_of_unix_ms"].get<int64_t>();
    auto at = [as_of](const json& t) {
      if (!t.is_number()) return std::string("not within the forecast");
      const int64_t minutes = std::max<int64_t>(0, (t.get<int64_t>() - as_of + 30'000) / 60'000);
      return minutes == 0 ? std::string("at once") : fmt::format("in {}h{:02}m", minutes / 60, minutes % 60);
    };
    const std::string site = f["site"].get<std::string>();
    if (j["state"] == "pending") {
      fmt::print("predicted: starts {} (p10 {}, p90 {}){}, finishes {}\n", at(f["start_unix_ms"]["p50"]),
                 at(f["start_unix_ms"]["p10"]), at(f["start_unix_ms"]["p90"]),
                 site.empty() ? "" : fmt::format(" at {} ({:.0f}% of runs)", site, 100 * f["site_share"].get<double>()),
                 at(f["finish_unix_ms"]["p50"]));
    } else {
      fmt::print("predicted: finishes {} (p10 {}, p90 {})\n", at(f["finish_unix_ms"]["p50"]),
                 at(f["finish_unix_ms"]["p10"]), at(f["finish_unix_ms"]["p90"]));
    }
    if (f.contains("run_time_s") && f["run_time_from"] != "the job file") {
      fmt::print("           (run for {}: {})\n", Span(f["run_time_s"].get<double>()),
                 f["run_time_from"].get<std::string>());
    }
    const std::time_t made = static_cast<std::time_t>(as_of / 1000);
    std::tm utc{};
    gmtime_r(&made, &utc);
    fmt::print(
        "           (times from the server's standing forecast of {:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC, {} h "
        "ahead; stargate forecast for a fresh one)\n",
        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
        f["horizon_s"].get<int64_t>() / 3600);
  }
  if (j.contains("checkpoints")) PrintCheckpoints(j["checkpoints"]);
  fmt::print("spec:\n");
  std::istringstream spec(j["spec"].get<std::string>());
  for (std::string line; std::getline(spec, line);) fmt::print("  {}\n", line);
  return 0;
}

int CancelOne(Common& c, const std::string& text) {
  int code = 0;
  const std::optional<Named> named = Lookup(c, text, &code);
  if (!named.has_value()) return code;
  const uint64_t id = named->id;
  if (named->whole_array) {  // an array's id: the whole array, as scancel
    auto r = c.Call("POST", fmt::format("/v1/arrays/{}/cancel", id));
    if (!r.ok() || r.status != 200) return ReportFailure(r);
    fmt::print("array {}: {}\n", id, StateCounts(json::parse(r.body)["array"]["states"]));
    return 0;
  }
  auto r = c.Call("POST", fmt::format("/v1/jobs/{}/cancel", id));
  if (!r.ok() || r.status != 200) return ReportFailure(r);
  fmt::print("job {} {}\n", text, json::parse(r.body)["job"]["state"].get<std::string>());
  return exit_code::kOk;
}

// Cancels each job `refs` names (on to the next after a failure; the exit
// code is the first failure's), or with `all` every pending and running
// job of `tenant`.
int Cancel(Common& c, const std::vector<std::string>& refs, bool all, const std::string& tenant) {
  std::vector<std::string> targets = refs;
  if (all) {
    if (!refs.empty()) {
      std::cerr << "error: give job ids or --all, not both\n";
      return exit_code::kUsage;
    }
    if (tenant.empty()) {
      std::cerr << "error: --all needs --tenant T (or a context with a tenant: stargate config set-context)\n";
      return exit_code::kUsage;
    }
    for (const char* state : {"pending", "running"}) {
      StatusOrJobs got = ListJobs(c, ListFilter{state, tenant, 0});
      if (got.code != exit_code::kOk) return got.code;
      for (const json& j : got.jobs) targets.push_back(std::to_string(j["id"].get<uint64_t>()));
    }
    if (targets.empty()) fmt::print("no pending or running jobs of tenant {}\n", tenant);
  } else if (refs.empty()) {
    std::cerr << "error: name the jobs to cancel (IDs, ARRAY_INDEX, arrays' ids) or --all --tenant T\n";
    return exit_code::kUsage;
  }
  int first_failure = exit_code::kOk;
  for (const std::string& t : targets) {
    const int code = CancelOne(c, t);
    if (first_failure == exit_code::kOk) first_failure = code;
  }
  return first_failure;
}

// Prints rank `asked`'s log of job `id` (none asked: of a failed job the
// rank whose exit failed it, else rank 0); with `follow`, keeps printing
// what is appended (a new attempt's log after a restart) until the job
// ends, then exits with its outcome (0, 8 failed, 9 cancelled), or until
// `deadline` (exit 3, the job left running). Following rank 0 of a job
// that then fails by another rank's exit, that rank's log follows.
int Logs(Common& c, uint64_t id, std::optional<int> asked, bool follow, Time deadline = Time::Never()) {
  uint32_t attempt = 0;
  int64_t offset = 0;
  int rank = asked.value_or(0);
  bool switched = false;  // to the failing rank, once
  for (;;) {
    auto r = c.Call("GET", fmt::format("/v1/jobs/{}/logs", id));
    if (!r.ok() || r.status != 200) return ReportFailure(r);
    const json info = json::parse(r.body);
    const bool ended = info["state"] != "pending" && info["state"] != "running";
    // The failing rank's log, where no rank was asked for.
    auto to_failing_rank = [&] {
      if (asked.has_value() || switched || info["state"] != "failed" || !info.contains("failed_rank")) return false;
      switched = true;
      if (info["failed_rank"].get<int>() == rank) return false;
      rank = info["failed_rank"].get<int>();
      attempt = 0;
      offset = 0;
      std::cerr << "(rank " << rank << ": the rank whose exit failed the job; --rank N for another)\n";
      if (follow) fmt::print("--- rank {}, whose exit failed the job ---\n", rank);
      return true;
    };
    if (!follow) to_failing_rank();
    std::string path;
    for (const json& l : info["logs"]) {
      if (l["rank"].get<int>() != rank) continue;
      if (l["attempt"].get<uint32_t>() != attempt) {
        if (attempt != 0)
          fmt::print("--- attempt {} on {} ---\n", l["attempt"].get<uint32_t>(), l["node"].get<std::string>());
        attempt = l["attempt"].get<uint32_t>();
        offset = 0;
      }
      path = l.value("path", "");
    }
    bool more = false;
    if (!path.empty()) {
      // Through the server, which checks this caller's token and tenant.
      auto chunk = c.Call("GET", fmt::format("{}?offset={}&attempt={}", path, offset, attempt));
      if (chunk.ok() && chunk.status == 409) continue;  // a new attempt began: list again, from its start
      if (chunk.ok() && chunk.status == 200) {
        fmt::print("{}", chunk.body);
        std::fflush(stdout);
        offset += static_cast<int64_t>(chunk.body.size());
        more = !chunk.body.empty();
      } else if (!follow) {
        std::cerr << "error: the log of job " << id << " rank " << rank << " is not reachable ("
                  << (chunk.ok() ? fmt::format("HTTP {}", chunk.status) : chunk.error) << ")\n";
        return chunk.ok() ? exit_code::ForHttpStatus(chunk.status) : exit_code::kError;
      }
    } else if (!follow) {
      std::cerr << "error: job " << id << " has no log for rank " << rank << " yet ("
                << info["state"].get<std::string>() << ")\n";
      return exit_code::kNotFound;
    }
    if (!follow) return exit_code::kOk;
    if (ended && !more) {
      if (to_failing_rank()) continue;
      return OutcomeCode(info["state"].get<std::string>());
    }
    if (c.clock->Now() >= deadline) {
      std::cerr << "error: timed out following job " << id << " (" << info["state"].get<std::string>()
                << "); it goes on\n";
      return exit_code::kTimeout;
    }
    if (!more) c.clock->SleepFor(Duration::Millis(500));
  }
}

// `stargate run`'s job file: the command, quoted for the shell as given,
// on `nodes` nodes of `gpus` (TYPE:N; default a CPU node).
std::string InlineJob(const std::vector<std::string>& command, const std::string& name, int nodes,
                      const std::string& gpus, const std::string& tenant) {
  std::string shell;
  for (const std::string& word : command) {
    const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char ch) {
      return std::isalnum(ch) || std::string_view("_-./=:,@%+").find(static_cast<char>(ch)) != std::string_view::npos;
    });
    std::string quoted = "'";
    for (char ch : word) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    shell += (shell.empty() ? "" : " ") + (plain ? word : quoted + "'");
  }
  std::string job_name = name;
  if (job_name.empty()) {  // the program's base name, in the characters a job name may have
    std::string base = command.front().substr(command.front().rfind('/') + 1);
    for (char& ch : base) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') ch = '-';
    }
    job_name = "run-" + base.substr(0, 48);
  }
  // JSON strings are YAML flow scalars: no quoting left to chance.
  std::string text = fmt::format("name: {}\n", json(job_name).dump());
  if (!tenant.empty()) text += fmt::format("tenant: {}\n", json(tenant).dump());
  text +=
      fmt::format("resources:\n  nodes: {}\n  accelerators: {}\n", nodes, json(gpus.empty() ? "CPU:1" : gpus).dump());
  text += fmt::format("run: {}\n", json(shell).dump());
  return text;
}

// Submits the command as a job and follows its log (the failing rank's
// once one fails) to the end; exits with its outcome. With --timeout, a
// job still going then is left running (exit 3).
int Run(Common& c, const std::vector<std::string>& command, const std::string& name, int nodes, const std::string& gpus,
        double timeout_s, bool detach) {
  if (command.empty()) {
    std::cerr << "error: no command: stargate run [FLAGS] -- CMD [ARGS...]\n";
    return exit_code::kUsage;
  }
  const std::string text = InlineJob(command, name, nodes, gpus, Settings().tenant);
  uint64_t id = 0;
  if (const int code = SubmitText(c, text, "<stargate run>", "", "", detach, false, &id); code != exit_code::kOk) {
    return code;
  }
  if (detach) return exit_code::kOk;
  std::cerr << "(job " << id << "; its output follows. Ctrl-C leaves it running: stargate job cancel " << id << ")\n";
  const Time deadline =
      timeout_s > 0 ? c.clock->Now() + Duration::Millis(static_cast<int64_t>(timeout_s * 1000)) : Time::Never();
  return Logs(c, id, std::nullopt, true, deadline);
}

}  // namespace

void AddJobCommands(CLI::App& app, Clock& clock, int* exit_code) {
  CLI::App* job = app.add_subcommand("job", "Submit, list, show, cancel, wait for and read the logs of jobs");
  job->require_subcommand(1);
  auto common = std::make_shared<Common>();
  common->clock = &clock;
  job->add_option("--server", Globals().server,
                  "Server URL (default $STARGATE_SERVER, the context's, http://127.0.0.1:8470)");

  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto array = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto allow_pending = std::make_shared<bool>(false);
  CLI::App* submit = job->add_subcommand("submit", "Submit a job file (YAML; - reads standard input)");
  submit->add_option("file", *file, "Job file, or - for standard input")->required();
  submit->add_option("--idempotency-key", *key, "Retry-safe key (default: a fresh random one)");
  submit->add_option("--array", *array,
                     "One job per index, in place of the file's array: a count (100) or ranges (0-999, 1-99:2,200)");
  submit->add_flag("-q,--quiet", *quiet, "Print only the new job's id (an array's id for an array)");
  submit->add_flag("--allow-pending", *allow_pending,
                   "Queue a job no site can run on the nodes known now (for nodes yet to join) instead of refusing it");
  submit->callback([=] {
    *exit_code = SettingsOk() ? Submit(*common, *file, *key, *array, *quiet, *allow_pending) : exit_code::kUsage;
  });

  auto filter = std::make_shared<ListFilter>();
  auto output = std::make_shared<std::string>("table");
  auto watch = std::make_shared<bool>(false);
  auto interval = std::make_shared<double>(2);
  CLI::App* list = job->add_subcommand("list", "List jobs");
  list->add_option("--state", filter->state,
                   "Only jobs in this state (pending, running, succeeded, failed, cancelled)");
  list->add_option("--array", filter->array, "Only the jobs of this array");
  CLI::Option* list_tenant =
      list->add_option("--tenant", filter->tenant, "Only this tenant's jobs (default: the context's tenant)");
  AddOutputFlag(list, output.get());
  AddWatchFlags(list, watch.get(), interval.get());
  list->callback([=, &clock] {
    if (!SettingsOk()) {
      *exit_code = exit_code::kUsage;
      return;
    }
    ListFilter f = *filter;
    if (list_tenant->count() == 0) f.tenant = Settings().tenant;
    const Format format = ParseFormat(*output);
    *exit_code = Watch(clock, *watch, *interval, format, [=] { return List(*common, f, format); });
  });

  auto ref = std::make_shared<std::string>();
  auto show_output = std::make_shared<std::string>("table");
  CLI::App* show = job->add_subcommand("show", "Show one job and its spec (an array's id: the array)");
  show->add_option("id", *ref, "Job id, ARRAY_INDEX (12_3), or an array's id")->required();
  AddOutputFlag(show, show_output.get());
  show->callback(
      [=] { *exit_code = SettingsOk() ? Show(*common, *ref, ParseFormat(*show_output)) : exit_code::kUsage; });

  auto cancel_refs = std::make_shared<std::vector<std::string>>();
  auto cancel_all = std::make_shared<bool>(false);
  auto cancel_tenant = std::make_shared<std::string>();
  CLI::App* cancel = job->add_subcommand(
      "cancel", "Cancel pending or running jobs (an array's id: every job of the array), or --all of a tenant's");
  cancel->add_option("ids", *cancel_refs, "Job ids, ARRAY_INDEX (12_3), or arrays' ids");
  cancel->add_flag("--all", *cancel_all, "Every pending and running job of --tenant");
  CLI::Option* cancel_tenant_flag =
      cancel->add_option("--tenant", *cancel_tenant, "With --all: whose jobs (default: the context's tenant)");
  cancel->callback([=] {
    if (!SettingsOk()) {
      *exit_code = exit_code::kUsage;
      return;
    }
    const std::string tenant = cancel_tenant_flag->count() > 0 ? *cancel_tenant : Settings().tenant;
    *exit_code = Cancel(*common, *cancel_refs, *cancel_all, tenant);
  });

  auto refs = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<double>(0);
  CLI::App* wait = job->add_subcommand(
      "wait",
      "Wait until jobs end (an array's id: all its jobs); exit 0 if all succeeded, 8 if any failed, 9 if any was "
      "cancelled (none failed), 3 on timeout");
  wait->add_option("ids", *refs, "Job ids, ARRAY_INDEX, or arrays' ids")->required();
  wait->add_option("--timeout", *timeout, "Give up after this many seconds (0 = never)")->check(CLI::NonNegativeNumber);
  wait->callback([=] { *exit_code = SettingsOk() ? Wait(*common, *refs, *timeout) : exit_code::kUsage; });
  auto rank = std::make_shared<int>(0);
  auto follow = std::make_shared<bool>(false);
  CLI::App* logs = job->add_subcommand(
      "logs", "Print a job's output (the rank that failed it, else rank 0, unless --rank); -f exits with its outcome");
  logs->add_option("id", *ref, "Job id or ARRAY_INDEX (12_3)")->required();
  CLI::Option* rank_flag = logs->add_option("--rank", *rank, "Which rank's output")->check(CLI::NonNegativeNumber);
  logs->add_flag("-f,--follow", *follow,
                 "Keep printing as it grows, across restarts, until the job ends; exit 0 if it succeeded, 8 if it "
                 "failed, 9 if it was cancelled");
  logs->callback([=] {
    if (!SettingsOk()) {
      *exit_code = exit_code::kUsage;
      return;
    }
    const std::optional<Named> named = Lookup(*common, *ref, exit_code, /*arrays=*/false);
    if (!named.has_value()) return;
    *exit_code = Logs(*common, named->id, rank_flag->count() > 0 ? std::optional<int>(*rank) : std::nullopt, *follow);
  });

  // `--server` may come after the subcommand too: `stargate job list --server URL`.
  for (CLI::App* sub : {submit, list, show, cancel, wait, logs}) sub->fallthrough();
}

void AddRunCommand(CLI::App& app, Clock& clock, int* exit_code) {
  struct RunFlags {
    std::vector<std::string> command;
    std::string name, gpus;
    int nodes = 1;
    double timeout = 0;
    bool detach = false;
  };
  auto o = std::make_shared<RunFlags>();
  auto common = std::make_shared<Common>();
  common->clock = &clock;
  CLI::App* run = app.add_subcommand(
      "run",
      "Run a command as a job (sbatch --wrap style) and follow its output: stargate run [--nodes N] [--gpus TYPE:N] "
      "-- CMD [ARGS...]; exits with its outcome (0, 8 failed, 9 cancelled, 3 timeout)");
  run->add_option("--nodes", o->nodes, "Nodes (ranks), torchrun style")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  run->add_option("--gpus", o->gpus, "Devices per node, TYPE:N (H100:8); default a CPU node (CPU:1)");
  run->add_option("--name", o->name, "Job name (default: run-<program>)");
  run->add_option("--timeout", o->timeout, "Stop following after this many seconds, leaving the job running (exit 3)")
      ->check(CLI::NonNegativeNumber);
  run->add_flag("-d,--detach", o->detach, "Print the job's id and return at once");
  run->add_option("command", o->command, "The command and its arguments (after --)")->required();
  run->callback([=] {
    *exit_code =
        SettingsOk() ? Run(*common, o->command, o->name, o->nodes, o->gpus, o->timeout, o->detach) : exit_code::kUsage;
  });
}

}  // namespace stargate::cli
