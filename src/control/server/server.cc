#include "control/server/server.h"
#include "control/server/grid_feed.h"

#include <absl/base/thread_annotations.h>
#include <absl/strings/str_join.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "control/net/http_server.h"
#include "control/server/agent_service.h"
#include "control/server/dashboard.h"
#include "control/server/leader_lease.h"
#include "control/server/rest_api.h"
#include "control/store/etcd_client.h"
#include "control/store/etcd_store.h"
#include "control/store/memory_store.h"
#include "control/store/sqlite_store.h"
#include "runtime/random_hex.h"

namespace stargate::control {

namespace {

// Open's InvalidArgument means "fix the options" (exit 2 in the CLI); a
// store or port that fails is not the options' fault.
Status NotAnOptionError(const Status& st) {
  if (st.code() != absl::StatusCode::kInvalidArgument) return st;
  return absl::FailedPreconditionError(st.message());
}

// Takes <dir>/server.lock (flock, exclusive, not waiting) and writes this
// process's pid into it; the lock lasts as long as the returned fd is open
// and dies with the process, so a server killed with -9 leaves no stale
// lock. FailedPrecondition naming the holder when another server has it.
StatusOr<int> LockDataDir(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "server.lock").string();
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          fmt::format("data dir {} is in use by another stargate server (pid {}); one server per data dir", dir,
                      holder.empty() ? "unknown" : holder));
    }
    return absl::UnavailableError(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
  }
  const std::string pid = fmt::format("{}\n", getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    close(fd);
    return absl::UnavailableError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return fd;
}

}  // namespace

struct Server::Impl {
  ServerOptions o;
  // The data dir's flock (SQLite only): declared first, so it is released
  // after everything that writes the dir has gone.
  struct Lock {
    int fd = -1;
    ~Lock() {
      if (fd >= 0) close(fd);
    }
  } dir_lock;
  std::unique_ptr<Store> store;
  std::unique_ptr<LeaderLease> lease;
  std::unique_ptr<ControlPlane> cp;
  std::unique_ptr<RestApi> api;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<AgentServer> agents;
  std::unique_ptr<GridPoller> poller;  // --sites `url:` sources
  std::unique_ptr<Forecaster> forecaster;
  std::thread loop, serve, renew, poll, forecast, learn;
  // The run-time model's trainer (ControlPlane::TrainRunTimes), every 5 s.
  std::mutex learn_mu;
  std::condition_variable learn_wake;
  bool learn_stop ABSL_GUARDED_BY(learn_mu) = false;
  void Learn() {
    std::unique_lock<std::mutex> lock(learn_mu);
    bool warned = false;
    while (!learn_stop) {
      lock.unlock();
      const Status st = cp->TrainRunTimes();
      if (!st.ok() && !warned) Warn("training the run-time model: " + std::string(st.message()));
      warned = warned || !st.ok();
      lock.lock();
      if (!learn_stop) o.clock->WaitUntil(learn_wake, lock, o.clock->Now() + Duration::Seconds(5));
    }
  }

  std::mutex mu;
  std::condition_variable cv;  // serve_done and stopping changes
  bool serve_done ABSL_GUARDED_BY(mu) = false;
  Status serve_status ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;   // the lease keeper ends
  bool stopped ABSL_GUARDED_BY(mu) = false;    // a Stop began
  bool stop_done ABSL_GUARDED_BY(mu) = false;  // ... and ended

  void Log(const std::string& line) {
    if (o.log) {
      o.log(line);
    } else {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    }
  }
  void Warn(const std::string& line) {
    if (o.warn) {
      o.warn(line);
    } else {
      std::cerr << line << "\n";
    }
  }
  void Deposed(const std::string& why) {
    if (o.deposed) {
      o.deposed(why);
      return;
    }
    std::cerr << "stargate server: " << why << "; exiting\n";
    std::_Exit(3);  // no more writes from here
  }

  StatusOr<std::string> OpenStore(EtcdStore** etcd);
  Status AwaitLead(const std::string& me);
  void KeepLease();
};

StatusOr<std::string> Server::Impl::OpenStore(EtcdStore** etcd) {
  if (o.in_memory) {
    store = std::make_unique<MemoryStore>();
    return std::string("memory");
  }
  if (!o.etcd.empty()) {
    StatusOr<std::unique_ptr<EtcdStore>> opened = EtcdStore::Open(o.etcd, o.clock, o.etcd_prefix);
    if (!opened.ok())
      return absl::InvalidArgumentError(fmt::format("--etcd: {}", std::string(opened.status().message())));
    *etcd = opened->get();
    store = std::move(opened).value();
    return fmt::format("etcd {} under {}", absl::StrJoin(o.etcd, ","), o.etcd_prefix);
  }
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec)
    return absl::UnavailableError(fmt::format("cannot create data dir {}: {}", o.data_dir, std::string(ec.message())));
  SG_ASSIGN_OR_RETURN(dir_lock.fd, LockDataDir(o.data_dir));
  const std::string path = (std::filesystem::path(o.data_dir) / "state.db").string();
  // Group commit: every answer waits for its commits' sync (RestApi::Handle,
  // ControlPlane::Heartbeat), which the commits made meanwhile share.
  StatusOr<std::unique_ptr<SqliteStore>> sqlite = SqliteStore::Open(path, {.group_commit = true});
  if (!sqlite.ok()) return NotAnOptionError(sqlite.status());
  store = std::move(sqlite).value();
  return path;
}

// Several servers on one etcd: one leads (an etcd lease on <prefix>leader),
// the others wait here, serving nothing, and take over when the leader's
// lease runs out.
Status Server::Impl::AwaitLead(const std::string& me) {
  StatusOr<EtcdClient> client = EtcdClient::Make(o.etcd, Duration::Seconds(2), o.clock);
  if (!client.ok())
    return absl::InvalidArgumentError(fmt::format("--etcd: {}", std::string(client.status().message())));
  lease = std::make_unique<LeaderLease>(std::move(client).value(), o.etcd_prefix + "leader", me, o.lease_ttl);
  std::string announced;
  for (;;) {
    StatusOr<bool> got = lease->TryAcquire();
    if (got.ok() && *got) break;
    StatusOr<std::string> holder = lease->Holder();
    const std::string now = !got.ok() ? std::string(got.status().message()) : holder.ok() ? *holder : "?";
    if (now != announced) {
      Log(fmt::format("stargate server: standby; leader: {}", now));
      announced = now;
    }
    // Watch the leader key (a second at a time, to notice a stop): a
    // release or an expired lease wakes the standby at once.
    if (!lease->AwaitChange(Duration::Seconds(1)).ok()) {
      o.clock->SleepFor(Duration::Millis(200));  // etcd unreachable: do not spin
    }
    if (o.stop_requested && o.stop_requested()) {
      lease.reset();
      return absl::CancelledError("stopped while standing by");
    }
  }
  Log(fmt::format("stargate server: leader ({})", me));
  return Status();
}

// Renews the lease every TTL/3; a leader that cannot renew in time (or
// whose lease is gone) is deposed at once, so two never act together.
void Server::Impl::KeepLease() {
  Time renewed = o.clock->Now();
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) {
    lock.unlock();
    // TTL/3 in whole seconds (1 s for the default 5 s); under 3 s, at once.
    Time next = o.clock->Now() + Duration::Seconds(o.lease_ttl.nanos() / 1'000'000'000 / 3);
    if (Status st = lease->KeepAlive(); st.ok()) {
      renewed = o.clock->Now();
    } else if (st.code() == absl::StatusCode::kFailedPrecondition || o.clock->Now() - renewed >= o.lease_ttl) {
      // The lease is gone (or must be by now): a standby may be leading.
      Deposed(fmt::format("lost the leadership ({})", std::string(st.message())));
      return;
    } else {
      next = o.clock->Now() + Duration::Millis(200);  // etcd between leaders: retry
    }
    lock.lock();
    while (!stopping && o.clock->WaitUntil(cv, lock, next)) {
    }
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

StatusOr<std::unique_ptr<Server>> Server::Open(ServerOptions options) {
  if (options.clock == nullptr || options.scheduler == nullptr) {
    return absl::InvalidArgumentError("a server needs a clock and a scheduler");
  }
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  Impl& s = *impl;
  if (s.o.node_auth == NodeAuth::kCert && !s.o.tls) {
    return absl::InvalidArgumentError("node auth by certificate needs mutual TLS on the agent API (--tls-*)");
  }
  if (s.o.node_auth == NodeAuth::kToken && !s.o.access) {
    // Else anyone who reaches the REST API could make join tokens.
    return absl::InvalidArgumentError("node auth by join token needs --tokens: only admins may make join tokens");
  }
  EtcdStore* etcd = nullptr;
  SG_ASSIGN_OR_RETURN(const std::string where, s.OpenStore(&etcd));
  // Unique per process, even for two servers with the same name and pid
  // (containers): the write fence compares it.
  const std::string me = fmt::format("{} (pid {}, {})", s.o.name, getpid(), RandomHex(2));
  if (etcd != nullptr) {
    SG_RETURN_IF_ERROR(s.AwaitLead(me));
    // Every write from here on is conditional on still holding the key.
    etcd->FenceOn(s.o.etcd_prefix + "leader", me, [&s] { s.Deposed("a write was refused: another server leads now"); });
    s.renew = std::thread([&s] { s.KeepLease(); });
  }
  auto server = std::unique_ptr<Server>(new Server(std::move(impl)));
  server->where_ = where;
  server->identity_ = me;

  ControlPlaneOptions cpo;
  // Absolute, because tasks get checkpoint paths under it and run elsewhere.
  cpo.data_dir = std::filesystem::absolute(s.o.data_dir).lexically_normal().string();
  cpo.heartbeat_timeout = s.o.heartbeat_timeout;
  cpo.max_long_polls = s.o.max_long_polls;
  cpo.reconciler = s.o.reconciler;
  cpo.node_auth = s.o.node_auth;
  cpo.sites = s.o.sites;
  cpo.sites_file = s.o.sites_file;
  cpo.scheduler_spec = s.o.scheduler_spec;
  cpo.log = [&s](const std::string& line) { s.Warn(line); };
  s.cp = std::make_unique<ControlPlane>(s.store.get(), s.o.clock, std::move(s.o.scheduler), std::move(cpo));
  server->cp_ = s.cp.get();
  if (Status st = s.cp->Load(); !st.ok()) return NotAnOptionError(st);
  // Who serves, from when: a leader change is an admin-visible event.
  if (Status st = s.cp->Audit("server " + me, s.lease ? "lead" : "start", 0, fmt::format("state in {}", where));
      !st.ok()) {
    return NotAnOptionError(Status(st.code(), fmt::format("audit log: {}", std::string(st.message()))));
  }
  ForecastOptions standing;
  standing.seeds = std::clamp(s.o.forecast_seeds, 1, ForecastOptions::kMaxSeeds);
  s.forecaster = std::make_unique<Forecaster>(s.cp.get(), s.o.clock, s.o.forecast_every, standing);
  s.api = std::make_unique<RestApi>(s.cp.get(), s.o.access ? &*s.o.access : nullptr, s.forecaster.get());
  s.http =
      std::make_unique<HttpServer>([&s](const HttpRequest& req) { return s.api->Handle(req); }, s.o.clock, s.o.http);
  StatusOr<std::map<std::string, StaticFile>> files =
      LoadDashboard(s.o.web_dir.empty() ? EmbeddedWebReader() : WebDirReader(s.o.web_dir));
  if (files.ok()) {
    s.http->ServeFiles(std::move(files).value(), "/ui/");
  } else {
    s.Warn(fmt::format("stargate server: no dashboard ({})", std::string(files.status().message())));
  }
  StatusOr<int> rest = s.http->Bind(s.o.rest_host, s.o.rest_port);
  if (!rest.ok()) return NotAnOptionError(rest.status());
  server->rest_port_ = *rest;
  s.agents = std::make_unique<AgentServer>(s.cp.get());
  StatusOr<int> agents = s.agents->Start(s.o.agent_host, s.o.agent_port, s.o.tls ? &*s.o.tls : nullptr);
  if (!agents.ok()) return NotAnOptionError(agents.status());
  server->agent_port_ = *agents;
  s.loop = std::thread([&s] { s.cp->RunLoop(); });
  if (s.o.forecast_every > Duration::Zero()) s.forecast = std::thread([&s] { s.forecaster->Run(); });
  s.learn = std::thread([&s] { s.Learn(); });
  if (!s.o.sites_file.empty()) {  // a reload may add HTTP sources: poll whenever there is a file
    s.poller = std::make_unique<GridPoller>(s.cp.get(), s.o.clock, [&s](const std::string& line) { s.Warn(line); });
    s.poll = std::thread([&s] { s.poller->Run(); });
  }
  s.serve = std::thread([&s] {
    Status st = s.http->Serve();
    std::lock_guard<std::mutex> lock(s.mu);
    s.serve_status = st;
    s.serve_done = true;
    s.cv.notify_all();
  });
  // Until it listens, a Stop would not reach it (httplib ignores it).
  while (!s.http->running()) {
    {
      std::lock_guard<std::mutex> lock(s.mu);
      if (s.serve_done) break;
    }
    std::this_thread::yield();
  }
  return server;
}

Status Server::Wait() {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait(lock, [&] { return s.serve_done; });
  return s.serve_status;
}

void Server::Stop() {
  if (!impl_) return;
  Impl& s = *impl_;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (s.stopped) {  // another caller is stopping it: return once it is stopped
      s.cv.wait(lock, [&] { return s.stop_done; });
      return;
    }
    s.stopped = true;
  }
  if (s.http) s.http->Stop();
  if (s.serve.joinable()) s.serve.join();
  if (s.cp) s.cp->StopLoop();
  if (s.loop.joinable()) s.loop.join();
  if (s.poller) s.poller->Stop();
  if (s.poll.joinable()) s.poll.join();
  if (s.forecaster) s.forecaster->Stop();
  if (s.forecast.joinable()) s.forecast.join();
  {
    std::lock_guard<std::mutex> lock(s.learn_mu);
    s.learn_stop = true;
  }
  s.learn_wake.notify_all();
  if (s.learn.joinable()) s.learn.join();
  if (s.agents) s.agents->Stop();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stopping = true;
  }
  s.cv.notify_all();
  if (s.renew.joinable()) s.renew.join();
  if (s.lease) s.lease->Release().IgnoreError();  // a standby takes over at once
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stop_done = true;
  }
  s.cv.notify_all();
}

}  // namespace stargate::control
