#include "control/server/agent_service.h"

#include <absl/synchronization/mutex.h>

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include <fmt/format.h>

#include "control/protocol/agent_proto.h"
#include "proto/agent.grpc.pb.h"

namespace stargate::control {
namespace {

grpc::Status ToGrpc(const Status& st) {
  if (st.ok()) return grpc::Status::OK;
  grpc::StatusCode code = grpc::StatusCode::UNAVAILABLE;
  switch (st.code()) {
    case absl::StatusCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case absl::StatusCode::kPermissionDenied:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    case absl::StatusCode::kFailedPrecondition:  // another live agent holds the node
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    default:
      break;
  }
  return grpc::Status(code, std::string(st.message()));
}

// The names the caller's TLS certificate proves (CN and subject alternative
// names); none on a plaintext call.
AgentProof ProofOf(const grpc::ServerContext* ctx) {
  AgentProof p;
  std::shared_ptr<const grpc::AuthContext> auth = ctx->auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return p;
  p.tls = true;
  for (const char* property : {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& v : auth->FindPropertyValues(property)) {
      std::string name(v.data(), v.size());
      if (std::find(p.cert_names.begin(), p.cert_names.end(), name) == p.cert_names.end()) p.cert_names.push_back(name);
    }
  }
  return p;
}

class Service final : public pb::AgentService::Service {
 public:
  explicit Service(ControlPlane* cp) : cp_(cp) {}

  grpc::Status Register(grpc::ServerContext* ctx, const pb::RegisterRequest* req, pb::RegisterReply* reply) override {
    StatusOr<Registration> r = FromProto(*req);
    if (!r.ok()) return ToGrpc(r.status());
    StatusOr<std::string> credential = cp_->Register(*r, ProofOf(ctx));
    if (!credential.ok()) return ToGrpc(credential.status());
    reply->set_heartbeat_interval_ms(static_cast<int32_t>(ControlPlane::kHeartbeatInterval.millis()));
    reply->set_node_credential(*credential);
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext* ctx, const pb::HeartbeatRequest* req,
                         pb::HeartbeatReply* reply) override {
    const AgentHeartbeat h = FromProto(*req);
    if (h.leaving) return ToGrpc(cp_->Leave(h, ProofOf(ctx)));
    StatusOr<HeartbeatResult> r = cp_->Heartbeat(
        h, [ctx] { return ctx->IsCancelled(); }, ProofOf(ctx));
    if (!r.ok()) return ToGrpc(r.status());
    *reply = ToProto(*r);
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
  // gRPC's locks are absl::Mutex, whose deadlock detection (on in
  // Debian's abseil) keeps a graph of every lock taken: a few per cent of
  // a heartbeat's cost, for a check meant for debugging.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::ServerBuilder builder;
  int bound = 0;
  // gRPC sets SO_REUSEPORT by default: a second server would share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(fmt::format("{}:{}", host, port), ServerCredentials(tls), &bound);
  builder.RegisterService(&impl_->service);
  // Keep threads polling rather than start and end one per burst of
  // heartbeats (gRPC's default is 1 to 2 pollers): at 100,000 nodes the
  // thread churn cost more than the heartbeats themselves.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 16);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || bound == 0) {
    return absl::UnavailableError(
        fmt::format("cannot listen for agents on {}:{}: address in use (or not an address of this host)", host, port));
  }
  return bound;
}

void AgentServer::Stop() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown(DeadlineAfter(Duration::Seconds(2)));
    impl_->server.reset();
  }
}

}  // namespace stargate::control
