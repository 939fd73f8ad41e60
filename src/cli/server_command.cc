// `stargate server`: the control plane's user API over a store in a data dir.
#include <CLI/CLI.hpp>
#include <absl/strings/str_split.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <iostream>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "control/agent_service.h"
#include "control/etcd_client.h"
#include "control/etcd_store.h"
#include "control/leader_lease.h"
#include "control/random_hex.h"
#include "control/http_server.h"
#include "control/memory_store.h"
#include "control/rest_api.h"
#include "control/sqlite_store.h"
#include "core/site_file.h"
#include "core/unit_parser.h"
#include "sched/scheduler.h"

namespace stargate::cli {
namespace {

struct ServerOptions {
  std::string data_dir = "stargate-data";
  std::string listen = "127.0.0.1:8470";
  std::string agent_listen = "127.0.0.1:8471";
  std::string port_file;
  std::string web_dir;             // the dashboard's files ("" = next to the binary: ../web)
  std::string policy = "stargate";
  int64_t heartbeat_timeout_ms = 5000;
  bool in_memory = false;
  int hot_spares = 0;
  bool no_gang_repair = false;
  int site_partition_grace_s = 60;
  std::string preempt_after = "10m";
  std::string etcd;                // comma-separated HOST:PORT client endpoints; "" = SQLite in the data dir
  std::string etcd_prefix = "stargate/";
  int lease_ttl_s = 5;             // leader lease with --etcd: a standby takes over this long after a crash
  std::string tokens;              // bearer tokens file (control/access.h); "" = open API
  std::string sites;               // site metadata file (core/site_file.h)
  TlsFlags tls;                    // mutual TLS on the agent API
};

// "a,b,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text) { return absl::StrSplit(text, ','); }

// "host:port" with port in [0, 65535] (0 = any free port).
bool SplitListen(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = listen.substr(0, colon);
  try {
    size_t used = 0;
    *port = std::stoi(listen.substr(colon + 1), &used);
    return used == listen.size() - colon - 1 && *port >= 0 && *port <= 65535;
  } catch (const std::exception&) {
    return false;
  }
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int RunServer(const ServerOptions& o) {
  std::string host, agent_host;
  int port = 0, agent_port = 0;
  if (!SplitListen(o.listen, &host, &port)) {
    std::cerr << "error: --listen: expected HOST:PORT with PORT in [0, 65535], got '" << o.listen << "'\n";
    return 2;
  }
  if (!SplitListen(o.agent_listen, &agent_host, &agent_port)) {
    std::cerr << "error: --agent-listen: expected HOST:PORT with PORT in [0, 65535], got '" << o.agent_listen << "'\n";
    return 2;
  }
  // Before gRPC and httplib start their threads.
  sigset_t stop_signals = BlockStopSignals();
  SchedulerSpec spec;
  StatusOr<Duration> preempt_after = ParseDuration(o.preempt_after);
  if (!preempt_after.ok() || *preempt_after < Duration::Zero()) {
    std::cerr << "error: --preempt-after: expected a duration such as 30s or 10m, got '" << o.preempt_after << "'\n";
    return 2;
  }
  spec.preempt_after = *preempt_after;
  auto scheduler = sched::MakeScheduler(o.policy, spec);
  if (!scheduler.ok()) {
    std::cerr << "error: --policy: " << scheduler.status().message() << "\n";
    return 2;
  }
  std::unique_ptr<control::Store> store;
  control::EtcdStore* etcd_store = nullptr;  // the same store, with --etcd
  std::string where = "memory";
  if (o.in_memory) {
    store = std::make_unique<control::MemoryStore>();
  } else if (!o.etcd.empty()) {
    auto etcd = control::EtcdStore::Open(SplitList(o.etcd), o.etcd_prefix);
    if (!etcd.ok()) {
      std::cerr << "error: --etcd: " << etcd.status().message() << "\n";
      return 2;
    }
    where = fmt::format("etcd {} under {}", o.etcd, o.etcd_prefix);
    etcd_store = etcd->get();
    store = std::move(etcd).value();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) {
      std::cerr << "error: cannot create data dir " << o.data_dir << ": " << ec.message() << "\n";
      return 1;
    }
    where = (std::filesystem::path(o.data_dir) / "state.db").string();
    auto sqlite = control::SqliteStore::Open(where);
    if (!sqlite.ok()) {
      std::cerr << "error: " << sqlite.status().message() << "\n";
      return 1;
    }
    store = std::move(sqlite).value();
  }
  // Several servers on one etcd: one leads (an etcd lease on
  // <prefix>leader), the others wait here, serving nothing, and take over
  // when the leader's lease runs out. A leader that cannot renew its lease
  // exits at once, so two never act together.
  std::unique_ptr<control::LeaderLease> lease;
  // Unique per process, even for two servers with the same --listen and
  // pid (containers): the write fence compares it.
  const std::string me = fmt::format("{} (pid {}, {})", o.listen, getpid(), control::RandomHex(2));
  if (!o.etcd.empty()) {
    StatusOr<control::EtcdClient> client =
        control::EtcdClient::Make(SplitList(o.etcd), Duration::Seconds(2));
    if (!client.ok()) {
      std::cerr << "error: --etcd: " << client.status().message() << "\n";
      return 2;
    }
    lease = std::make_unique<control::LeaderLease>(std::move(client).value(), o.etcd_prefix + "leader", me,
                                                   Duration::Seconds(o.lease_ttl_s));
    std::string announced;
    for (;;) {
      StatusOr<bool> got = lease->TryAcquire();
      if (got.ok() && *got) break;
      StatusOr<std::string> holder = lease->Holder();
      const std::string now = !got.ok() ? std::string(got.status().message()) : holder.ok() ? *holder : "?";
      if (now != announced) {
        fmt::print("stargate server: standby; leader: {}\n", now);
        std::fflush(stdout);
        announced = now;
      }
      // Watch the leader key (a second at a time, to notice SIGTERM): a
      // release or an expired lease wakes the standby at once.
      if (!lease->AwaitChange(Duration::Seconds(1)).ok()) {
        const timespec pause{0, 200'000'000};
        nanosleep(&pause, nullptr);  // etcd unreachable: do not spin
      }
      const timespec none{0, 0};
      if (sigtimedwait(&stop_signals, nullptr, &none) > 0) {
        fmt::print("stargate server: stopped (standby)\n");
        return 0;
      }
    }
    fmt::print("stargate server: leader ({})\n", me);
    std::fflush(stdout);
    // Every write from here on is conditional on still holding the key.
    etcd_store->FenceOn(o.etcd_prefix + "leader", me, [] {
      std::cerr << "stargate server: a write was refused: another server leads now; exiting\n";
      std::_Exit(3);
    });
  }
  std::atomic<bool> renewing{lease != nullptr};
  std::thread renewer([&] {
    const auto ttl = std::chrono::seconds(o.lease_ttl_s);
    auto renewed = std::chrono::steady_clock::now();
    while (renewing.load()) {
      auto next = std::chrono::steady_clock::now() + ttl / 3;
      if (Status st = lease->KeepAlive(); st.ok()) {
        renewed = std::chrono::steady_clock::now();
      } else if (st.code() == absl::StatusCode::kFailedPrecondition ||
                 std::chrono::steady_clock::now() - renewed >= ttl) {
        // The lease is gone (or must be by now): a standby may be leading.
        std::cerr << "stargate server: lost the leadership (" << st.message() << "); exiting\n";
        std::_Exit(3);  // no more writes from here
      } else {
        next = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);  // etcd between leaders: retry
      }
      while (renewing.load() && std::chrono::steady_clock::now() < next) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });
  struct StopRenewing {  // on every way out: stop renewing, then hand over at once
    std::atomic<bool>& flag;
    std::thread& t;
    std::unique_ptr<control::LeaderLease>& lease;
    ~StopRenewing() {
      flag = false;
      if (t.joinable()) t.join();
      if (lease) lease->Release().IgnoreError();
    }
  } stop_renewing{renewing, renewer, lease};
  // Absolute, because tasks get checkpoint paths under it and run elsewhere.
  const std::string data_dir = std::filesystem::absolute(o.data_dir).lexically_normal().string();
  control::ControlPlane cp(store.get(), NowUnixMs, std::move(scheduler).value(), data_dir, o.heartbeat_timeout_ms);
  if (Status st = cp.nodes.Load(NowUnixMs()); !st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  // Who serves, from when: a leader change is an admin-visible event.
  if (Status st = cp.audit.Append(NowUnixMs(), "server " + me, lease ? "lead" : "start", 0,
                                  fmt::format("state in {}", where));
      !st.ok()) {
    std::cerr << "error: audit log: " << st.message() << "\n";
    return 1;
  }
  std::optional<control::AccessList> access;
  if (!o.sites.empty()) {
    std::string text;
    if (!ReadWholeFile(o.sites, "--sites", &text)) return 2;
    StatusOr<std::vector<SiteInfo>> sites = ParseSiteFile(text, o.sites);
    if (!sites.ok()) {
      std::cerr << "error: " << sites.status().message() << "\n";
      return 2;
    }
    for (SiteInfo& s : *sites) cp.site_info[s.name] = std::move(s);
  }
  control::ReconcilerOptions reconciler_options{o.hot_spares, !o.no_gang_repair,
                                                int64_t{o.site_partition_grace_s} * 1000, {}};
  for (const auto& [name, info] : cp.site_info) {
    if (info.latitude && info.longitude) reconciler_options.site_coordinates[name] = {*info.latitude, *info.longitude};
  }
  cp.reconciler.Configure(reconciler_options);
  if (!o.tokens.empty()) {
    std::ifstream in(o.tokens, std::ios::binary);
    if (!in) {
      std::cerr << "error: --tokens: cannot read " << o.tokens << "\n";
      return 2;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    StatusOr<control::AccessList> parsed = control::AccessList::Parse(text, o.tokens);
    if (!parsed.ok()) {
      std::cerr << "error: " << parsed.status().message() << "\n";
      return 2;
    }
    access = std::move(parsed).value();
    cp.access = &*access;
  } else {
    std::cerr << "stargate server: warning: no --tokens: the REST API is open to anyone who can reach it\n";
  }
  control::RestApi api(&cp);
  control::HttpServer server(&api);
  // The dashboard at /ui/: web/ of the source tree, beside build/.
  std::string web_dir = o.web_dir;
  if (web_dir.empty()) {
    std::error_code ec;
    web_dir = (std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "web").string();
  }
  const Status ui = server.ServeDashboard(web_dir);
  if (!ui.ok()) std::cerr << "stargate server: no dashboard (" << ui.message() << ")\n";
  StatusOr<int> bound = server.Bind(host, port);
  if (!bound.ok()) {
    std::cerr << "error: " << bound.status().message() << "\n";
    return 1;
  }
  std::optional<control::TlsPem> tls;
  if (o.tls.given()) {
    tls.emplace();
    if (!ReadTlsFlags(o.tls, &tls->cert, &tls->key, &tls->ca)) return 2;
  }
  control::AgentServer agents(&cp);
  StatusOr<int> agent_bound = agents.Start(agent_host, agent_port, tls ? &*tls : nullptr);
  if (!agent_bound.ok()) {
    std::cerr << "error: " << agent_bound.status().message() << "\n";
    return 1;
  }
  if (!o.port_file.empty()) {  // written whole, then renamed: readers never see half a line
    const std::string tmp = o.port_file + ".tmp";
    std::ofstream(tmp) << *bound << " " << *agent_bound << "\n";
    std::filesystem::rename(tmp, o.port_file);
  }
  // The control loop: requeue gangs that lost a node, place pending jobs.
  std::atomic<bool> stopping{false};
  // It runs every 250 ms, and at once when a job is submitted or a task ends.
  std::thread loop([&] {
    std::unique_lock<std::mutex> lock(cp.mu);
    while (!stopping.load()) {
      const auto pass_start = std::chrono::steady_clock::now();
      const int64_t now_ms = NowUnixMs();
      if (const int64_t credit = cp.nodes.NotePass(now_ms); credit > 0) {
        ++cp.metrics.stalls;
        fmt::print(stderr, "stargate server: the control loop stalled for {} ms; nodes' heartbeat deadlines moved "
                           "by it\n", credit);
      }
      if (Status st = cp.reconciler.Tick(now_ms); !st.ok()) {
        std::cerr << "stargate server: control loop: " << st.message() << "\n";
      }
      cp.metrics.scheduler_pass.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - pass_start).count());
      cp.changed.notify_all();  // placements made: wake the agents' long polls
      cp.changed.wait_for(lock, std::chrono::milliseconds(control::NodeRegistry::kPassIntervalMs));
    }
  });
  std::atomic<bool> serve_done{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    // A signal can come before Serve() is listening, when Stop() has nothing
    // to stop yet: keep asking until Serve() has returned.
    while (!serve_done.load()) {
      server.Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  fmt::print("stargate server: REST on http://{}:{}, agents on {}:{} (state: {}, policy {})\n", host, *bound,
             agent_host, *agent_bound, where, o.policy);
  std::fflush(stdout);
  const Status served = server.Serve();
  serve_done = true;
  // Wake the waiter if Serve ended on its own.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  stopping = true;
  cp.changed.notify_all();
  loop.join();
  agents.Stop();
  if (!served.ok()) {
    std::cerr << "error: " << served.message() << "\n";
    return 1;
  }
  fmt::print("stargate server: stopped\n");
  return 0;
}

}  // namespace

void AddServerCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ServerOptions>();
  CLI::App* cmd = app.add_subcommand("server", "Run the control plane: the REST API over a store in a data dir");
  cmd->add_option("--data-dir", o->data_dir, "Where state.db (SQLite, WAL) lives")->capture_default_str();
  cmd->add_option("--listen", o->listen, "HOST:PORT for the REST API (PORT 0 = any free port)")->capture_default_str();
  cmd->add_option("--agent-listen", o->agent_listen, "HOST:PORT for agents (gRPC; PORT 0 = any free port)")
      ->capture_default_str();
  cmd->add_option("--port-file", o->port_file, "Once listening, write \"REST_PORT AGENT_PORT\" here");
  cmd->add_option("--web-dir", o->web_dir,
                  "The dashboard's files (web/ of the source tree, with its node_modules); default: ../web beside the binary");
  cmd->add_option("--policy", o->policy, "Scheduler policy set: stargate or fifo")->capture_default_str();
  cmd->add_option("--heartbeat-timeout-ms", o->heartbeat_timeout_ms, "A node is down after this long without a heartbeat")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{500}, int64_t{600000}));
  cmd->add_flag("--in-memory", o->in_memory, "Keep state in memory only (nothing survives a restart)");
  cmd->add_option("--etcd", o->etcd, "Keep state in etcd instead: client endpoints HOST:PORT[,HOST:PORT...]");
  cmd->add_option("--etcd-prefix", o->etcd_prefix, "Key prefix in etcd (several deployments can share a cluster)")
      ->capture_default_str();
  AddTlsFlags(cmd, &o->tls, "Agent API over mutual TLS: this server's", "whose agents may connect");
  cmd->add_option("--sites", o->sites,
                  "A YAML file about the sites: latitude, longitude, power_cap, pue, carbon (core/site_file.h)");
  cmd->add_option("--tokens", o->tokens,
                  "YAML file of bearer tokens (name, role admin/user/viewer, tenant); without it the API is open");
  cmd->add_option("--lease-ttl-s", o->lease_ttl_s,
                  "With --etcd: the leader's lease; a standby takes over this long after the leader dies")
      ->capture_default_str()
      ->check(CLI::Range(1, 600));
  cmd->add_option("--hot-spares", o->hot_spares, "Whole nodes per site kept free for gang repair")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--preempt-after", o->preempt_after,
                  "A job with priority > 0 that would wait longer than this stops lower-priority work "
                  "(SIGTERM first: time to checkpoint)")
      ->capture_default_str();
  cmd->add_option("--site-partition-grace-s", o->site_partition_grace_s,
                  "When all of a site's nodes go silent at once (its WAN link cut), its jobs keep their attempt "
                  "this long before restarting elsewhere (0 = at once)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  cmd->add_flag("--no-gang-repair", o->no_gang_repair,
                "Requeue a gang that lost a node as a whole, instead of restarting it in place with a spare");
  cmd->callback([o, exit_code] { *exit_code = RunServer(*o); });
}

}  // namespace stargate::cli
