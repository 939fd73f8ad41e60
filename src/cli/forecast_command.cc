// `stargate forecast`: what the next hours hold for the running network,
// from the server's live state simulated with its own scheduler
// (GET /v1/forecast, control/server/forecast.h).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/server_call.h"
#include "core/unit_parser.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

struct ForecastFlags {
  std::string horizon = "24h";
  int seeds = 4;
  std::string output = "table";
  // What-ifs (rest-api.md, POST /v1/forecast).
  std::vector<std::string> drains, add_nodes, weights, spikes;
  std::string policy, submit;
  std::string export_path;  // --export: the scenario file, "-" = standard output
  bool what_if() const {
    return !drains.empty() || !add_nodes.empty() || !weights.empty() || !spikes.empty() || !policy.empty() ||
           !submit.empty();
  }
};

// "+1h05m" from `now` for a time in ms, "-" past the horizon (null).
std::string After(const json& at, int64_t now_ms) {
  if (!at.is_number()) return "-";
  const int64_t minutes = std::max<int64_t>(0, (at.get<int64_t>() - now_ms + 30'000) / 60'000);
  if (minutes == 0) return "now";
  return minutes >= 60 ? fmt::format("+{}h{:02}m", minutes / 60, minutes % 60) : fmt::format("+{}m", minutes);
}

// The what-if flags as the API's JSON; false after saying which flag is bad.
bool WhatIfJson(const ForecastFlags& f, json* out) {
  json w = json::object();
  auto bad = [](const std::string& flag, const std::string& value, const std::string& want) {
    std::cerr << "error: " << flag << ": expected " << want << ", got '" << value << "'\n";
    return false;
  };
  for (const std::string& d : f.drains) {  // TARGET[@AT]
    const size_t at = d.find('@');
    json e = {{"target", d.substr(0, at)}};
    if (at != std::string::npos) e["at"] = d.substr(at + 1);
    if (d.substr(0, at).empty()) return bad("--drain", d, "SITE or NODE, optionally @TIME (such as a@2h)");
    w["drains"].push_back(e);
  }
  for (const std::string& a : f.add_nodes) {  // SITE:COUNT:TYPE:N
    std::vector<std::string> parts;
    for (size_t from = 0;;) {
      const size_t colon = a.find(':', from);
      parts.push_back(a.substr(from, colon - from));
      if (colon == std::string::npos) break;
      from = colon + 1;
    }
    char* end = nullptr;
    const long count = parts.size() == 4 ? std::strtol(parts[1].c_str(), &end, 10) : 0;
    if (parts.size() != 4 || end == nullptr || *end != '\0' || count < 1) {
      return bad("--add-nodes", a, "SITE:COUNT:TYPE:N (such as a:4:H100:8)");
    }
    w["add_nodes"].push_back({{"site", parts[0]}, {"count", count}, {"accelerators", parts[2] + ":" + parts[3]}});
  }
  if (!f.policy.empty()) w["policy"] = f.policy;
  for (const std::string& x : f.weights) {  // NAME=VALUE
    const size_t eq = x.find('=');
    char* end = nullptr;
    const double v = eq == std::string::npos ? 0 : std::strtod(x.c_str() + eq + 1, &end);
    if (eq == std::string::npos || end == nullptr || *end != '\0' || eq + 1 == x.size()) {
      return bad("--weight", x, "NAME=VALUE (such as carbon=2)");
    }
    w["weights"][x.substr(0, eq)] = v;
  }
  for (const std::string& x : f.spikes) {  // SITE:SIGNAL=VALUE[@FROM-TO]
    const size_t colon = x.find(':'), eq = x.find('='), at = x.find('@');
    char* end = nullptr;
    const std::string value =
        eq == std::string::npos ? "" : x.substr(eq + 1, at == std::string::npos ? at : at - eq - 1);
    const double v = std::strtod(value.c_str(), &end);
    if (colon == std::string::npos || eq == std::string::npos || eq < colon || value.empty() || *end != '\0') {
      return bad("--spike", x,
                 "SITE:carbon=G_PER_KWH or SITE:price=USD_PER_MWH, optionally @FROM-TO (such as "
                 "a:carbon=800@1h-5h)");
    }
    json e = {{"site", x.substr(0, colon)}, {"signal", x.substr(colon + 1, eq - colon - 1)}, {"value", v}};
    if (at != std::string::npos) {
      const std::string span = x.substr(at + 1);
      const size_t dash = span.find('-');
      if (dash == std::string::npos) return bad("--spike", x, "@FROM-TO such as @1h-5h");
      e["from"] = span.substr(0, dash);
      e["to"] = span.substr(dash + 1);
    }
    w["spikes"].push_back(e);
  }
  if (!f.submit.empty()) {
    std::string text;
    if (!ReadWholeFile(f.submit, "--submit", &text)) return false;
    w["submit"] = text;
  }
  *out = std::move(w);
  return true;
}

void PrintChanges(const json& j) {
  const json& c = j["changes"];
  const int64_t now = j["baseline"]["now_unix_ms"].get<int64_t>();
  fmt::print("what-if against the baseline (the same seeds): goodput {:.3f} -> {:.3f}, {:.3f} -> {:.3f} tCO2\n",
             c["goodput"][0].get<double>(), c["goodput"][1].get<double>(), c["tco2"][0].get<double>(),
             c["tco2"][1].get<double>());
  fmt::print("\n{:<6} {:<20} {:>8}    {:>8} {:>8}    {:>8} {:<14}    {:<14} {:>8}\n", "JOB", "NAME", "START50", "->",
             "FINISH50", "->", "SITE", "->", "KGCO2");
  for (const json& e : c["jobs"]) {
    fmt::print("{:<6} {:<20} {:>8} -> {:>8} {:>8} -> {:>8} {:<14} -> {:<14} {:>8.1f}{}\n", e["id"].get<uint64_t>(),
               e["name"].get<std::string>().substr(0, 20), After(e["start_p50_unix_ms"][0], now),
               After(e["start_p50_unix_ms"][1], now), After(e["finish_p50_unix_ms"][0], now),
               After(e["finish_p50_unix_ms"][1], now),
               e["site"][0].get<std::string>().empty() ? "-" : e["site"][0].get<std::string>().substr(0, 14),
               e["site"][1].get<std::string>().empty() ? "-" : e["site"][1].get<std::string>().substr(0, 14),
               e["co2_kg"][1].get<double>(), e["added"].get<bool>() ? "  (submitted in the what-if)" : "");
  }
  if (c["jobs"].empty()) fmt::print("(no job's start, finish or site moves)\n");
  fmt::print("\n{:<16} {:>9}    {:<9} {:>9}    {:<9} {:>4}    {:<4}\n", "SITE", "TCO2", "->", "MEAN_MW", "->", "UTIL",
             "->");
  for (const json& s : c["sites"]) {
    fmt::print("{:<16} {:>9.4f} -> {:<9.4f} {:>9.4f} -> {:<9.4f} {:>3.0f}% -> {:>3.0f}%\n",
               s["name"].get<std::string>().substr(0, 16), s["tco2"][0].get<double>(), s["tco2"][1].get<double>(),
               s["mean_mw"][0].get<double>(), s["mean_mw"][1].get<double>(), 100 * s["utilisation"][0].get<double>(),
               100 * s["utilisation"][1].get<double>());
  }
}

// GET `path` (POST with the what-if when there is one): 0 and the answer's
// body, or the exit code (2 for a bad ask, 1 otherwise) with the error said.
int Ask(const ForecastFlags& f, const std::string& path, const json& what_if, std::string* body) {
  control::HttpResponse r;
  const int code = f.what_if() ? CallServerAs("POST", path, json{{"what_if", what_if}}.dump(),
                                              {{"Content-Type", "application/json"}}, &r)
                               : CallServerAs("GET", path, "", {}, &r);
  if (code != exit_code::kOk) return code;
  *body = std::move(r.body);
  return exit_code::kOk;
}

// --export: the scenario the forecast runs (its first seed), for `stargate
// twin run`.
int ExportScenario(const ForecastFlags& f, Duration horizon, const json& what_if) {
  std::string body;
  const int code = Ask(f, fmt::format("/v1/forecast/scenario?horizon={}s", horizon.millis() / 1000), what_if, &body);
  if (code != 0) return code;
  if (f.export_path == "-") {
    std::cout << body;
    return 0;
  }
  std::ofstream out(f.export_path, std::ios::binary | std::ios::trunc);
  out << body;
  out.close();
  if (!out) {
    std::cerr << "error: --export: cannot write " << f.export_path << "\n";
    return 1;
  }
  std::cerr << "wrote " << f.export_path << " (the forecast's first seed); rerun it with: stargate twin run "
            << f.export_path << "\n";
  return 0;
}

int RunForecastCommand(const ForecastFlags& f) {
  StatusOr<Duration> horizon = ParseDuration(f.horizon);
  if (!horizon.ok() || *horizon <= Duration::Zero() || *horizon > Duration::Days(7)) {
    std::cerr << "error: --horizon: expected a duration above 0 and at most 7d, such as 24h; got '" << f.horizon
              << "'\n";
    return 2;
  }
  if (f.seeds < 1 || f.seeds > 64) {
    std::cerr << "error: --seeds: expected 1 to 64, got " << f.seeds << "\n";
    return 2;
  }
  if (f.output != "table" && f.output != "json") {
    std::cerr << "error: -o: expected table or json, got '" << f.output << "'\n";
    return 2;
  }
  json what_if;
  if (f.what_if() && !WhatIfJson(f, &what_if)) return 2;
  if (!f.export_path.empty()) return ExportScenario(f, *horizon, what_if);
  std::string body;
  const int code =
      Ask(f, fmt::format("/v1/forecast?horizon={}s&seeds={}", horizon->millis() / 1000, f.seeds), what_if, &body);
  if (code != 0) return code;
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    std::cerr << "error: the server's answer is not JSON\n";
    return 1;
  }
  if (f.output == "json") {
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  if (f.what_if()) {
    PrintChanges(j);
    return 0;
  }
  const int64_t now = j["now_unix_ms"].get<int64_t>();
  fmt::print("forecast {} h ahead, {} seed(s), policy {}: goodput {:.3f}, {:.1f} device-h of work, {:.3f} tCO2\n",
             j["horizon_s"].get<int64_t>() / 3600.0, j["seeds"].get<int>(), j["policy"].get<std::string>(),
             j["goodput"].get<double>(), j["useful_device_h"].get<double>(), j["tco2"].get<double>());
  fmt::print("\n{:<6} {:<20} {:<10} {:<8} {:>8} {:>8} {:>8} {:>8} {:<14} {:>6}\n", "JOB", "NAME", "TENANT", "STATE",
             "START10", "START50", "START90", "FINISH50", "SITE", "INTR");
  for (const json& e : j["jobs"]) {
    const std::string state = e["state"].get<std::string>();
    const bool running = state == "running";
    fmt::print("{:<6} {:<20} {:<10} {:<8} {:>8} {:>8} {:>8} {:>8} {:<14} {:>6.2f}\n", e["id"].get<uint64_t>(),
               e["name"].get<std::string>().substr(0, 20), e["tenant"].get<std::string>().substr(0, 10), state,
               running ? "now" : After(e["start_unix_ms"]["p10"], now),
               running ? "now" : After(e["start_unix_ms"]["p50"], now),
               running ? "now" : After(e["start_unix_ms"]["p90"], now), After(e["finish_unix_ms"]["p50"], now),
               e["site"].get<std::string>().empty() ? "-" : e["site"].get<std::string>().substr(0, 14),
               e["interruptions"].get<double>());
  }
  fmt::print("\n{:<16} {:>8} {:>9} {:>9} {:>9} {:>6} {:>9} {:>10}\n", "SITE", "DEVICES", "MEAN_MW", "PEAK_MW", "CAP_MW",
             "UTIL", "TCO2", "FAIL/NODE-Y");
  for (const json& s : j["sites"]) {
    const double cap = s["power_cap_mw"].get<double>();
    fmt::print("{:<16} {:>8} {:>9.4f} {:>9.4f} {:>9} {:>5.0f}% {:>9.4f} {:>10.2f}\n",
               s["name"].get<std::string>().substr(0, 16), s["accelerators"].get<int64_t>(), s["mean_mw"].get<double>(),
               s["peak_mw"].get<double>(), cap > 0 ? fmt::format("{:.4f}", cap) : "-",
               100 * s["utilisation"].get<double>(), s["tco2"].get<double>(),
               s["node_failures_per_year"].get<double>());
  }
  fmt::print("\nTimes are from now; START/FINISH 10/50/90 are percentiles over the seeds, '-' past the horizon.\n");
  return 0;
}

}  // namespace

void AddForecastCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ForecastFlags>();
  CLI::App* cmd = app.add_subcommand(
      "forecast", "What the next hours hold: the live state simulated with the server's own scheduler");
  cmd->add_option("--server", Globals().server,
                  "Server URL (default $STARGATE_SERVER, the context's, http://127.0.0.1:8470)");
  cmd->add_option("--horizon", f->horizon, "How far ahead (at most 7d)")->capture_default_str();
  cmd->add_option("--seeds", f->seeds, "Runs with different failures (1 to 64)")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "table or json")->capture_default_str();
  cmd->add_option("--drain", f->drains, "What if SITE or NODE took no new work from a time (a@2h; default now)");
  cmd->add_option("--add-nodes", f->add_nodes, "What if COUNT nodes of TYPE:N were at SITE (SITE:COUNT:TYPE:N)");
  cmd->add_option("--policy", f->policy, "What if the scheduler ran this policy (fifo, stargate)");
  cmd->add_option("--weight", f->weights,
                  "What if the stargate policy weighed NAME so (carbon=2; time, carbon, cost, "
                  "latency, queue)");
  cmd->add_option("--spike", f->spikes,
                  "What if SITE's grid carbon or price were VALUE over a span (a:carbon=800@1h-5h; default the "
                  "first hour)");
  cmd->add_option("--submit", f->submit, "What if this job file were submitted now");
  cmd->add_option("--export", f->export_path,
                  "Write the forecast's scenario (its first seed, with any what-if) to FILE for `stargate twin "
                  "run` ('-': standard output); runs nothing");
  cmd->callback([f, exit_code] { *exit_code = RunForecastCommand(*f); });
}

}  // namespace stargate::cli
