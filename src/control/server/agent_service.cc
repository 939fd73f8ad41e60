#include "control/server/agent_service.h"

#include <grpcpp/grpcpp.h>

#include <fmt/format.h>

#include "control/protocol/agent_proto.h"
#include "proto/agent.grpc.pb.h"

namespace stargate::control {
namespace {

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
    StatusOr<Registration> r = FromProto(*req);
    if (!r.ok()) return ToGrpc(r.status());
    if (Status st = cp_->Register(*r); !st.ok()) {
      // Another live agent holds the node: the caller must not retry elsewhere.
      return st.code() == absl::StatusCode::kFailedPrecondition
                 ? grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, std::string(st.message()))
                 : ToGrpc(st);
    }
    reply->set_heartbeat_interval_ms(static_cast<int32_t>(ControlPlane::kHeartbeatInterval.millis()));
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext* ctx, const pb::HeartbeatRequest* req,
                         pb::HeartbeatReply* reply) override {
    const AgentHeartbeat h = FromProto(*req);
    if (h.leaving) {
      cp_->Leave(h.node, h.telemetry.agent_id);
      return grpc::Status::OK;
    }
    StatusOr<HeartbeatResult> r = cp_->Heartbeat(h, [ctx] { return ctx->IsCancelled(); });
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
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(fmt::format("{}:{}", host, port), ServerCredentials(tls), &bound);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || bound == 0) {
    return absl::UnavailableError(fmt::format("cannot listen for agents on {}:{}", host, port));
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
