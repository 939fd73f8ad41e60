#include "control/server/control_plane.h"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

namespace stargate::control {

ControlPlane::ControlPlane(Store* store, Clock* clock, std::unique_ptr<sched::Scheduler> scheduler,
                           ControlPlaneOptions options)
    : store_(store),
      clock_(clock),
      sites_(std::move(options.sites)),
      log_(options.log ? std::move(options.log) : std::function<void(const std::string&)>([](const std::string& line) {
        std::cerr << line << "\n";
      })),
      jobs_(store, clock),
      nodes_(store, options.heartbeat_timeout),
      audit_(store),
      reconciler_(&jobs_, &nodes_, std::move(scheduler), options.data_dir, clock) {
  reconciler_.Configure(options.reconciler);
  reconciler_.SetAudit(&audit_);
  reconciler_.SetMetrics(&metrics_);
}

Status ControlPlane::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.Load(clock_->Now());
}

Status ControlPlane::Audit(const std::string& actor, const std::string& action, uint64_t job,
                           const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  return audit_.Append(clock_->Now(), actor, action, job, detail);
}

StatusOr<ControlPlane::Submitted> ControlPlane::Submit(const std::string& text, const std::string& filename,
                                                       const std::string& idempotency_key, const std::string& actor) {
  Submitted out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SG_ASSIGN_OR_RETURN(out.job, jobs_.Submit(text, filename, idempotency_key, &out.created));
    if (out.created) {
      SG_RETURN_IF_ERROR(
          audit_.Append(clock_->Now(), actor, "submit", out.job.id,
                        fmt::format("{} (tenant {})", out.job.spec.spec.name, out.job.spec.spec.tenant)));
    }
  }
  Changed();  // the loop places it now, not at its next pass
  return out;
}

StatusOr<JobRecord> ControlPlane::Cancel(uint64_t id, const std::string& reason, const std::string& actor) {
  JobRecord r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SG_ASSIGN_OR_RETURN(r, jobs_.Cancel(id, reason));
    SG_RETURN_IF_ERROR(audit_.Append(clock_->Now(), actor, "cancel", id, ""));
  }
  Changed();  // its nodes are told to stop it on their next reply
  return r;
}

StatusOr<JobRecord> ControlPlane::Job(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.Get(id);
}

StatusOr<std::vector<JobRecord>> ControlPlane::Jobs() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.List();
}

StatusOr<std::vector<AuditEntry>> ControlPlane::QueryAudit(const AuditFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  return audit_.Query(filter);
}

StatusOr<int64_t> ControlPlane::Revision() {
  std::lock_guard<std::mutex> lock(mu_);
  return store_->Revision();
}

std::vector<std::string> ControlPlane::UnreadableJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.unreadable();
}

ControlPlane::NodesView ControlPlane::Nodes() {
  std::lock_guard<std::mutex> lock(mu_);
  NodesView v;
  v.now = clock_->Now();
  v.nodes.reserve(nodes_.nodes().size());
  for (const auto& [name, info] : nodes_.nodes()) {
    v.nodes.push_back(NodeView{info, nodes_.telemetry(name), nodes_.Alive(name, v.now)});
  }
  v.health = nodes_.health();
  return v;
}

std::optional<NodeInfo> ControlPlane::FindNode(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  const NodeInfo* n = nodes_.Find(name);
  if (n == nullptr) return std::nullopt;
  return *n;
}

std::string ControlPlane::RenderMetrics() {
  std::lock_guard<std::mutex> lock(mu_);
  return control::RenderMetrics(jobs_, nodes_, sites_, metrics_, clock_->Now());
}

Status ControlPlane::Register(const Registration& r) {
  std::lock_guard<std::mutex> lock(mu_);
  SG_RETURN_IF_ERROR(nodes_.Register(r.node, clock_->Now(), r.agent_id));
  ++metrics_.registrations;
  const NodeInfo& n = r.node;
  audit_
      .Append(clock_->Now(), "node " + n.name, "join", 0,
              fmt::format("site {} ({}), {} x {}, agent {}", n.site, n.jurisdiction, n.accelerators,
                          Name(n.accelerator), r.agent_id))
      .IgnoreError();  // best effort: a registration must not fail on it
  return Status();
}

void ControlPlane::Leave(const std::string& node, const std::string& agent_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_.Leave(node, agent_id);
    audit_.Append(clock_->Now(), "node " + node, "leave", 0, "its agent stopped cleanly").IgnoreError();
  }
  Changed();  // its gangs need stopping and requeueing
}

StatusOr<HeartbeatResult> ControlPlane::Heartbeat(const AgentHeartbeat& h, const std::function<bool()>& cancelled) {
  auto gave_up = [&] { return cancelled && cancelled(); };
  const bool reports_an_end =
      std::any_of(h.tasks.begin(), h.tasks.end(), [](const TaskReport& r) { return !r.running; });
  // From its arrival, not from when it gets the lock (a stalled loop).
  const Time deadline = clock_->Now() + std::clamp(h.wait, Duration::Zero(), kMaxHeartbeatWait);
  StatusOr<HeartbeatResult> r;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ++metrics_.heartbeats;
    for (;;) {  // OnHeartbeat is idempotent for the same reports, so it may run again
      r = reconciler_.OnHeartbeat(h.node, h.telemetry, h.tasks);
      if (!r.ok() || r->register_again || !r->run.empty() || !r->stop.empty() || !r->forget.empty() ||
          clock_->Now() >= deadline || gave_up() || stop_loop_) {
        break;
      }
      clock_->WaitUntil(changed_, lock, deadline);
      // The agent gave up on this poll (it may be leaving): a late
      // OnHeartbeat would count it alive again.
      if (gave_up()) break;
    }
  }
  // An ended task may free room or end a job: the loop should look now.
  if (reports_an_end) Changed();
  return r;
}

void ControlPlane::PassLocked() {
  const Time start = clock_->Now();
  if (const Duration credit = nodes_.NotePass(start); credit > Duration::Zero()) {
    ++metrics_.stalls;
    log_(fmt::format("stargate server: the control loop stalled for {} ms; nodes' heartbeat deadlines moved by it",
                     credit.millis()));
  }
  if (Status st = reconciler_.Tick(); !st.ok())
    log_(fmt::format("stargate server: control loop: {}", std::string(st.message())));
  metrics_.scheduler_pass.Observe((clock_->Now() - start).seconds());
  ++passes_;
  Changed();  // placements made: wake the agents' long polls
}

uint64_t ControlPlane::passes() {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

void ControlPlane::Pass() {
  std::lock_guard<std::mutex> lock(mu_);
  PassLocked();
}

void ControlPlane::RunLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_loop_) {
    PassLocked();
    clock_->WaitUntil(changed_, lock, clock_->Now() + NodeRegistry::kPassInterval);
  }
}

void ControlPlane::StopLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_loop_ = true;
  }
  Changed();
}

}  // namespace stargate::control
