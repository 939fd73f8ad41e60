// `stargate job submit|list|show|cancel`: the user API from the shell.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "control/net/http_client.h"
#include "core/clock.h"
#include "core/job_file_parser.h"
#include "runtime/random_hex.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

// A fresh key per submission, so a retry after a lost reply is recognised.
std::string RandomKey() { return "cli-" + RandomHex(4); }

// Prints the server's JSON error (or the transport error) and returns the exit code.
int Fail(const StatusOr<control::HttpResponse>& r) {
  if (!r.ok()) {
    std::cerr << "error: " << r.status().message() << "\n";
    return 1;
  }
  const json j = json::parse(r->body, nullptr, false);
  const std::string message = !j.is_discarded() && j.contains("error") ? j["error"].value("message", r->body) : r->body;
  std::cerr << "error: " << message << " (HTTP " << r->status << ")\n";
  return r->status >= 400 && r->status < 500 ? 2 : 1;
}

std::string Resources(const json& job) {
  std::string types;
  for (const auto& t : job["accelerators"]) types += (types.empty() ? "" : "|") + t.get<std::string>();
  return fmt::format("{}x {}:{}", job["nodes"].get<int>(), types, job["per_node"].get<int>());
}

struct Common {
  std::string server = DefaultServerUrl();
  Clock* clock = nullptr;  // for retries and polls
};

int Submit(const Common& c, const std::string& file, std::string key) {
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    std::cerr << "error: cannot read " << file << "\n";
    return 2;
  }
  std::stringstream text;
  text << f.rdbuf();
  // Check locally first: errors point at the user's own file and line.
  if (auto parsed = ParseJobFile(text.str(), file); !parsed.ok()) {
    std::cerr << "error: " << parsed.status().message() << "\n";
    return 2;
  }
  if (key.empty()) key = RandomKey();
  StatusOr<control::HttpResponse> r;
  for (int attempt = 0; attempt < 5; ++attempt) {  // the same key makes retries safe
    r = control::CallServer(c.server, "POST", "/v1/jobs", text.str(), {{"Idempotency-Key", key}, {"X-Filename", file}});
    if (r.ok() && r->status != 503) break;
    c.clock->SleepFor(Duration::Millis(200 << attempt));
  }
  if (!r.ok() || (r->status != 200 && r->status != 201)) return Fail(r);
  const json job = json::parse(r->body)["job"];
  fmt::print("job {} submitted ({}){}\n", job["id"].get<uint64_t>(), job["state"].get<std::string>(),
             r->status == 200 ? ", already known under this idempotency key" : "");
  return 0;
}

int List(const Common& c, const std::string& state) {
  auto r = control::CallServer(c.server, "GET", state.empty() ? "/v1/jobs" : "/v1/jobs?state=" + state);
  if (!r.ok() || r->status != 200) return Fail(r);
  const json jobs = json::parse(r->body)["jobs"];
  fmt::print("{:>6}  {:<24} {:<12} {:<10} {:<10} {:<16} {:>8}\n", "ID", "NAME", "TENANT", "KIND", "STATE", "RESOURCES",
             "PRIORITY");
  for (const json& j : jobs) {
    fmt::print("{:>6}  {:<24} {:<12} {:<10} {:<10} {:<16} {:>8}\n", j["id"].get<uint64_t>(),
               j["name"].get<std::string>(), j["tenant"].get<std::string>(), j["kind"].get<std::string>(),
               j["state"].get<std::string>(), Resources(j), j["priority"].get<int>());
  }
  return 0;
}

// "1h05m", "42m", "30s".
std::string Span(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (s < 60) return fmt::format("{}s", s);
  const int64_t m = (s + 30) / 60;
  return m < 60 ? fmt::format("{}m", m) : fmt::format("{}h{:02}m", m / 60, m % 60);
}

int Show(const Common& c, uint64_t id) {
  auto r = control::CallServer(c.server, "GET", fmt::format("/v1/jobs/{}", id));
  if (!r.ok() || r->status != 200) return Fail(r);
  const json j = json::parse(r->body)["job"];
  std::string nodes;
  for (const json& n : j.value("placement", json::array())) nodes += (nodes.empty() ? "" : " ") + n.get<std::string>();
  fmt::print(
      "id:        {}\nname:      {}\ntenant:    {}\nkind:      {}\nstate:     {}\nreason:    {}\n"
      "resources: {}\npriority:  {}\nrestarts:  {}\nattempt:   {}\nnodes:     {}\nspec:\n",
      j["id"].get<uint64_t>(), j["name"].get<std::string>(), j["tenant"].get<std::string>(),
      j["kind"].get<std::string>(), j["state"].get<std::string>(), j["reason"].get<std::string>(), Resources(j),
      j["priority"].get<int>(), j["restarts"].get<int>(), j.value("attempt", 0), nodes.empty() ? "-" : nodes);
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
  std::istringstream spec(j["spec"].get<std::string>());
  for (std::string line; std::getline(spec, line);) fmt::print("  {}\n", line);
  return 0;
}

int Cancel(const Common& c, uint64_t id) {
  auto r = control::CallServer(c.server, "POST", fmt::format("/v1/jobs/{}/cancel", id));
  if (!r.ok() || r->status != 200) return Fail(r);
  fmt::print("job {} {}\n", id, json::parse(r->body)["job"]["state"].get<std::string>());
  return 0;
}

// Prints rank `rank`'s log of job `id`; with `follow`, keeps printing what
// is appended (a new attempt's log after a restart) until the job ends.
int Logs(const Common& c, uint64_t id, int rank, bool follow) {
  uint32_t attempt = 0;
  int64_t offset = 0;
  for (;;) {
    auto r = control::CallServer(c.server, "GET", fmt::format("/v1/jobs/{}/logs", id));
    if (!r.ok() || r->status != 200) return Fail(r);
    const json info = json::parse(r->body);
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
      auto chunk = control::CallServer(c.server, "GET", fmt::format("{}?offset={}&attempt={}", path, offset, attempt));
      if (chunk.ok() && chunk->status == 409) continue;  // a new attempt began: list again, from its start
      if (chunk.ok() && chunk->status == 200) {
        fmt::print("{}", chunk->body);
        std::fflush(stdout);
        offset += static_cast<int64_t>(chunk->body.size());
        more = !chunk->body.empty();
      } else if (!follow) {
        std::cerr << "error: the log of job " << id << " rank " << rank << " is not reachable ("
                  << (chunk.ok() ? fmt::format("HTTP {}", chunk->status) : std::string(chunk.status().message()))
                  << ")\n";
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
  CLI::App* submit = job->add_subcommand("submit", "Submit a job file (YAML)");
  submit->add_option("file", *file, "Job file")->required();
  submit->add_option("--idempotency-key", *key, "Retry-safe key (default: a fresh random one)");
  submit->callback([=] { *exit_code = Submit(*common, *file, *key); });

  auto state = std::make_shared<std::string>();
  CLI::App* list = job->add_subcommand("list", "List jobs");
  list->add_option("--state", *state, "Only jobs in this state (pending, running, succeeded, failed, cancelled)");
  list->callback([=] { *exit_code = List(*common, *state); });

  auto id = std::make_shared<uint64_t>(0);
  CLI::App* show = job->add_subcommand("show", "Show one job and its spec");
  show->add_option("id", *id, "Job id")->required();
  show->callback([=] { *exit_code = Show(*common, *id); });

  CLI::App* cancel = job->add_subcommand("cancel", "Cancel a pending or running job");
  cancel->add_option("id", *id, "Job id")->required();
  cancel->callback([=] { *exit_code = Cancel(*common, *id); });
  auto rank = std::make_shared<int>(0);
  auto follow = std::make_shared<bool>(false);
  CLI::App* logs = job->add_subcommand("logs", "Print a job's output (rank 0 unless --rank)");
  logs->add_option("id", *id, "Job id")->required();
  logs->add_option("--rank", *rank, "Which rank's output")->check(CLI::NonNegativeNumber);
  logs->add_flag("-f,--follow", *follow, "Keep printing as it grows, across restarts, until the job ends");
  logs->callback([=] { *exit_code = Logs(*common, *id, *rank, *follow); });

  // `--server` may come after the subcommand too: `stargate job list --server URL`.
  for (CLI::App* sub : {submit, list, show, cancel, logs}) sub->fallthrough();
}

}  // namespace stargate::cli
