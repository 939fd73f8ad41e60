#include "control/protocol/agent_proto.h"

#include <algorithm>

namespace stargate::control {
namespace {

void AddRefs(const std::vector<TaskRef>& refs, google::protobuf::RepeatedPtrField<pb::TaskRef>* out) {
  for (const TaskRef& ref : refs) {
    pb::TaskRef* p = out->Add();
    p->set_job_id(ref.job);
    p->set_attempt(ref.attempt);
  }
}

std::vector<TaskRef> Refs(const google::protobuf::RepeatedPtrField<pb::TaskRef>& in) {
  std::vector<TaskRef> out;
  out.reserve(static_cast<size_t>(in.size()));
  for (const pb::TaskRef& r : in) out.push_back({r.job_id(), r.attempt()});
  return out;
}

}  // namespace

Status CheckCheckpointRoot(std::string_view root) {
  if (root.empty()) return Status();
  auto bad = [&] {
    return absl::InvalidArgumentError(
        "checkpoint_root: expected an absolute path in normal form (no '.', '..' or '//' parts, no trailing '/'), "
        "at most 1024 printable bytes");
  };
  if (root.size() > 1024 || root.size() < 2 || root.front() != '/' || root.back() == '/') return bad();
  for (const char c : root) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return bad();
  }
  for (size_t from = 1; from < root.size();) {
    const size_t to = std::min(root.find('/', from), root.size());
    const std::string_view part = root.substr(from, to - from);
    if (part.empty() || part == "." || part == "..") return bad();
    from = to + 1;
  }
  return Status();
}

pb::RegisterRequest ToProto(const Registration& r) {
  pb::RegisterRequest req;
  const NodeInfo& n = r.node;
  req.set_node_name(n.name);
  req.set_site(n.site);
  req.set_region(n.region);
  req.set_jurisdiction(n.jurisdiction);
  req.set_address(n.address);
  req.set_accelerator(std::string(Name(n.accelerator)));
  req.set_accelerators(n.accelerators);
  req.set_cpus(n.cpus);
  req.set_memory_bytes(n.memory_bytes);
  req.set_log_port(n.log_port);
  req.set_log_address(n.log_address);
  req.set_log_token(n.log_token);
  req.set_checkpoint_root(n.checkpoint_root);
  req.set_moves_checkpoints(n.moves_checkpoints);
  req.set_agent_id(r.agent_id);
  req.set_join_token(r.join_token);
  req.set_node_credential(r.credential);
  return req;
}

StatusOr<Registration> FromProto(const pb::RegisterRequest& req) {
  Registration r;
  NodeInfo& n = r.node;
  n.name = req.node_name();
  n.site = req.site();
  n.region = req.region();
  n.jurisdiction = req.jurisdiction();
  n.address = req.address();
  n.accelerators = req.accelerators();
  n.cpus = req.cpus();
  n.memory_bytes = req.memory_bytes();
  n.log_port = req.log_port();
  n.log_address = req.log_address();
  n.log_token = req.log_token();
  n.checkpoint_root = req.checkpoint_root();
  n.moves_checkpoints = req.moves_checkpoints() && !n.checkpoint_root.empty();
  r.agent_id = req.agent_id();
  r.join_token = req.join_token();
  r.credential = req.node_credential();
  if (n.name.empty() || n.site.empty() || n.address.empty() || n.accelerators < 1 || n.accelerators > 64) {
    return absl::InvalidArgumentError("node_name, site and address are required and accelerators must be in [1, 64]");
  }
  SG_ASSIGN_OR_RETURN(n.accelerator, ParseAcceleratorType(req.accelerator()));
  SG_RETURN_IF_ERROR(CheckCheckpointRoot(n.checkpoint_root));
  return r;
}

pb::HeartbeatRequest ToProto(const AgentHeartbeat& h) {
  pb::HeartbeatRequest req;
  req.set_node_name(h.node);
  req.set_cpu_utilisation(h.telemetry.cpu_utilisation);
  req.set_memory_used_bytes(h.telemetry.memory_used_bytes);
  req.set_gpu_utilisation(h.telemetry.gpu_utilisation);
  req.set_gpu_power_w(h.telemetry.gpu_power_w);
  for (const TaskReport& t : h.tasks) {
    pb::TaskStatus* s = req.add_tasks();
    s->set_job_id(t.task.job);
    s->set_attempt(t.task.attempt);
    s->set_running(t.running);
    s->set_exit_code(t.exit_code);
    s->set_signal(t.signal);
    s->set_lost(t.lost);
    s->set_power_cap_state(static_cast<int32_t>(t.cap));
  }
  req.set_wait_ms(static_cast<int32_t>(std::clamp<int64_t>(h.wait.nanos() / 1'000'000, 0, INT32_MAX)));
  req.set_agent_id(h.telemetry.agent_id);
  req.set_leaving(h.leaving);
  req.set_node_credential(h.credential);
  AddRefs(h.holding, req.mutable_holding());
  for (const CheckpointHeld& c : h.held) {
    pb::CheckpointHeld* m = req.add_held();
    m->set_job_id(c.job);
    m->set_step(c.step);
    m->set_bytes(c.bytes);
  }
  for (const CheckpointCopyReport& c : h.copies) {
    pb::CheckpointCopy* m = req.add_copies();
    m->set_job_id(c.job);
    m->set_step(c.step);
    m->set_state(static_cast<int32_t>(c.state));
    m->set_bytes_done(c.bytes_done);
    m->set_bytes_total(c.bytes_total);
    m->set_error(c.error);
  }
  return req;
}

AgentHeartbeat FromProto(const pb::HeartbeatRequest& req) {
  AgentHeartbeat h;
  h.node = req.node_name();
  h.telemetry.cpu_utilisation = req.cpu_utilisation();
  h.telemetry.memory_used_bytes = req.memory_used_bytes();
  h.telemetry.gpu_utilisation = req.gpu_utilisation();
  h.telemetry.gpu_power_w = req.gpu_power_w();
  h.telemetry.agent_id = req.agent_id();
  h.tasks.reserve(static_cast<size_t>(req.tasks_size()));
  for (const pb::TaskStatus& s : req.tasks()) {
    const int cap = s.power_cap_state();
    h.tasks.push_back(TaskReport{TaskRef{s.job_id(), s.attempt()}, s.running(), s.exit_code(), s.signal(), s.lost(),
                                 cap >= 0 && cap <= 2 ? static_cast<TaskReport::Cap>(cap) : TaskReport::Cap::kNone});
  }
  h.wait = Duration::Millis(std::max(0, req.wait_ms()));
  h.leaving = req.leaving();
  h.credential = req.node_credential();
  h.holding = Refs(req.holding());
  for (const pb::CheckpointHeld& m : req.held()) {
    if (m.step() >= 0) h.held.push_back(CheckpointHeld{m.job_id(), m.step(), m.bytes()});
  }
  for (const pb::CheckpointCopy& m : req.copies()) {
    const int state = m.state();
    if (state < 0 || state > 3) continue;  // a newer agent's state this server does not know
    h.copies.push_back(CheckpointCopyReport{m.job_id(), m.step(), static_cast<CheckpointCopyReport::State>(state),
                                            m.bytes_done(), m.bytes_total(), m.error().substr(0, 512)});
  }
  return h;
}

pb::HeartbeatReply ToProto(const HeartbeatResult& r) {
  pb::HeartbeatReply reply;
  reply.set_register_again(r.register_again);
  for (const TaskLaunch& l : r.run) {
    pb::Task* task = reply.add_run();
    task->set_job_id(l.task.job);
    task->set_attempt(l.task.attempt);
    task->set_command(l.command);
    for (const auto& [k, v] : l.env) (*task->mutable_env())[k] = v;
    task->set_memory_bytes(l.memory_bytes);
    task->set_cpus(l.cpus);
    task->set_image(l.image);
    task->set_power_cap(l.power_cap);
    task->set_ramp_hold_ms(l.ramp_hold.millis());
    task->set_ramp_up_ms(l.ramp_up.millis());
    task->set_ramp_floor(l.ramp_floor);
  }
  AddRefs(r.stop, reply.mutable_stop());
  for (const auto& [ref, grace] : r.stop_grace) {
    pb::StopGrace* g = reply.add_stop_grace();
    g->mutable_task()->set_job_id(ref.job);
    g->mutable_task()->set_attempt(ref.attempt);
    g->set_grace_ms(grace.millis());
  }
  AddRefs(r.forget, reply.mutable_forget());
  reply.set_next_beat_ms(r.next_beat.millis());
  for (const auto& [ref, in] : r.fall) {
    pb::FallTurn* f = reply.add_fall();
    f->mutable_task()->set_job_id(ref.job);
    f->mutable_task()->set_attempt(ref.attempt);
    f->set_in_ms(in.millis());
  }
  for (const CheckpointWatch& w : r.watch) {
    pb::CheckpointWatch* m = reply.add_watch();
    m->set_job_id(w.job);
    m->set_dir(w.dir);
  }
  for (const CheckpointPull& p : r.pull) {
    pb::CheckpointPull* m = reply.add_pull();
    m->set_job_id(p.job);
    m->set_step(p.step);
    m->set_dir(p.dir);
    m->set_source_url(p.source_url);
    m->set_source_dir(p.source_dir);
    m->set_ticket(p.ticket);
    m->set_rate_bytes_per_s(p.rate_bytes_per_s);
    m->set_keep(p.keep);
    for (const std::string& j : p.jurisdictions) m->add_jurisdictions(j);
  }
  return reply;
}

namespace {
Duration RampPart(int64_t ms) { return ms > 0 && ms <= 86'400'000 ? Duration::Millis(ms) : Duration::Zero(); }
}  // namespace

HeartbeatResult FromProto(const pb::HeartbeatReply& reply) {
  HeartbeatResult r;
  r.register_again = reply.register_again();
  for (const pb::Task& t : reply.run()) {
    r.run.push_back(TaskLaunch{{t.job_id(), t.attempt()},
                               t.command(),
                               {t.env().begin(), t.env().end()},
                               t.memory_bytes(),
                               t.cpus(),
                               t.image(),
                               // A limit outside (0, 1] is no limit.
                               t.power_cap() > 0 && t.power_cap() <= 1 ? t.power_cap() : 0.0,
                               // A ramp of more than a day is a bad message: none.
                               RampPart(t.ramp_hold_ms()),
                               RampPart(t.ramp_up_ms()),
                               t.ramp_floor() > 0 && t.ramp_floor() <= 1 ? t.ramp_floor() : 0.0});
  }
  for (const pb::StopGrace& g : reply.stop_grace()) {
    if (g.grace_ms() > 0) r.stop_grace[{g.task().job_id(), g.task().attempt()}] = Duration::Millis(g.grace_ms());
  }
  r.stop = Refs(reply.stop());
  r.forget = Refs(reply.forget());
  // A turn more than an hour off is a bad message: at once.
  for (const pb::FallTurn& f : reply.fall()) {
    r.fall[{f.task().job_id(), f.task().attempt()}] =
        f.in_ms() > 0 && f.in_ms() <= 3'600'000 ? Duration::Millis(f.in_ms()) : Duration::Zero();
  }
  // A server's word, but no reason to stop beating for long.
  r.next_beat = Duration::Millis(std::clamp<int64_t>(reply.next_beat_ms(), 0, 60'000));
  for (const pb::CheckpointWatch& m : reply.watch()) r.watch.push_back(CheckpointWatch{m.job_id(), m.dir()});
  for (const pb::CheckpointPull& m : reply.pull()) {
    r.pull.push_back(CheckpointPull{m.job_id(),
                                    m.step(),
                                    m.dir(),
                                    m.source_url(),
                                    m.source_dir(),
                                    m.ticket(),
                                    std::max<int64_t>(0, m.rate_bytes_per_s()),
                                    std::max(1, m.keep()),
                                    {m.jurisdictions().begin(), m.jurisdictions().end()}});
  }
  return r;
}

}  // namespace stargate::control
