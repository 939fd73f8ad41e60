// File: server.h
// One `stargate server`, whole: Server::Open opens the store (memory,
// SQLite in the data dir, or etcd), waits to lead when several servers
// share etcd (a standby serves nothing), loads the control plane, and
// starts the REST API with the dashboard, the agents' gRPC API, the
// control loop and, on etcd, the lease keeper: each on threads the Server
// owns until Stop. `stargate server` only parses flags into
// ServerOptions; tests build servers in-process the same way.
//
// Thread-safe: Stop may come from any thread (a signal waiter), Wait from
// another.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/net/grpc_glue.h"
#include "control/net/http_server.h"
#include "control/server/access.h"
#include "control/server/control_plane.h"
#include "control/server/reconciler.h"
#include "control/server/site_book.h"
#include "core/clock.h"
#include "core/site_file.h"
#include "core/status.h"
#include "core/units.h"
#include "sched/scheduler.h"

namespace stargate::control {

struct ServerOptions {
  Clock* clock = nullptr;                       // required; must outlive the server
  std::unique_ptr<sched::Scheduler> scheduler;  // required
  SchedulerSpec scheduler_spec;                 // what `scheduler` was made with (the live forecast's copies)
  // Where the state lives: in memory (nothing survives), in etcd when
  // endpoints are given (HOST:PORT, keys under `etcd_prefix`, one leader
  // per prefix holding a lease of `lease_ttl`), else in
  // <data_dir>/state.db (SQLite). A data dir has one server: it holds an
  // exclusive flock on <data_dir>/server.lock (which names its pid) while
  // it runs, and a second server on the dir fails to open.
  // etcd needs a RealClock: its lease runs out in real time.
  bool in_memory = false;
  std::vector<std::string> etcd;
  std::string etcd_prefix = "stargate/";
  Duration lease_ttl = Duration::Seconds(5);
  std::string data_dir = "stargate-data";  // also the root of default checkpoint dirs
  std::string rest_host = "127.0.0.1";
  int rest_port = 8470;    // 0 = any free port
  HttpServerOptions http;  // the REST server's workers, deadlines and connection bounds
  std::string agent_host = "127.0.0.1";
  int agent_port = 8471;
  // How the server names itself (its --listen), in its identity and the
  // audit log.
  std::string name = "server";
  std::optional<TlsPem> tls;             // mutual TLS on the agent API
  NodeAuth node_auth = NodeAuth::kNone;  // how agents prove their node (node_identity.h); kCert needs `tls`
  std::optional<AccessList> access;      // bearer tokens on the REST API; none = open
  // --sites, loaded (null: none), and its path, read again on a reload.
  std::shared_ptr<const SiteBook> sites;
  std::string sites_file;
  Duration heartbeat_timeout = Duration::Seconds(5);
  int max_long_polls = 1024;  // ControlPlaneOptions::max_long_polls
  // Hot spares, gang repair, partition grace; the sites are `sites`.
  ReconcilerOptions reconciler;
  std::string web_dir;  // the dashboard's files on disk; "" = those built into the binary
  // The standing forecast (forecaster.h): 24 h ahead with this many seeds,
  // made every `forecast_every` (zero: none), shown with jobs.
  Duration forecast_every = Duration::Minutes(5);
  int forecast_seeds = 4;
  // Lines an operator reads (standby, leader): null = stdout. Warnings
  // (no dashboard, a stalled loop): null = stderr.
  std::function<void(const std::string&)> log, warn;
  // Asked while standing by for the lead (about once a second): true
  // gives up, and Open returns Cancelled.
  std::function<bool()> stop_requested;
  // Leadership is lost (the lease could not be renewed in time, or a
  // write was fenced off): the server must not act any more. Null: it
  // says why and exits the process at once (status 3), as nothing else
  // can stop every thread before its next write. Called on the lease
  // thread or inside a store write (under the control plane's lock), so it
  // must not call Stop.
  std::function<void(const std::string& why)> deposed;
};

class Server {
 public:
  // InvalidArgument for options a user must fix (a bad etcd endpoint);
  // Cancelled when stop_requested said so while standing by; Unavailable
  // or DataLoss for a store or port that cannot be had.
  static StatusOr<std::unique_ptr<Server>> Open(ServerOptions options);
  ~Server();

  int rest_port() const { return rest_port_; }
  int agent_port() const { return agent_port_; }
  // Where the state is, for messages: "memory", a path, or the etcd endpoints.
  const std::string& where() const { return where_; }
  // Unique per process: the leader key's value and the write fence's.
  const std::string& identity() const { return identity_; }
  ControlPlane& control_plane() { return *cp_; }

  // Stops serving (REST, agents, the loop) and hands the lead over.
  // Idempotent; a second caller returns once the first has stopped it.
  void Stop();
  // Blocks until the REST server ends (Stop, or an error: returned).
  Status Wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  ControlPlane* cp_ = nullptr;
  int rest_port_ = 0, agent_port_ = 0;
  std::string where_, identity_;
};

}  // namespace stargate::control
