// `stargate up`: a server and local agents emulating several sites on this
// machine, for trying Stargate (like `nomad agent -dev`). `stargate demo`:
// the same, then a scripted run that finishes by itself: jobs submitted, a
// node killed mid-gang, the gang resuming from its checkpoint elsewhere.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "control/net/http_client.h"
#include "core/clock.h"

namespace stargate::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct UpOptions {
  std::string dir = "stargate-up";
  int sites = 2;
  int agents_per_site = 2;
  std::string accelerators = "CPU:1";
  int rest_port = 8470;
  int agent_port = 8471;
  Clock* clock = nullptr;  // paces the waits for the cluster and its jobs
};

// A child process running this binary with `args`, output to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

// The cluster `up` starts: one server, agents named site<i>-node<j>.
struct Cluster {
  pid_t server = -1;
  std::map<std::string, pid_t> agents;
  std::string rest_url;
  int agent_port = 0;

  ~Cluster() { Stop(); }
  void Stop() {
    for (auto& [name, pid] : agents) {
      if (pid > 0) kill(pid, SIGTERM);
    }
    for (auto& [name, pid] : agents) {
      if (pid > 0) waitpid(pid, nullptr, 0);
      pid = -1;
    }
    if (server > 0) {
      kill(server, SIGTERM);
      waitpid(server, nullptr, 0);
      server = -1;
    }
  }
};

const char* kJurisdictions[] = {"US", "EU", "CA", "NO"};

Status StartCluster(const UpOptions& o, Cluster* c) {
  fs::create_directories(o.dir);
  const std::string port_file = o.dir + "/ports";
  fs::remove(port_file);
  c->server =
      Spawn({"stargate", "server", "--data-dir", o.dir + "/server", "--listen",
             fmt::format("127.0.0.1:{}", o.rest_port), "--agent-listen", fmt::format("127.0.0.1:{}", o.agent_port),
             "--port-file", port_file, "--heartbeat-timeout-ms", "2000"},
            o.dir + "/server.log");
  for (int i = 0; i < 100 && !fs::exists(port_file); ++i) o.clock->SleepFor(Duration::Millis(50));
  int rest = 0, agent = 0;
  std::ifstream(port_file) >> rest >> agent;
  if (rest == 0) return absl::UnavailableError(fmt::format("the server did not start; see {}/server.log", o.dir));
  c->rest_url = fmt::format("http://127.0.0.1:{}", rest);
  c->agent_port = agent;
  for (int s = 0; s < o.sites; ++s) {
    for (int n = 0; n < o.agents_per_site; ++n) {
      const std::string name = fmt::format("site{}-node{}", s + 1, n + 1);
      c->agents[name] = Spawn({"stargate", "agent", "--server", fmt::format("127.0.0.1:{}", agent), "--name", name,
                               "--site", fmt::format("site{}", s + 1), "--region", fmt::format("region{}", s + 1),
                               "--jurisdiction", kJurisdictions[s % 4], "--accelerators", o.accelerators, "--work-dir",
                               o.dir + "/" + name, "--stop-grace-ms", "2000"},
                              o.dir + "/" + name + ".log");
    }
  }
  // Wait for every node to register.
  const size_t want = c->agents.size();
  for (int i = 0; i < 100; ++i) {
    auto r = control::CallServer(c->rest_url, "GET", "/v1/nodes");
    if (r.ok() && r->status == 200 && json::parse(r->body)["nodes"].size() >= want) return Status();
    o.clock->SleepFor(Duration::Millis(100));
  }
  return absl::UnavailableError(fmt::format("agents did not register; see {}/*.log", o.dir));
}

void WaitForSignal() {
  sigset_t s = BlockStopSignals();
  int sig = 0;
  sigwait(&s, &sig);
}

int RunUp(const UpOptions& o) {
  Cluster c;
  if (Status st = StartCluster(o, &c); !st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  fmt::print("stargate up: server {} (agents on 127.0.0.1:{}), {} nodes in {} sites; state and logs in {}\n",
             c.rest_url, c.agent_port, c.agents.size(), o.sites, o.dir);
  fmt::print(
      "  dashboard: {}/ui/\n"
      "  export STARGATE_SERVER={}\n  stargate node list; stargate job submit JOB.yaml; stargate job list\n"
      "Ctrl-C stops everything.\n",
      c.rest_url, c.rest_url);
  std::fflush(stdout);
  WaitForSignal();
  c.Stop();
  fmt::print("stargate up: stopped\n");
  return 0;
}

// ---- demo ----

StatusOr<json> Get(const std::string& url, const std::string& path) {
  SG_ASSIGN_OR_RETURN(control::HttpResponse r, control::CallServer(url, "GET", path));
  if (r.status != 200) return absl::UnavailableError(fmt::format("GET {}: HTTP {}: {}", path, r.status, r.body));
  return json::parse(r.body);
}

StatusOr<uint64_t> SubmitText(const std::string& url, const std::string& name, const std::string& text) {
  SG_ASSIGN_OR_RETURN(control::HttpResponse r,
                      control::CallServer(url, "POST", "/v1/jobs", text, {{"X-Filename", name + ".yaml"}}));
  if (r.status != 201) return absl::InvalidArgumentError(fmt::format("submit {}: HTTP {}: {}", name, r.status, r.body));
  return json::parse(r.body)["job"]["id"].get<uint64_t>();
}

// "a and b": the nodes of a GET /v1/jobs/{id}/logs answer, in rank order.
std::string NodesOf(const json& logs) {
  std::string s;
  for (const json& l : logs["logs"]) s += (s.empty() ? "" : " and ") + l["node"].get<std::string>();
  return s;
}

// Polls job `id` until `done(job)` or `seconds` pass.
template <typename Pred>
StatusOr<json> WaitJob(Clock& clock, const std::string& url, uint64_t id, int seconds, Pred done) {
  for (int i = 0; i < seconds * 10; ++i) {
    SG_ASSIGN_OR_RETURN(json j, Get(url, fmt::format("/v1/jobs/{}", id)));
    if (done(j["job"])) return j["job"];
    clock.SleepFor(Duration::Millis(100));
  }
  return absl::DeadlineExceededError(fmt::format("job {} did not get there in {} s", id, seconds));
}

constexpr char kTrainJob[] = R"(name: resumable-train
tenant: demo
resources: {accelerators: CPU:1, nodes: 2}
checkpoint: {interval: 1m}
run: |
  mkdir -p "$STARGATE_CHECKPOINT_DIR"
  step=0
  [ -f "$STARGATE_CHECKPOINT_DIR/step" ] && step=$(cat "$STARGATE_CHECKPOINT_DIR/step")
  echo "rank $RANK/$WORLD_SIZE on $STARGATE_NODE, attempt $STARGATE_ATTEMPT (restart $STARGATE_RESTART_COUNT): resuming at step $step"
  while [ "$step" -lt 150 ]; do
    step=$((step + 1)); sleep 0.1
    if [ "$RANK" = 0 ]; then echo $step > "$STARGATE_CHECKPOINT_DIR/step.tmp"; mv "$STARGATE_CHECKPOINT_DIR/step.tmp" "$STARGATE_CHECKPOINT_DIR/step"; fi
  done
  echo "rank $RANK done at step $step"
)";

Status Demo(const UpOptions& o) {
  Cluster c;
  fmt::print("1. starting a server and {} agents in {} sites under {}\n", o.sites * o.agents_per_site, o.sites, o.dir);
  SG_RETURN_IF_ERROR(StartCluster(o, &c));
  const std::string& url = c.rest_url;
  SG_ASSIGN_OR_RETURN(json nodes, Get(url, "/v1/nodes"));
  for (const json& n : nodes["nodes"]) {
    fmt::print("   node {:<14} site {:<6} {:<3} {}:{}\n", n["name"].get<std::string>(), n["site"].get<std::string>(),
               n["jurisdiction"].get<std::string>(), n["accelerator"].get<std::string>(), n["accelerators"].get<int>());
  }
  fmt::print("2. a 2-node job prints its torchrun-style ranks\n");
  SG_ASSIGN_OR_RETURN(const uint64_t hello,
                      SubmitText(url, "hello",
                                 "name: hello\nresources: {accelerators: CPU:1, nodes: 2}\n"
                                 "run: echo \"rank $RANK of $WORLD_SIZE, master $MASTER_ADDR:$MASTER_PORT\"\n"));
  SG_ASSIGN_OR_RETURN(json h,
                      WaitJob(*o.clock, url, hello, 20, [](const json& j) { return j["state"] == "succeeded"; }));
  fmt::print("   job {} {}: {}\n", hello, h["state"].get<std::string>(), h["reason"].get<std::string>());
  fmt::print("3. a 2-node training job that checkpoints; one of its nodes will die\n");
  SG_ASSIGN_OR_RETURN(const uint64_t train, SubmitText(url, "resumable-train", kTrainJob));
  SG_ASSIGN_OR_RETURN(json t, WaitJob(*o.clock, url, train, 20, [](const json& j) { return j["state"] == "running"; }));
  o.clock->SleepFor(Duration::Millis(2500));
  SG_ASSIGN_OR_RETURN(json logs, Get(url, fmt::format("/v1/jobs/{}/logs", train)));
  const std::string victim = logs["logs"].back()["node"].get<std::string>();
  fmt::print("   running on {}; kill -9 the agent of {}\n", NodesOf(logs), victim);
  kill(c.agents.at(victim), SIGKILL);
  waitpid(c.agents.at(victim), nullptr, 0);
  c.agents.at(victim) = -1;
  // Restarted: requeued and placed again, or repaired in place with a spare.
  SG_ASSIGN_OR_RETURN(t, WaitJob(*o.clock, url, train, 30, [](const json& j) {
                        return j["restarts"].get<int>() > 0 && j["state"] != "pending";
                      }));
  SG_ASSIGN_OR_RETURN(logs, Get(url, fmt::format("/v1/jobs/{}/logs", train)));
  fmt::print("   the server missed {}'s heartbeats, stopped the rest of the gang and restarted it on {}\n", victim,
             NodesOf(logs));
  SG_ASSIGN_OR_RETURN(t, WaitJob(*o.clock, url, train, 60,
                                 [](const json& j) { return j["state"] != "pending" && j["state"] != "running"; }));
  fmt::print("   job {} {} after {} restart(s); rank 0's output across attempts:\n", train,
             t["state"].get<std::string>(), t["restarts"].get<int>());
  // Rank 0 of every attempt, read from the agents' work dirs.
  for (const auto& entry : fs::directory_iterator(o.dir)) {
    if (!entry.is_directory()) continue;
    for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
      std::ifstream f(entry.path() / "logs" / fmt::format("job-{}-attempt-{}.log", train, attempt));
      for (std::string line; std::getline(f, line);) {
        if (line.rfind("rank 0", 0) == 0) fmt::print("     {}\n", line);
      }
    }
  }
  fmt::print("4. done: stopping the agents and the server\n");
  c.Stop();
  return t["state"] == "succeeded" ? Status() : absl::InternalError("the training job did not succeed");
}

}  // namespace

void AddUpCommands(CLI::App& app, Clock& clock, int* exit_code) {
  auto o = std::make_shared<UpOptions>();
  o->clock = &clock;
  CLI::App* up =
      app.add_subcommand("up", "Run a server and local agents emulating several sites (try it on one machine)");
  up->add_option("--dir", o->dir, "State and logs")->capture_default_str();
  up->add_option("--sites", o->sites, "Sites to emulate")->capture_default_str()->check(CLI::Range(1, 16));
  up->add_option("--agents-per-site", o->agents_per_site, "Agents (nodes) per site")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  up->add_option("--accelerators", o->accelerators, "Each node's devices, TYPE:N")->capture_default_str();
  up->add_option("--port", o->rest_port, "REST port (0 = any)")->capture_default_str();
  up->add_option("--agent-port", o->agent_port, "Agent API port (0 = any)")->capture_default_str();
  up->callback([o, exit_code] { *exit_code = RunUp(*o); });

  auto d = std::make_shared<UpOptions>();
  d->dir = "";
  d->clock = &clock;
  CLI::App* demo = app.add_subcommand("demo", "A scripted end-to-end run on this machine that finishes by itself");
  demo->add_option("--dir", d->dir, "State and logs (default: a fresh temporary directory, removed afterwards)");
  demo->callback([d, exit_code] {
    UpOptions o = *d;
    const bool temporary = o.dir.empty();
    if (temporary) {
      char tmpl[] = "/tmp/stargate-demo-XXXXXX";
      o.dir = mkdtemp(tmpl);
      // Passable by the tenants' users the agents run tasks as (root).
      fs::permissions(o.dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    }
    o.rest_port = 0;
    o.agent_port = 0;
    const Status st = Demo(o);
    if (temporary) fs::remove_all(o.dir);
    if (!st.ok()) std::cerr << "error: " << st.message() << "\n";
    *exit_code = st.ok() ? 0 : 1;
  });
}

}  // namespace stargate::cli
