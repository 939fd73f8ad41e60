// `stargate server`: the control plane's user API over a store in a data dir.
#include <absl/strings/str_split.h>
#include <fmt/format.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "control/server/server.h"
#include "control/server/site_book.h"
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
  std::string web_dir;  // the dashboard's files on disk ("" = those built into the binary)
  std::string policy = "stargate";
  int64_t heartbeat_timeout_ms = 5000;
  int max_long_polls = 1024;
  bool in_memory = false;
  int hot_spares = 0;
  bool no_gang_repair = false;
  int site_partition_grace_s = 60;
  int reject_grace_s = 30;
  std::string preempt_after = "10m";
  std::string forecast_interval = "5m";
  int forecast_seeds = 4;
  std::string etcd;  // comma-separated HOST:PORT client endpoints; "" = SQLite in the data dir
  std::string etcd_prefix = "stargate/";
  int lease_ttl_s = 5;  // leader lease with --etcd: a standby takes over this long after a crash
  std::string tokens;   // bearer tokens file (control/server/access.h); "" = open API
  std::string sites;    // site metadata file (core/site_file.h)
  TlsFlags tls;         // mutual TLS on the agent API
  int http_workers = 16;
  int http_read_timeout_s = 10;
  int http_idle_timeout_s = 60;
  int max_conns_per_client = 1024;
  std::string node_auth = "auto";
};

// "a,b,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text) { return absl::StrSplit(text, ','); }

// The HOST of "HOST:PORT".
std::string SplitHost(const std::string& listen) { return listen.substr(0, listen.rfind(':')); }

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

int RunServer(const ServerOptions& o, Clock& clock) {
  control::ServerOptions so;
  so.clock = &clock;
  if (!SplitListen(o.listen, &so.rest_host, &so.rest_port)) {
    std::cerr << "error: --listen: expected HOST:PORT with PORT in [0, 65535], got '" << o.listen << "'\n";
    return 2;
  }
  if (!SplitListen(o.agent_listen, &so.agent_host, &so.agent_port)) {
    std::cerr << "error: --agent-listen: expected HOST:PORT with PORT in [0, 65535], got '" << o.agent_listen << "'\n";
    return 2;
  }
  // Before gRPC and httplib start their threads.
  sigset_t stop_signals = BlockStopSignals();
  sigaddset(&stop_signals, SIGHUP);  // a reload, not a stop
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  SchedulerSpec spec;
  StatusOr<Duration> preempt_after = ParseDuration(o.preempt_after);
  if (!preempt_after.ok() || *preempt_after < Duration::Zero()) {
    std::cerr << "error: --preempt-after: expected a duration such as 30s or 10m, got '" << o.preempt_after << "'\n";
    return 2;
  }
  spec.preempt_after = *preempt_after;
  StatusOr<Duration> forecast_every = ParseDuration(o.forecast_interval);
  if (!forecast_every.ok() || *forecast_every < Duration::Zero() ||
      (*forecast_every > Duration::Zero() && *forecast_every < Duration::Seconds(10))) {
    std::cerr << "error: --forecast-interval: expected 0 (none) or a duration of at least 10s such as 5m, got '"
              << o.forecast_interval << "'\n";
    return 2;
  }
  so.forecast_every = *forecast_every;
  so.forecast_seeds = o.forecast_seeds;
  auto scheduler = sched::MakeScheduler(o.policy, spec);
  if (!scheduler.ok()) {
    std::cerr << "error: --policy: " << scheduler.status().message() << "\n";
    return 2;
  }
  so.scheduler = std::move(scheduler).value();
  so.scheduler_spec = spec;
  if (!o.sites.empty()) {
    std::string text;
    if (!ReadWholeFile(o.sites, "--sites", &text)) return 2;
    StatusOr<std::shared_ptr<const control::SiteBook>> sites = control::SiteBook::Parse(text, o.sites);
    if (!sites.ok()) {
      std::cerr << "error: " << sites.status().message() << "\n";
      return 2;
    }
    so.sites = std::move(sites).value();
    so.sites_file = o.sites;
  }
  if (!o.tokens.empty()) {
    std::string text;
    if (!ReadWholeFile(o.tokens, "--tokens", &text)) return 2;
    StatusOr<control::AccessList> parsed = control::AccessList::Parse(text, o.tokens);
    if (!parsed.ok()) {
      std::cerr << "error: " << parsed.status().message() << "\n";
      return 2;
    }
    so.access = std::move(parsed).value();
  } else {
    std::cerr << "stargate server: warning: no --tokens: the REST API is open to anyone who can reach it\n";
  }
  if (o.tls.given()) {
    so.tls.emplace();
    if (!ReadTlsFlags(o.tls, &so.tls->cert, &so.tls->key, &so.tls->ca)) return 2;
  }
  so.http.workers = o.http_workers;
  so.http.read_timeout = Duration::Seconds(o.http_read_timeout_s);
  so.http.write_timeout = Duration::Seconds(o.http_read_timeout_s);
  so.http.idle_timeout = Duration::Seconds(o.http_idle_timeout_s);
  so.http.max_per_client = static_cast<size_t>(o.max_conns_per_client);
  if (o.node_auth == "cert" || (o.node_auth == "auto" && so.tls)) {
    so.node_auth = control::NodeAuth::kCert;
  } else if (o.node_auth == "token" || (o.node_auth == "auto" && so.access)) {
    so.node_auth = control::NodeAuth::kToken;
  } else {
    so.node_auth = control::NodeAuth::kNone;
    std::cerr << "stargate server: warning: --node-auth none: any agent that reaches the agent port may join as any "
                 "node\n";
  }
  so.in_memory = o.in_memory;
  if (!o.etcd.empty()) so.etcd = SplitList(o.etcd);
  so.etcd_prefix = o.etcd_prefix;
  so.lease_ttl = Duration::Seconds(o.lease_ttl_s);
  so.data_dir = o.data_dir;
  so.name = o.listen;
  so.heartbeat_timeout = Duration::Millis(o.heartbeat_timeout_ms);
  so.max_long_polls = o.max_long_polls;
  so.reconciler.hot_spares = o.hot_spares;
  so.reconciler.gang_repair = !o.no_gang_repair;
  so.reconciler.site_partition_grace = Duration::Seconds(o.site_partition_grace_s);
  so.reconciler.reject_grace = Duration::Seconds(o.reject_grace_s);
  so.web_dir = o.web_dir;
  // A standby gives up on SIGINT/SIGTERM; a SIGHUP meanwhile is kept, and
  // the sites are read again once it leads.
  bool reload_on_lead = false;
  so.stop_requested = [&stop_signals, &reload_on_lead] {
    const timespec none{0, 0};
    const int sig = sigtimedwait(&stop_signals, nullptr, &none);
    if (sig == SIGHUP) reload_on_lead = true;
    return sig > 0 && sig != SIGHUP;
  };
  StatusOr<std::unique_ptr<control::Server>> opened = control::Server::Open(std::move(so));
  if (!opened.ok()) {
    if (opened.status().code() == absl::StatusCode::kCancelled) {
      fmt::print("stargate server: stopped (standby)\n");
      return 0;
    }
    std::cerr << "error: " << opened.status().message() << "\n";
    return opened.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  control::Server& server = **opened;
  if (reload_on_lead && !o.sites.empty()) {
    const Status st = server.control_plane().ReloadSites("signal SIGHUP");
    if (!st.ok()) std::cerr << "stargate server: reload refused, the old sites stay: " << st.message() << "\n";
  }
  if (!o.port_file.empty()) {  // written whole, then renamed: readers never see half a line
    const std::string tmp = o.port_file + ".tmp";
    std::ofstream(tmp) << server.rest_port() << " " << server.agent_port() << "\n";
    std::filesystem::rename(tmp, o.port_file);
  }
  Status served;
  {
    // SIGHUP reads --sites again; SIGINT and SIGTERM stop the server.
    SignalWaiter waiter(stop_signals, [&](int sig) {
      if (sig != SIGHUP) {
        server.Stop();
        return;
      }
      const Status st = server.control_plane().ReloadSites("signal SIGHUP");
      if (st.ok()) {
        fmt::print("stargate server: reloaded {}\n", o.sites);
      } else {
        std::cerr << "stargate server: reload refused, the old sites stay: " << st.message() << "\n";
      }
      std::fflush(stdout);
    });
    fmt::print("stargate server: REST on http://{}:{}, agents on {}:{} (state: {}, policy {})\n", SplitHost(o.listen),
               server.rest_port(), SplitHost(o.agent_listen), server.agent_port(), server.where(), o.policy);
    std::fflush(stdout);
    served = server.Wait();
  }
  server.Stop();
  if (!served.ok()) {
    std::cerr << "error: " << served.message() << "\n";
    return 1;
  }
  fmt::print("stargate server: stopped\n");
  return 0;
}

}  // namespace

void AddServerCommand(CLI::App& app, Clock& clock, int* exit_code) {
  auto o = std::make_shared<ServerOptions>();
  CLI::App* cmd = app.add_subcommand("server", "Run the control plane: the REST API over a store in a data dir");
  cmd->add_option("--data-dir", o->data_dir, "Where state.db (SQLite, WAL) lives")->capture_default_str();
  cmd->add_option("--listen", o->listen, "HOST:PORT for the REST API (PORT 0 = any free port)")->capture_default_str();
  cmd->add_option("--agent-listen", o->agent_listen, "HOST:PORT for agents (gRPC; PORT 0 = any free port)")
      ->capture_default_str();
  cmd->add_option("--port-file", o->port_file, "Once listening, write \"REST_PORT AGENT_PORT\" here");
  cmd->add_option("--web-dir", o->web_dir,
                  "Serve the dashboard from this directory (web/ of the source tree, with its node_modules) instead of "
                  "the copy built into the binary: for editing the pages without a rebuild");
  cmd->add_option("--policy", o->policy, "Scheduler policy set: stargate or fifo")->capture_default_str();
  cmd->add_option("--heartbeat-timeout-ms", o->heartbeat_timeout_ms,
                  "A node is down after this long without a heartbeat")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{500}, int64_t{600000}));
  cmd->add_option("--max-long-polls", o->max_long_polls,
                  "At most this many agent heartbeats wait in a long poll at once (each parked poll is looked at "
                  "again at every change); "
                  "past it an agent is told to beat again in 1-2 s")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("--in-memory", o->in_memory, "Keep state in memory only (nothing survives a restart)");
  cmd->add_option("--etcd", o->etcd, "Keep state in etcd instead: client endpoints HOST:PORT[,HOST:PORT...]");
  cmd->add_option("--etcd-prefix", o->etcd_prefix, "Key prefix in etcd (several deployments can share a cluster)")
      ->capture_default_str();
  AddTlsFlags(cmd, &o->tls, "Agent API over mutual TLS: this server's", "whose agents may connect");
  cmd->add_option("--sites", o->sites,
                  "A YAML file about the sites: latitude, longitude, power_cap, pue, carbon and price series, forecast "
                  "(core/site_file.h); SIGHUP or POST /v1/sites/reload reads it again");
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
  cmd->add_option("--forecast-interval", o->forecast_interval,
                  "How often the standing forecast (24 h ahead, shown with pending jobs: job show, the dashboard) is "
                  "made, off the control loop; 0 = never")
      ->capture_default_str();
  cmd->add_option("--forecast-seeds", o->forecast_seeds, "Seeds of the standing forecast")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--reject-grace-s", o->reject_grace_s,
                  "A job no registered node could ever run fails this long after its submission, unless a node "
                  "that fits joins meanwhile (nodes still joining a new cluster)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  cmd->add_option("--site-partition-grace-s", o->site_partition_grace_s,
                  "When all of a site's nodes go silent at once (its WAN link cut), its jobs keep their attempt "
                  "this long before restarting elsewhere (0 = at once)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  cmd->add_flag("--no-gang-repair", o->no_gang_repair,
                "Requeue a gang that lost a node as a whole, instead of restarting it in place with a spare");
  cmd->add_option("--http-workers", o->http_workers,
                  "Threads that run REST requests (reading and writing connections is one event loop's job)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--http-read-timeout-s", o->http_read_timeout_s,
                  "A REST request must arrive whole this long after its first byte (and its answer be read as fast)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--http-idle-timeout-s", o->http_idle_timeout_s,
                  "A kept-alive REST connection with no request is closed after this long")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--max-conns-per-client", o->max_conns_per_client,
                  "Open REST connections one client address may hold; past it, 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--node-auth", o->node_auth,
                  "How agents prove their node: cert (the name in their TLS certificate), token (a join token, "
                  "then a node credential), none; auto = cert with --tls-*, token with --tokens, else none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cert", "token", "none"}));
  cmd->callback([o, &clock, exit_code] { *exit_code = RunServer(*o, clock); });
}

}  // namespace stargate::cli
