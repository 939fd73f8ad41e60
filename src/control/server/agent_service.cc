#include "control/server/agent_service.h"

#include <absl/synchronization/mutex.h>

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

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
AgentProof ProofOf(const grpc::ServerContextBase* ctx) {
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

class SyncService : public pb::AgentService::Service {
 public:
  // The async method's wrapper is made by its default constructor.
  void Bind(ControlPlane* cp) { cp_ = cp; }

  grpc::Status Register(grpc::ServerContext* ctx, const pb::RegisterRequest* req, pb::RegisterReply* reply) override {
    StatusOr<Registration> r = FromProto(*req);
    if (!r.ok()) return ToGrpc(r.status());
    StatusOr<std::string> credential = cp_->Register(*r, ProofOf(ctx));
    if (!credential.ok()) return ToGrpc(credential.status());
    reply->set_heartbeat_interval_ms(static_cast<int32_t>(ControlPlane::kHeartbeatInterval.millis()));
    reply->set_node_credential(*credential);
    return grpc::Status::OK;
  }

 private:
  ControlPlane* cp_ = nullptr;
};

// Register on the sync server (rare, short); Heartbeat, a long poll, on
// the async API, so a waiting poll holds no thread: it is parked in the
// control plane (HeartbeatAsync) until its answer finishes the call.
// (gRPC 1.51's callback API would do the same with less code; its
// callback threads took 71% of the server's samples in a profile of the
// first try, so the completion queue with threads of our own was kept.)
using Service = pb::AgentService::WithAsyncMethod_Heartbeat<SyncService>;

// Heartbeat calls alive (waiting for a call, or served and not yet
// finished): a stop shuts the queue down only once there are none, as a
// Finish (or a new wait) on a shut-down queue aborts.
struct LiveCalls {
  std::mutex mu;
  std::condition_variable cv;
  int64_t count = 0;
  void Add(int64_t d) {
    std::lock_guard<std::mutex> lock(mu);
    count += d;
    cv.notify_all();  // under the lock: a waiter seeing 0 may destroy this
  }
};

// One heartbeat call through the completion queue: it waits for a call,
// hands it to the control plane, and is deleted once both its Finish and
// gRPC's "done" notice have come back.
class HeartbeatCall {
 public:
  enum class Event { kArrived, kFinished, kDone };
  struct Tag {
    HeartbeatCall* call;
    Event event;
  };

  // Waits for the next call.
  static void Listen(Service* service, grpc::ServerCompletionQueue* cq, ControlPlane* cp, LiveCalls* live) {
    auto* c = new HeartbeatCall(service, cq, cp, live);
    c->ctx_.AsyncNotifyWhenDone(&c->done_);
    service->RequestHeartbeat(&c->ctx_, &c->req_, &c->responder_, cq, cq, &c->arrived_);
  }

  void On(Event e, bool ok) {
    switch (e) {
      case Event::kArrived:
        if (!ok) {  // the server is shutting down: no call came (no done notice will)
          delete this;
          return;
        }
        Listen(service_, cq_, cp_, live_);
        Serve();
        return;
      case Event::kDone:
        // The agent gave up (its watcher cut the poll short, it is
        // leaving): the control plane looks at its parked polls now.
        if (ctx_.IsCancelled()) {
          cancelled_ = true;
          cp_->Nudge();
        }
        break;
      case Event::kFinished:
        break;
    }
    if (outstanding_.fetch_sub(1) == 1) delete this;
  }

 private:
  HeartbeatCall(Service* service, grpc::ServerCompletionQueue* cq, ControlPlane* cp, LiveCalls* live)
      : service_(service), cq_(cq), cp_(cp), live_(live) {
    live_->Add(1);
  }
  ~HeartbeatCall() { live_->Add(-1); }

  void Serve() {
    const AgentHeartbeat h = FromProto(req_);
    if (h.leaving) {
      // Answered once on disk, not by this queue thread waiting for it.
      cp_->LeaveAsync(h, ProofOf(&ctx_), [this](Status st) { responder_.Finish(reply_, ToGrpc(st), &finished_); });
      return;
    }
    cp_->HeartbeatAsync(
        h, [this] { return cancelled_.load(); }, ProofOf(&ctx_),
        [this](StatusOr<HeartbeatResult> r) {
          if (r.ok()) {
            reply_ = ToProto(*r);
            responder_.Finish(reply_, grpc::Status::OK, &finished_);
          } else {
            responder_.FinishWithError(ToGrpc(r.status()), &finished_);
          }
        });
  }

  Service* const service_;
  grpc::ServerCompletionQueue* const cq_;
  ControlPlane* const cp_;
  LiveCalls* const live_;
  grpc::ServerContext ctx_;
  pb::HeartbeatRequest req_;
  pb::HeartbeatReply reply_;
  grpc::ServerAsyncResponseWriter<pb::HeartbeatReply> responder_{&ctx_};
  Tag arrived_{this, Event::kArrived}, finished_{this, Event::kFinished}, done_{this, Event::kDone};
  std::atomic<bool> cancelled_{false};
  std::atomic<int> outstanding_{2};  // after arrival: the Finish and the done notice
};

// Takes the queue's events until it is shut down and empty.
void DrainQueue(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<HeartbeatCall::Tag*>(tag);
    t->call->On(t->event, ok);
  }
}

constexpr int kListening = 64;
constexpr int kWorkers = 4;

}  // namespace

struct AgentServer::Impl {
  explicit Impl(ControlPlane* cp) : cp(cp) { service.Bind(cp); }
  ControlPlane* cp;
  Service service;
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  std::unique_ptr<grpc::Server> server;
  std::vector<std::thread> workers;
  LiveCalls live;
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
  impl_->cq = builder.AddCompletionQueue();
  // Keep threads polling rather than start and end one per burst of
  // registrations (gRPC's default is 1 to 2 pollers).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 16);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || bound == 0) {
    impl_->server.reset();
    impl_->cq->Shutdown();
    DrainQueue(impl_->cq.get());
    return absl::UnavailableError(
        fmt::format("cannot listen for agents on {}:{}: address in use (or not an address of this host)", host, port));
  }
  // Calls waited for at once (each arrival waits for the next), and the
  // threads that take the queue's events: a heartbeat answered at once
  // with a reply already on disk is answered on one of them.
  for (int i = 0; i < kListening; ++i) {
    HeartbeatCall::Listen(&impl_->service, impl_->cq.get(), impl_->cp, &impl_->live);
  }
  for (int i = 0; i < kWorkers; ++i) impl_->workers.emplace_back([q = impl_->cq.get()] { DrainQueue(q); });
  return bound;
}

void AgentServer::Stop() {
  if (!impl_ || !impl_->server) return;
  // Calls still waiting are cancelled at the deadline; their done notices
  // make the control plane answer them, which finishes them.
  impl_->server->Shutdown(DeadlineAfter(Duration::Seconds(2)));
  {
    // Every call left has been cancelled by now, and the control plane
    // answers a cancelled poll at once (or the answering thread does,
    // after its disk sync); waits for calls come back refused.
    std::unique_lock<std::mutex> lock(impl_->live.mu);
    impl_->live.cv.wait(lock, [&] { return impl_->live.count == 0; });
  }
  impl_->cq->Shutdown();
  for (std::thread& t : impl_->workers) t.join();
  impl_->workers.clear();
  impl_->server.reset();
}

}  // namespace stargate::control
