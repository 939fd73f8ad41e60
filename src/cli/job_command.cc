// `stargate job submit|list|show|cancel`: the user API from the shell.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "cli/rest_client.h"
#include "core/clock.h"
#include "runtime/random_hex.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

// `text` as a query value (percent-encoded but for unreserved characters).
std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

// A fresh key per submission, so a retry after a lost reply is recognised.
std::string RandomKey() { return "cli-" + RandomHex(4); }

using Response = RestClient::Response;

// Prints the server's JSON error (or the transport error) and returns the exit code.
int Fail(const Response& r) {
  if (!r.ok()) {
    std::cerr << "error: " << r.error << "\n";
    return 1;
  }
  const json j = json::parse(r.body, nullptr, false);
  const std::string message = !j.is_discarded() && j.contains("error") ? j["error"].value("message", r.body) : r.body;
  std::cerr << "error: " << message << " (HTTP " << r.status << ")\n";
  return r.status >= 400 && r.status < 500 ? 2 : 1;
}

std::string Resources(const json& job) {
  std::string types;
  for (const auto& t : job["accelerators"]) types += (types.empty() ? "" : "|") + t.get<std::string>();
  return fmt::format("{}x {}:{}", job["nodes"].get<int>(), types, job["per_node"].get<int>());
}

struct Common {
  std::string server = DefaultServerUrl();
  Clock* clock = nullptr;  // for retries and polls
  // One connection for all of a command's calls, made on first use (after
  // --server is parsed).
  std::unique_ptr<RestClient> client;
  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    if (client == nullptr) client = std::make_unique<RestClient>(server);
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
std::optional<uint64_t> Resolve(Common& c, const JobRef& ref, std::string* error, json* array = nullptr) {
  if (ref.index.has_value()) {
    const Response r = c.Call("GET", fmt::format("/v1/jobs?array={}", ref.id));
    if (!r.ok()) {
      *error = r.error;
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
std::optional<Named> Lookup(Common& c, const std::string& text, int* exit_code) {
  std::optional<JobRef> ref = RefArg(text);
  if (!ref.has_value()) {
    *exit_code = 2;
    return std::nullopt;
  }
  Named out;
  std::string error;
  std::optional<uint64_t> id = Resolve(c, *ref, &error, &out.array);
  if (!id.has_value()) {
    std::cerr << "error: " << error << "\n";
    *exit_code = 1;
    return std::nullopt;
  }
  out.id = *id;
  out.whole_array = out.array.is_object() && out.array["id"].get<uint64_t>() == *id;
  return out;
}

int Submit(Common& c, const std::string& file, std::string key, const std::string& array) {
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    std::cerr << "error: cannot read " << file << "\n";
    return 2;
  }
  std::stringstream text;
  text << f.rdbuf();
  // The server checks the file: its errors name the file as given here
  // (X-Filename), its line and field, as a local parse would (the `stargate`
  // front binary links no YAML parser, to start fast).
  if (key.empty()) key = RandomKey();
  Response r;
  const std::string path = array.empty() ? "/v1/jobs" : "/v1/jobs?array=" + UrlEncode(array);
  for (int attempt = 0; attempt < 5; ++attempt) {  // the same key makes retries safe
    r = c.Call("POST", path, text.str(), {{"Idempotency-Key", key}, {"X-Filename", file}});
    if (r.ok() && r.status != 503) break;
    c.clock->SleepFor(Duration::Millis(200 << attempt));
  }
  if (!r.ok() || (r.status != 200 && r.status != 201)) return Fail(r);
  const json answer = json::parse(r.body);
  const json& job = answer["job"];
  const char* known = r.status == 200 ? ", already known under this idempotency key" : "";
  if (answer.contains("array")) {
    const json& a = answer["array"];
    fmt::print("array {} submitted: {} jobs (indices {}, ids {}-{}){}\n", a["id"].get<uint64_t>(),
               a["size"].get<uint64_t>(), a["indices"].get<std::string>(), a["first_job"].get<uint64_t>(),
               a["last_job"].get<uint64_t>(), known);
  } else {
    fmt::print("job {} submitted ({}){}\n", job["id"].get<uint64_t>(), job["state"].get<std::string>(), known);
  }
  return 0;
}

int List(Common& c, const std::string& state, uint64_t array) {
  std::string query;
  if (!state.empty()) query += "state=" + state;
  if (array != 0) query += fmt::format("{}array={}", query.empty() ? "" : "&", array);
  auto r = c.Call("GET", query.empty() ? "/v1/jobs" : "/v1/jobs?" + query);
  if (!r.ok() || r.status != 200) return Fail(r);
  const json jobs = json::parse(r.body)["jobs"];
  fmt::print("{:>6}  {:<12} {:<24} {:<12} {:<10} {:<10} {:<16} {:>8}\n", "ID", "ARRAY", "NAME", "TENANT", "KIND",
             "STATE", "RESOURCES", "PRIORITY");
  for (const json& j : jobs) {
    const std::string element = j.contains("array") ? fmt::format("{}_{}", j["array"]["id"].get<uint64_t>(),
                                                                  j["array"]["index"].get<uint32_t>())
                                                    : "-";
    fmt::print("{:>6}  {:<12} {:<24} {:<12} {:<10} {:<10} {:<16} {:>8}\n", j["id"].get<uint64_t>(), element,
               j["name"].get<std::string>(), j["tenant"].get<std::string>(), j["kind"].get<std::string>(),
               j["state"].get<std::string>(), Resources(j), j["priority"].get<int>());
  }
  return 0;
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
// jobs); exit 0 when all succeeded, 1 when any did not, 3 on timeout.
int Wait(Common& c, const std::vector<std::string>& refs, double timeout_s) {
  struct Target {
    std::string name;
    uint64_t id = 0;
    bool array = false;
  };
  std::vector<Target> targets;
  for (const std::string& text : refs) {
    int exit_code = 0;
    const std::optional<Named> named = Lookup(c, text, &exit_code);
    if (!named.has_value()) return 2;  // nothing to wait for: bad input
    targets.push_back(Target{text, named->id, named->whole_array});
  }
  const Time deadline = timeout_s > 0 ? c.clock->Now() + Duration::Seconds(timeout_s) : Time::Never();
  bool all_good = true;
  Duration pause = Duration::Millis(50);  // short jobs end soon: poll fast at first, then every second
  for (const Target& t : targets) {
    for (;;) {
      auto r = c.Call("GET", fmt::format("/v1/{}/{}", t.array ? "arrays" : "jobs", t.id));
      if (!r.ok() || r.status != 200) return Fail(r);
      const json j = json::parse(r.body)[t.array ? "array" : "job"];
      const std::string state = t.array ? "" : j["state"].get<std::string>();
      const bool ended = t.array ? j["ended"].get<bool>() : state != "pending" && state != "running";
      if (ended) {
        const bool good =
            t.array ? j["states"]["succeeded"].get<uint64_t>() == j["size"].get<uint64_t>() : state == "succeeded";
        all_good = all_good && good;
        fmt::print("{} {}: {}\n", t.array ? "array" : "job", t.name, t.array ? StateCounts(j["states"]) : state);
        break;
      }
      if (c.clock->Now() >= deadline) {
        std::cerr << "error: timed out waiting for " << t.name << " (" << (t.array ? StateCounts(j["states"]) : state)
                  << ")\n";
        return 3;
      }
      c.clock->SleepFor(pause);
      pause = std::min(pause * 2, Duration::Seconds(1));
    }
  }
  std::fflush(stdout);
  return all_good ? 0 : 1;
}

// "1h05m", "42m", "30s".
std::string Span(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (s < 60) return fmt::format("{}s", s);
  const int64_t m = (s + 30) / 60;
  return m < 60 ? fmt::format("{}m", m) : fmt::format("{}h{:02}m", m / 60, m % 60);
}

int Show(Common& c, const std::string& text) {
  int exit_code = 0;
  const std::optional<Named> named = Lookup(c, text, &exit_code);
  if (!named.has_value()) return exit_code;
  const uint64_t id = named->id;
  if (named->whole_array) {
    PrintArray(named->array);
    fmt::print("(stargate job show {}_INDEX for one of its jobs; stargate job list --array {} for all)\n", id, id);
    return 0;
  }
  auto r = c.Call("GET", fmt::format("/v1/jobs/{}", id));
  if (!r.ok() || r.status != 200) return Fail(r);
  const json j = json::parse(r.body)["job"];
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
  fmt::print("spec:\n");
  std::istringstream spec(j["spec"].get<std::string>());
  for (std::string line; std::getline(spec, line);) fmt::print("  {}\n", line);
  return 0;
}

int Cancel(Common& c, const std::string& text) {
  int exit_code = 0;
  const std::optional<Named> named = Lookup(c, text, &exit_code);
  if (!named.has_value()) return exit_code;
  const uint64_t id = named->id;
  if (named->whole_array) {  // an array's id: the whole array, as scancel
    auto r = c.Call("POST", fmt::format("/v1/arrays/{}/cancel", id));
    if (!r.ok() || r.status != 200) return Fail(r);
    fmt::print("array {}: {}\n", id, StateCounts(json::parse(r.body)["array"]["states"]));
    return 0;
  }
  auto r = c.Call("POST", fmt::format("/v1/jobs/{}/cancel", id));
  if (!r.ok() || r.status != 200) return Fail(r);
  fmt::print("job {} {}\n", text, json::parse(r.body)["job"]["state"].get<std::string>());
  return 0;
}

// Prints rank `rank`'s log of job `id`; with `follow`, keeps printing what
// is appended (a new attempt's log after a restart) until the job ends.
int Logs(Common& c, uint64_t id, int rank, bool follow) {
  uint32_t attempt = 0;
  int64_t offset = 0;
  for (;;) {
    auto r = c.Call("GET", fmt::format("/v1/jobs/{}/logs", id));
    if (!r.ok() || r.status != 200) return Fail(r);
    const json info = json::parse(r.body);
    const bool ended = info["state"] != "pending" && info["state"] != "running";
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
        return 1;
      }
    } else if (!follow) {
      std::cerr << "error: job " << id << " has no log for rank " << rank << " yet ("
                << info["state"].get<std::string>() << ")\n";
      return 1;
    }
    if (!follow || (ended && !more)) return 0;
    if (!more) c.clock->SleepFor(Duration::Millis(500));
  }
}

}  // namespace

void AddJobCommands(CLI::App& app, Clock& clock, int* exit_code) {
  CLI::App* job = app.add_subcommand("job", "Submit, list, show and cancel jobs on a Stargate server");
  job->require_subcommand(1);
  auto common = std::make_shared<Common>();
  common->clock = &clock;
  job->add_option("--server", common->server, "Server URL (default $STARGATE_SERVER or http://127.0.0.1:8470)");

  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto array = std::make_shared<std::string>();
  CLI::App* submit = job->add_subcommand("submit", "Submit a job file (YAML)");
  submit->add_option("file", *file, "Job file")->required();
  submit->add_option("--idempotency-key", *key, "Retry-safe key (default: a fresh random one)");
  submit->add_option("--array", *array,
                     "One job per index, in place of the file's array: a count (100) or ranges (0-999, 1-99:2,200)");
  submit->callback([=] { *exit_code = Submit(*common, *file, *key, *array); });

  auto state = std::make_shared<std::string>();
  auto array_id = std::make_shared<uint64_t>(0);
  CLI::App* list = job->add_subcommand("list", "List jobs");
  list->add_option("--state", *state, "Only jobs in this state (pending, running, succeeded, failed, cancelled)");
  list->add_option("--array", *array_id, "Only the jobs of this array");
  list->callback([=] { *exit_code = List(*common, *state, *array_id); });

  auto ref = std::make_shared<std::string>();
  CLI::App* show = job->add_subcommand("show", "Show one job and its spec (an array's id: the array)");
  show->add_option("id", *ref, "Job id, ARRAY_INDEX (12_3), or an array's id")->required();
  show->callback([=] { *exit_code = Show(*common, *ref); });

  CLI::App* cancel =
      job->add_subcommand("cancel", "Cancel a pending or running job (an array's id: every job of the array)");
  cancel->add_option("id", *ref, "Job id, ARRAY_INDEX (12_3), or an array's id")->required();
  cancel->callback([=] { *exit_code = Cancel(*common, *ref); });

  auto refs = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<double>(0);
  CLI::App* wait = job->add_subcommand(
      "wait", "Wait until jobs end (an array's id: all its jobs); exit 0 if all succeeded, 1 if not, 3 on timeout");
  wait->add_option("ids", *refs, "Job ids, ARRAY_INDEX, or arrays' ids")->required();
  wait->add_option("--timeout", *timeout, "Give up after this many seconds (0 = never)")->check(CLI::NonNegativeNumber);
  wait->callback([=] { *exit_code = Wait(*common, *refs, *timeout); });
  auto rank = std::make_shared<int>(0);
  auto follow = std::make_shared<bool>(false);
  CLI::App* logs = job->add_subcommand("logs", "Print a job's output (rank 0 unless --rank)");
  logs->add_option("id", *ref, "Job id or ARRAY_INDEX (12_3)")->required();
  logs->add_option("--rank", *rank, "Which rank's output")->check(CLI::NonNegativeNumber);
  logs->add_flag("-f,--follow", *follow, "Keep printing as it grows, across restarts, until the job ends");
  logs->callback([=] {
    std::optional<JobRef> job = RefArg(*ref);
    std::string error;
    std::optional<uint64_t> id = job.has_value() ? Resolve(*common, *job, &error) : std::nullopt;
    if (!error.empty()) std::cerr << "error: " << error << "\n";
    *exit_code = id.has_value() ? Logs(*common, *id, *rank, *follow) : 2;
  });

  // `--server` may come after the subcommand too: `stargate job list --server URL`.
  for (CLI::App* sub : {submit, list, show, cancel, wait, logs}) sub->fallthrough();
}

}  // namespace stargate::cli
