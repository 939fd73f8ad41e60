#include "control/agent_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "proto/agent.grpc.pb.h"

namespace stargate::control {
namespace {

namespace pb = stargate::agent::v1;

constexpr int kHeartbeatIntervalMs = 1000;
constexpr int kMaxWaitMs = 5000;  // a long poll never holds a reply longer

grpc::Status ToGrpc(const Status& st) {
  if (st.ok()) return grpc::Status::OK;
  const grpc::StatusCode code = st.code() == absl::StatusCode::kInvalidArgument ? grpc::StatusCode::INVALID_ARGUMENT
                                                                                 : grpc::StatusCode::UNAVAILABLE;
  return grpc::Status(code, std::string(st.message()));
}

class Service final : public pb::AgentService::Service {
 public:
  explicit Service(ControlPlane* cp) : cp_(cp) {}

  grpc::Status Register(grpc::ServerContext*, const pb::RegisterRequest* req, pb::RegisterReply* reply) override {
    NodeInfo n;
    n.name = req->node_name();
    n.site = req->site();
    n.region = req->region();
    n.jurisdiction = req->jurisdiction();
    n.address = req->address();
    n.accelerators = req->accelerators();
    n.cpus = req->cpus();
    n.memory_bytes = req->memory_bytes();
    n.log_port = req->log_port();
    n.log_address = req->log_address();
    n.log_token = req->log_token();
    if (n.name.empty() || n.site.empty() || n.address.empty() || n.accelerators < 1 || n.accelerators > 64) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "node_name, site and address are required and accelerators must be in [1, 64]");
    }
    StatusOr<AcceleratorType> type = ParseAcceleratorType(req->accelerator());
    if (!type.ok()) return ToGrpc(type.status());
    n.accelerator = *type;
    std::lock_guard<std::mutex> lock(cp_->mu);
    if (Status st = cp_->nodes.Register(n, cp_->clock(), req->agent_id()); !st.ok()) {
      return st.code() == absl::StatusCode::kFailedPrecondition
                 ? grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, std::string(st.message()))
                 : ToGrpc(st);
    }
    ++cp_->metrics.registrations;
    cp_->audit
        .Append(cp_->clock(), "node " + n.name, "join", 0,
                fmt::format("site {} ({}), {} x {}, agent {}", n.site, n.jurisdiction, n.accelerators,
                            Name(n.accelerator), req->agent_id()))
        .IgnoreError();  // best effort: a registration must not fail on it
    reply->set_heartbeat_interval_ms(kHeartbeatIntervalMs);
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext* ctx, const pb::HeartbeatRequest* req, pb::HeartbeatReply* reply) override {
    NodeTelemetry t;
    t.cpu_utilisation = req->cpu_utilisation();
    t.memory_used_bytes = req->memory_used_bytes();
    t.gpu_utilisation = req->gpu_utilisation();
    t.gpu_power_w = req->gpu_power_w();
    t.agent_id = req->agent_id();
    std::vector<TaskReport> tasks;
    for (const pb::TaskStatus& s : req->tasks()) {
      tasks.push_back(TaskReport{TaskRef{s.job_id(), s.attempt()}, s.running(), s.exit_code(), s.signal()});
    }
    if (req->leaving()) {
      {
        std::lock_guard<std::mutex> lock(cp_->mu);
        cp_->nodes.Leave(req->node_name(), req->agent_id());
        cp_->audit.Append(cp_->clock(), "node " + req->node_name(), "leave", 0, "its agent stopped cleanly").IgnoreError();
      }
      cp_->changed.notify_all();  // its gangs need stopping and requeueing
      return grpc::Status::OK;
    }
    const bool reports_an_end = std::any_of(tasks.begin(), tasks.end(), [](const TaskReport& r) { return !r.running; });
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(std::clamp(req->wait_ms(), 0, kMaxWaitMs));
    StatusOr<HeartbeatResult> r;
    {
      std::unique_lock<std::mutex> lock(cp_->mu);
      ++cp_->metrics.heartbeats;
      for (;;) {  // OnHeartbeat is idempotent for the same reports, so it may run again
        r = cp_->reconciler.OnHeartbeat(req->node_name(), t, tasks, cp_->clock());
        if (!r.ok() || r->register_again || !r->run.empty() || !r->stop.empty() || !r->forget.empty() ||
            std::chrono::steady_clock::now() >= deadline || ctx->IsCancelled()) {
          break;
        }
        cp_->changed.wait_until(lock, deadline);
        // The agent gave up on this poll (it may be leaving): a late
        // OnHeartbeat would count it alive again.
        if (ctx->IsCancelled()) break;
      }
    }
    // An ended task may free room or end a job: the loop should look now.
    if (reports_an_end) cp_->changed.notify_all();
    if (!r.ok()) return ToGrpc(r.status());
    reply->set_register_again(r->register_again);
    for (const TaskLaunch& l : r->run) {
      pb::Task* task = reply->add_run();
      task->set_job_id(l.task.job);
      task->set_attempt(l.task.attempt);
      task->set_command(l.command);
      for (const auto& [k, v] : l.env) (*task->mutable_env())[k] = v;
    }
    auto add_refs = [](const std::vector<TaskRef>& refs, auto* out) {
      for (const TaskRef& ref : refs) {
        pb::TaskRef* p = out->Add();
        p->set_job_id(ref.job);
        p->set_attempt(ref.attempt);
      }
    };
    add_refs(r->stop, reply->mutable_stop());
    add_refs(r->forget, reply->mutable_forget());
    return grpc::Status::OK;
  }

 private:
  ControlPlane* cp_;
};

}  // namespace

struct AgentServer::Impl {
  explicit Impl(ControlPlane* cp) : service(cp) {}
  Service service;
  std::unique_ptr<grpc::Server> server;
};

AgentServer::AgentServer(ControlPlane* cp) : impl_(std::make_unique<Impl>(cp)) {}

AgentServer::~AgentServer() { Stop(); }

StatusOr<int> AgentServer::Start(const std::string& host, int port, const TlsPem* tls) {
  grpc::ServerBuilder builder;
  int bound = 0;
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (tls != nullptr) {
    grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    opts.pem_root_certs = tls->ca;
    opts.pem_key_cert_pairs.push_back({tls->key, tls->cert});
    creds = grpc::SslServerCredentials(opts);
  }
  builder.AddListeningPort(fmt::format("{}:{}", host, port), creds, &bound);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || bound == 0) {
    return absl::UnavailableError(fmt::format("cannot listen for agents on {}:{}", host, port));
  }
  return bound;
}

void AgentServer::Stop() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server.reset();
  }
}

}  // namespace stargate::control
