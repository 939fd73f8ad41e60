#include "control/agent/agent.h"

#include <absl/base/thread_annotations.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "control/agent/checkpoint_mover.h"
#include "control/agent/gpu_probe.h"
#include "control/agent/local_runner.h"
#include "control/agent/task_log_server.h"
#include "control/net/cert.h"
#include "control/net/grpc_glue.h"
#include "control/protocol/agent_proto.h"
#include "proto/agent.grpc.pb.h"
#include "runtime/random_hex.h"

namespace stargate::control {
namespace {

struct CpuSample {
  uint64_t busy = 0, total = 0;
};

CpuSample ReadCpu() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  uint64_t v[8] = {};
  f >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  CpuSample s;
  for (uint64_t x : v) s.total += x;
  s.busy = s.total - v[3] - v[4];  // minus idle and iowait
  return s;
}

int64_t MemoryUsedBytes() {
  std::ifstream f("/proc/meminfo");
  std::string key, unit;
  int64_t value = 0, total = 0, available = 0;
  while (f >> key >> value >> unit) {
    if (key == "MemTotal:") total = value;
    if (key == "MemAvailable:") available = value;
  }
  return (total - available) * 1024;
}

}  // namespace

struct Agent::Impl {
  Impl(AgentConfig c, Clock* clk) : config(std::move(c)), clock(clk) {}

  bool Register() {
    Registration r;
    r.node = config.node;
    r.node.log_port = log_port;
    r.node.log_address = config.log_address;
    r.node.log_token = log_token;
    r.node.moves_checkpoints = mover != nullptr;
    r.agent_id = agent_id;
    r.join_token = config.join_token;
    r.credential = credential;
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineAfter(Duration::Seconds(3)));
    pb::RegisterReply reply;
    const grpc::Status st = stub->Register(&ctx, ToProto(r), &reply);
    if (!st.ok()) {
      Complain(st);
      if (st.error_code() == grpc::StatusCode::UNAVAILABLE) NextServer();
      return false;
    }
    last_complaint.clear();
    if (reply.heartbeat_interval_ms() > 0) interval = Duration::Millis(reply.heartbeat_interval_ms());
    if (!reply.node_credential().empty() && reply.node_credential() != credential) {
      credential = reply.node_credential();
      SaveCredential();
    }
    return true;
  }

  // Says why a registration failed, in words an operator acts on, once per
  // reason (the agent retries every second).
  void Complain(const grpc::Status& st) {
    std::string line;
    const std::string& m = st.error_message();
    if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      line = fmt::format("the server refused this node: {}", m);
    } else if (st.error_code() == grpc::StatusCode::UNAVAILABLE && !config.tls_cert.empty() &&
               (m.find("andshake") != std::string::npos || m.find("SSL") != std::string::npos ||
                m.find("ertificate") != std::string::npos)) {
      line = fmt::format(
          "the TLS handshake with {} failed: the server must trust the CA that signed this node's certificate "
          "(--tls-cert), and --tls-ca must hold the CA of the server's ({})",
          servers[current], m);
    } else {
      line = fmt::format("register: {}", m);
    }
    if (line == last_complaint) return;
    last_complaint = line;
    std::cerr << "stargate agent " << config.node.name << ": " << line << "\n";
  }

  // WORK_DIR/credentials/<node>, 0600, replaced whole.
  void SaveCredential() {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(credential_path).parent_path(), ec);
    std::filesystem::permissions(std::filesystem::path(credential_path).parent_path(),
                                 std::filesystem::perms::owner_all, ec);
    const std::string tmp = credential_path + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << credential << "\n";
    }
    std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
    std::filesystem::rename(tmp, credential_path, ec);
    if (ec)
      std::cerr << "stargate agent " << config.node.name << ": cannot keep the node credential: " << ec.message()
                << "\n";
  }

  void Heartbeat(Time now) {
    AgentHeartbeat h;
    h.node = config.node.name;
    if (config.host_telemetry) {
      const CpuSample cpu = ReadCpu();
      if (cpu.total > last_cpu.total) {
        h.telemetry.cpu_utilisation =
            static_cast<double>(cpu.busy - last_cpu.busy) / static_cast<double>(cpu.total - last_cpu.total);
      }
      last_cpu = cpu;
      h.telemetry.memory_used_bytes = MemoryUsedBytes();
    }
    // GPU telemetry where a GPU exists. nvidia-smi is a process start:
    // long polls can return many times a second, so sample it every 5 s.
    if (config.host_telemetry && config.node.accelerator != AcceleratorType::kCpu &&
        (!gpu_sampled.has_value() || now - *gpu_sampled >= kGpuSample)) {
      gpu_sampled = now;
      const bool amd =
          config.node.accelerator == AcceleratorType::kMI250X || config.node.accelerator == AcceleratorType::kMI300X;
      auto gpus = amd ? ProbeRocmSmi() : ProbeNvidiaSmi();
      if (gpus.ok()) {
        gpu_util = gpu_power_w = 0;
        for (const GpuSample& g : *gpus) {
          gpu_util += g.utilisation;
          gpu_power_w += g.power_w;
        }
        gpu_util /= static_cast<double>(gpus->size());
      }
    }
    h.telemetry.gpu_utilisation = gpu_util;
    h.telemetry.gpu_power_w = gpu_power_w;
    h.telemetry.agent_id = agent_id;
    h.credential = credential;
    h.tasks = runner->Poll(config.node.name, now);
    h.holding = runner->Holding(config.node.name);
    if (mover != nullptr) mover->Report(&h.held, &h.copies);
    h.wait = kLongPoll;
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineAfter(kLongPoll + Duration::Seconds(3)));
    {
      std::lock_guard<std::mutex> lock(inflight_mu);
      inflight = &ctx;
      // A beat that reports ends is answered soon (with the work the
      // freed devices get): cutting it short would only lose that answer.
      inflight_reports_end =
          std::any_of(h.tasks.begin(), h.tasks.end(), [](const TaskReport& t) { return !t.running; });
    }
    pb::HeartbeatReply reply;
    const grpc::Status st = stub->Heartbeat(&ctx, ToProto(h), &reply);
    {
      std::lock_guard<std::mutex> lock(inflight_mu);
      inflight = nullptr;
    }
    if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED) {  // the node's credential was withdrawn
      Complain(st);
      registered = false;
      clock->SleepFor(interval);
      return;
    }
    if (!st.ok()) {
      // Cancelled by the watcher (a task ended, or stopping): beat again now.
      // Otherwise the server is away: tasks keep running; retry after a pause.
      if (st.error_code() != grpc::StatusCode::CANCELLED) {
        if (!server_lost.has_value()) {  // said once per outage, so an operator can line it up with the server's
          server_lost = now;
          fmt::print("stargate agent {}: lost the server ({}); tasks keep running, retrying\n", config.node.name,
                     st.error_message());
          std::fflush(stdout);
        }
        clock->SleepFor(Duration::Millis(500));
        if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
            st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          NextServer();
        }
      }
      return;
    }
    if (server_lost.has_value()) {
      fmt::print("stargate agent {}: the server is back after {:.1f} s\n", config.node.name,
                 static_cast<double>((clock->Now() - *server_lost).millis()) / 1000.0);
      std::fflush(stdout);
      server_lost.reset();
    }
    HeartbeatResult r = FromProto(reply);
    if (r.register_again) registered = false;
    if (mover != nullptr && !r.register_again) mover->Want(std::move(r.watch), std::move(r.pull));
    // Stops before starts: a start may take the devices (or the share
    // slot) of a task this same reply stops, and must know it is leaving.
    for (const TaskRef& ref : r.stop) {
      auto grace = r.stop_grace.find(ref);
      const Duration g = grace == r.stop_grace.end() ? Duration::Zero() : grace->second;
      if (stopping.emplace(ref, g).second) {
        if (g > Duration::Zero()) {
          fmt::print("stargate agent {}: stopping job {} attempt {}: preempted, {:.0f} s to checkpoint\n",
                     config.node.name, ref.job, ref.attempt, g.seconds());
        } else {
          fmt::print("stargate agent {}: stopping job {} attempt {}: the server no longer wants it\n", config.node.name,
                     ref.job, ref.attempt);
        }
        std::fflush(stdout);
        runner->Stop(config.node.name, ref, clock->Now(), g);
      }
    }
    for (const TaskLaunch& launch : r.run) runner->Start(config.node.name, launch);
    for (const auto& [ref, in] : r.fall) runner->FallAt(config.node.name, ref, clock->Now() + in);
    for (const TaskRef& ref : r.forget) {
      runner->Forget(config.node.name, ref);
      stopping.erase(ref);
    }
    // The server holds too many long polls to hold ours: beat again later.
    if (r.next_beat > Duration::Zero()) clock->SleepFor(r.next_beat);
  }

  void Connect() {
    TlsPem tls{config.tls_cert, config.tls_key, config.tls_ca};
    channel = grpc::CreateCustomChannel(servers[current], ChannelCredentials(config.tls_ca.empty() ? nullptr : &tls),
                                        channel_args);
    stub = pb::AgentService::NewStub(channel);
  }
  // After a failed call: with several servers, try the next one.
  void NextServer() {
    if (servers.size() < 2) return;
    current = (current + 1) % servers.size();
    Connect();
    registered = false;  // a new leader may not know this agent's process yet
  }

  // Tells the server this node is going away on purpose (best effort).
  void Leave() {
    AgentHeartbeat h;
    h.node = config.node.name;
    h.telemetry.agent_id = agent_id;
    h.credential = credential;
    h.leaving = true;
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineAfter(Duration::Seconds(1)));
    pb::HeartbeatReply reply;
    stub->Heartbeat(&ctx, ToProto(h), &reply);
  }

  // Cuts the in-flight long poll short when a task ends or the agent
  // stops, so an end is reported at once rather than when the poll returns.
  void Watch() {
    while (!done.load()) {
      const bool child_ended = runner->HasNews();
      if (child_ended || Stopping()) {
        std::lock_guard<std::mutex> lock(inflight_mu);
        if (inflight != nullptr && (!inflight_reports_end || Stopping())) inflight->TryCancel();
      }
      clock->SleepFor(Duration::Millis(child_ended ? 5 : 10));
    }
  }

  // The agent's life: register, heartbeat until stopped, then stop the
  // tasks and leave.
  void Run() {
    std::thread watcher([this] { Watch(); });
    while (!Stopping()) {
      const Time now = clock->Now();
      for (const auto& [r, grace] : stopping) runner->Stop(config.node.name, r, now, grace);
      if (config.up != nullptr && !config.up->load()) {
        registered = false;  // back up: register afresh
        clock->SleepFor(Duration::Millis(200));
        continue;
      }
      if (!leftovers_ended) {
        // What an earlier agent of this node left running ends before the
        // server hears of this one: it could hand out those attempts again.
        if (runner->EndLeftovers(config.node.name) > 0) {
          clock->SleepFor(Duration::Millis(50));
          continue;
        }
        leftovers_ended = true;
      }
      if (!registered) {
        registered = Register();
        if (!registered) clock->SleepFor(interval);
        continue;
      }
      Heartbeat(now);  // a long poll: returns when there is work, a task ends, or after ~1 s
    }
    done = true;
    watcher.join();
    // Asked to stop: stop every task (SIGTERM), then force those still
    // running once the runner's grace period is over.
    const Time deadline = clock->Now() + config.stop_grace + Duration::Seconds(2);
    for (;;) {
      const Time now = clock->Now();
      bool any = false;
      for (const TaskReport& t : runner->Poll(config.node.name, now)) {
        if (!t.running) continue;
        any = true;
        runner->Stop(config.node.name, t.task, now, Duration::Zero());
      }
      if (!any || now > deadline) break;
      clock->SleepFor(Duration::Millis(50));
    }
    if (registered) Leave();
  }

  bool Stopping() const { return stop.load() || (config.stop != nullptr && config.stop->load()); }

  static constexpr Duration kLongPoll = Duration::Seconds(1);
  static constexpr Duration kGpuSample = Duration::Seconds(5);
  AgentConfig config;
  Clock* clock;
  std::atomic<bool> stop{false}, done{false};
  std::mutex wait_mu;  // one Wait joins the thread
  std::thread thread;
  std::optional<Time> gpu_sampled;
  double gpu_util = 0, gpu_power_w = 0;
  std::mutex inflight_mu;
  grpc::ClientContext* inflight ABSL_GUARDED_BY(inflight_mu) = nullptr;  // the long poll in flight
  bool inflight_reports_end ABSL_GUARDED_BY(inflight_mu) = false;
  std::vector<std::string> servers;  // agent API addresses; `current` is in use
  size_t current = 0;
  grpc::ChannelArguments channel_args;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::AgentService::Stub> stub;
  TaskLogServer logs;
  // The site store's checkpoints (an agent with its own log server and a
  // checkpoint root); null otherwise.
  std::mutex owners_mu;                 // the mover's thread resolves tenants' accounts
  std::unique_ptr<TenantUsers> owners;  // with tenant users: for the mover (which goes first)
  std::unique_ptr<CheckpointMover> mover;
  std::unique_ptr<LocalRunner> own_runner;
  TaskRunner* runner = nullptr;
  std::map<TaskRef, Duration> stopping;  // with their grace (0 = the runner's)
  bool registered = false;
  bool leftovers_ended = false;
  std::optional<Time> server_lost;  // when heartbeats began to fail (none: the server answers)
  Duration interval = Duration::Seconds(1);
  int log_port = 0;
  std::string log_token;
  std::string agent_id;                     // random per process: see RegisterRequest.agent_id
  std::string credential, credential_path;  // the node credential (--node-auth token) and its file
  std::string last_complaint;
  CpuSample last_cpu;
};

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Agent::~Agent() {
  Stop();
  Wait().IgnoreError();
}

StatusOr<std::unique_ptr<Agent>> Agent::Open(AgentConfig config, Clock* clock) {
  auto impl = std::make_unique<Impl>(std::move(config), clock);
  Impl& a = *impl;
  // Absolute: tasks run in their own directory and get paths under this.
  a.config.work_dir = std::filesystem::absolute(a.config.work_dir).lexically_normal().string();
  std::error_code ec;
  std::filesystem::create_directories(a.config.work_dir + "/logs", ec);
  if (ec) return absl::UnavailableError(fmt::format("cannot create {}/logs: {}", a.config.work_dir, ec.message()));
  if (!a.config.tls_cert.empty()) {
    // Said here, in words, rather than as a failed handshake every second.
    if (Status st = CheckCert(a.config.tls_cert, a.config.tls_key, clock->Now().millis() / 1000); !st.ok()) {
      return st;
    }
    if (!a.config.tls_ca.empty() && !SignedBy(a.config.tls_cert, a.config.tls_ca)) {
      // Servers may trust another CA for agents than the one that signed
      // their own certificates (--tls-ca here): a warning, not an error.
      std::cerr << "stargate agent " << a.config.node.name
                << ": warning: the certificate (--tls-cert) is not signed by the CA in --tls-ca; a server that "
                   "trusts only that CA will refuse the handshake\n";
    }
    StatusOr<std::vector<std::string>> names = CertNames(a.config.tls_cert);
    if (names.ok() && std::find(names->begin(), names->end(), a.config.node.name) == names->end()) {
      std::cerr << "stargate agent " << a.config.node.name << ": warning: the certificate (--tls-cert) names "
                << absl::StrJoin(*names, ", ") << ", not this node; a server with --node-auth cert will refuse it\n";
    }
  }
  a.credential_path = a.config.work_dir + "/credentials/" + a.config.node.name;
  if (std::ifstream f(a.credential_path); f) std::getline(f, a.credential);
  if (a.config.log_port < 0) {
    a.log_token = RandomHex(4);
    a.log_port =
        a.logs.Start(a.config.node.address, a.config.work_dir + "/logs", a.log_token, a.config.node.checkpoint_root);
    if (a.log_port == 0) std::cerr << "stargate agent: cannot serve task logs on " << a.config.node.address << "\n";
    if (a.log_port != 0 && !a.config.node.checkpoint_root.empty()) {
      CheckpointMoverOptions mo{a.config.node.checkpoint_root, a.config.node.jurisdiction, a.config.node.name};
      if (a.config.tenant_users.enabled) {  // copies belong to their tenant's user, as its tasks' files do
        a.owners = std::make_unique<TenantUsers>(a.config.tenant_users);
        mo.owner = [&a](const std::string& tenant) {
          std::lock_guard<std::mutex> lock(a.owners_mu);
          return a.owners->Resolve(tenant);
        };
      }
      a.mover = std::make_unique<CheckpointMover>(std::move(mo), clock);
    }
  } else {
    a.log_port = a.config.log_port;
    a.log_token = a.config.log_token;
  }
  a.runner = a.config.runner;
  if (a.runner == nullptr) {
    a.own_runner =
        std::make_unique<LocalRunner>(a.config.node, a.config.work_dir, a.config.stop_grace, a.config.tenant_users);
    a.own_runner->SetHoldingLoad(a.config.holding_load);
    a.runner = a.own_runner.get();
  }
  // Reconnect quickly after a server restart (gRPC's default backoff grows
  // to two minutes); heartbeats are cheap.
  a.channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  a.channel_args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  a.channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Several servers (one leads; standbys do not listen): on failure the
  // agent moves on to the next.
  a.servers = absl::StrSplit(a.config.server, ',');
  a.Connect();
  a.last_cpu = ReadCpu();
  a.agent_id = RandomHex(3);
  a.thread = std::thread([&a] { a.Run(); });
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

void Agent::Stop() {
  if (impl_) impl_->stop = true;
}

Status Agent::Wait() {
  if (!impl_) return Status();
  std::lock_guard<std::mutex> lock(impl_->wait_mu);
  if (impl_->thread.joinable()) impl_->thread.join();
  return Status();
}

}  // namespace stargate::control
