#include "control/agent.h"

#include <absl/strings/str_split.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "control/gpu_probe.h"
#include "control/local_runner.h"
#include "control/random_hex.h"
#include "control/task_log_server.h"
#include "proto/agent.grpc.pb.h"

namespace stargate::control {
namespace {

namespace pb = stargate::agent::v1;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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
  explicit Impl(AgentConfig c) : config(std::move(c)) {}

  bool Register() {
    pb::RegisterRequest req;
    const NodeInfo& n = config.node;
    req.set_node_name(n.name);
    req.set_site(n.site);
    req.set_region(n.region);
    req.set_jurisdiction(n.jurisdiction);
    req.set_address(n.address);
    req.set_accelerator(std::string(Name(n.accelerator)));
    req.set_accelerators(n.accelerators);
    req.set_cpus(n.cpus);
    req.set_memory_bytes(n.memory_bytes);
    req.set_log_port(log_port);
    req.set_log_address(config.log_address);
    req.set_log_token(log_token);
    req.set_agent_id(agent_id);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    pb::RegisterReply reply;
    const grpc::Status st = stub->Register(&ctx, req, &reply);
    if (!st.ok()) {
      std::cerr << "stargate agent " << n.name << ": register: " << st.error_message() << "\n";
      if (st.error_code() == grpc::StatusCode::UNAVAILABLE) NextServer();
      return false;
    }
    if (reply.heartbeat_interval_ms() > 0) interval_ms = reply.heartbeat_interval_ms();
    return true;
  }

  void Heartbeat(int64_t now) {
    pb::HeartbeatRequest req;
    req.set_node_name(config.node.name);
    if (config.host_telemetry) {
      const CpuSample cpu = ReadCpu();
      if (cpu.total > last_cpu.total) {
        req.set_cpu_utilisation(static_cast<double>(cpu.busy - last_cpu.busy) /
                                static_cast<double>(cpu.total - last_cpu.total));
      }
      last_cpu = cpu;
      req.set_memory_used_bytes(MemoryUsedBytes());
    }
    // GPU telemetry where a GPU exists. nvidia-smi is a process start:
    // long polls can return many times a second, so sample it every 5 s.
    if (config.host_telemetry && config.node.accelerator != AcceleratorType::kCpu &&
        now - gpu_sampled_ms >= kGpuSampleMs) {
      gpu_sampled_ms = now;
      auto gpus = ProbeNvidiaSmi();
      if (gpus.ok()) {
        gpu_util = gpu_power_w = 0;
        for (const GpuSample& g : *gpus) {
          gpu_util += g.utilisation;
          gpu_power_w += g.power_w;
        }
        gpu_util /= static_cast<double>(gpus->size());
      }
    }
    req.set_gpu_utilisation(gpu_util);
    req.set_gpu_power_w(gpu_power_w);
    for (const TaskReport& t : runner->Poll(config.node.name, now)) {
      pb::TaskStatus* s = req.add_tasks();
      s->set_job_id(t.task.job);
      s->set_attempt(t.task.attempt);
      s->set_running(t.running);
      s->set_exit_code(t.exit_code);
      s->set_signal(t.signal);
    }
    req.set_wait_ms(kLongPollMs);
    req.set_agent_id(agent_id);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(kLongPollMs + 3000));
    {
      std::lock_guard<std::mutex> lock(inflight_mu);
      inflight = &ctx;
    }
    pb::HeartbeatReply reply;
    const grpc::Status st = stub->Heartbeat(&ctx, req, &reply);
    {
      std::lock_guard<std::mutex> lock(inflight_mu);
      inflight = nullptr;
    }
    if (!st.ok()) {
      // Cancelled by the watcher (a task ended, or stopping): beat again now.
      // Otherwise the server is away: tasks keep running; retry after a pause.
      if (st.error_code() != grpc::StatusCode::CANCELLED) {
        if (server_lost_ms < 0) {  // said once per outage, so an operator can line it up with the server's
          server_lost_ms = now;
          fmt::print("stargate agent {}: lost the server ({}); tasks keep running, retrying\n", config.node.name,
                     st.error_message());
          std::fflush(stdout);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        if (st.error_code() == grpc::StatusCode::UNAVAILABLE || st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          NextServer();
        }
      }
      return;
    }
    if (server_lost_ms >= 0) {
      fmt::print("stargate agent {}: the server is back after {:.1f} s\n", config.node.name,
                 static_cast<double>(NowMs() - server_lost_ms) / 1000.0);
      std::fflush(stdout);
      server_lost_ms = -1;
    }
    if (reply.register_again()) registered = false;
    for (const pb::Task& t : reply.run()) {
      TaskLaunch launch{{t.job_id(), t.attempt()}, t.command(), {t.env().begin(), t.env().end()}};
      runner->Start(config.node.name, launch);
    }
    for (const pb::TaskRef& r : reply.stop()) {
      if (stopping.insert({r.job_id(), r.attempt()}).second) {
        fmt::print("stargate agent {}: stopping job {} attempt {}: the server no longer wants it\n",
                   config.node.name, r.job_id(), r.attempt());
        std::fflush(stdout);
      }
    }
    for (const pb::TaskRef& r : reply.forget()) {
      runner->Forget(config.node.name, {r.job_id(), r.attempt()});
      stopping.erase({r.job_id(), r.attempt()});
    }
  }

  void Connect() {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (!config.tls_ca.empty()) {
      grpc::SslCredentialsOptions opts;
      opts.pem_root_certs = config.tls_ca;
      opts.pem_private_key = config.tls_key;
      opts.pem_cert_chain = config.tls_cert;
      creds = grpc::SslCredentials(opts);
    }
    channel = grpc::CreateCustomChannel(servers[current], creds, channel_args);
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
    pb::HeartbeatRequest req;
    req.set_node_name(config.node.name);
    req.set_agent_id(agent_id);
    req.set_leaving(true);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    pb::HeartbeatReply reply;
    stub->Heartbeat(&ctx, req, &reply);
  }

  // Cuts the in-flight long poll short when a task ends or the agent
  // stops, so an end is reported at once rather than when the poll returns.
  void Watch(const std::atomic<bool>& stop, const std::atomic<bool>& done) {
    while (!done.load()) {
      const bool child_ended = runner->HasNews();
      if (child_ended || stop.load()) {
        std::lock_guard<std::mutex> lock(inflight_mu);
        if (inflight != nullptr) inflight->TryCancel();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(child_ended ? 50 : 10));
    }
  }

  static constexpr int kLongPollMs = 1000;
  static constexpr int64_t kGpuSampleMs = 5000;
  int64_t gpu_sampled_ms = INT64_MIN / 2;
  double gpu_util = 0, gpu_power_w = 0;
  AgentConfig config;
  std::mutex inflight_mu;
  grpc::ClientContext* inflight = nullptr;
  std::vector<std::string> servers;  // agent API addresses; `current` is in use
  size_t current = 0;
  grpc::ChannelArguments channel_args;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::AgentService::Stub> stub;
  std::unique_ptr<LocalRunner> own_runner;
  TaskRunner* runner = nullptr;
  std::set<TaskRef> stopping;
  bool registered = false;
  int64_t server_lost_ms = -1;     // when heartbeats began to fail (-1: the server answers)
  int interval_ms = 1000;
  int log_port = 0;
  std::string log_token;
  std::string agent_id;            // random per process: see RegisterRequest.agent_id
  CpuSample last_cpu;
};

Agent::Agent(AgentConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Agent::~Agent() = default;

Status Agent::Run(const std::atomic<bool>& stop) {
  Impl& a = *impl_;
  // Absolute: tasks run in their own directory and get paths under this.
  a.config.work_dir = std::filesystem::absolute(a.config.work_dir).lexically_normal().string();
  std::error_code ec;
  std::filesystem::create_directories(a.config.work_dir + "/logs", ec);
  if (ec) return absl::UnavailableError(fmt::format("cannot create {}/logs: {}", a.config.work_dir, ec.message()));
  TaskLogServer logs;
  if (a.config.log_port < 0) {
    a.log_token = RandomHex(4);
    a.log_port = logs.Start(a.config.node.address, a.config.work_dir + "/logs", a.log_token);
    if (a.log_port == 0) std::cerr << "stargate agent: cannot serve task logs on " << a.config.node.address << "\n";
  } else {
    a.log_port = a.config.log_port;
    a.log_token = a.config.log_token;
  }
  a.runner = a.config.runner;
  if (a.runner == nullptr) {
    a.own_runner = std::make_unique<LocalRunner>(a.config.node, a.config.work_dir, a.config.stop_grace_ms);
    a.runner = a.own_runner.get();
  }
  // Reconnect quickly after a server restart (gRPC's default backoff grows
  // to two minutes); heartbeats are cheap.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Several servers (one leads; standbys do not listen): on failure the
  // agent moves on to the next.
  a.servers = absl::StrSplit(a.config.server, ',');
  a.channel_args = args;
  a.Connect();
  a.last_cpu = ReadCpu();
  a.agent_id = RandomHex(3);
  std::atomic<bool> done{false};
  std::thread watcher([&] { a.Watch(stop, done); });
  while (!stop.load()) {
    const int64_t now = NowMs();
    for (const TaskRef& r : a.stopping) a.runner->Stop(a.config.node.name, r, now);
    if (a.config.up != nullptr && !a.config.up->load()) {
      a.registered = false;  // back up: register afresh
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (!a.registered) {
      a.registered = a.Register();
      if (!a.registered) std::this_thread::sleep_for(std::chrono::milliseconds(a.interval_ms));
      continue;
    }
    a.Heartbeat(now);  // a long poll: returns when there is work, a task ends, or after ~1 s
  }
  done = true;
  watcher.join();
  // Asked to stop: stop every task (SIGTERM), then force those still
  // running once the runner's grace period is over.
  const int64_t deadline = NowMs() + a.config.stop_grace_ms + 2000;
  for (;;) {
    const int64_t now = NowMs();
    bool any = false;
    for (const TaskReport& t : a.runner->Poll(a.config.node.name, now)) {
      if (!t.running) continue;
      any = true;
      a.runner->Stop(a.config.node.name, t.task, now);
    }
    if (!any || now > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (a.registered) a.Leave();
  return Status();
}

}  // namespace stargate::control
