#include "control/server/node_registry.h"

#include <algorithm>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace stargate::control {
namespace {

constexpr char kPrefix[] = "nodes/";
constexpr char kHealthPrefix[] = "sitehealth/";
constexpr Duration kHealthSave = Duration::Seconds(60);
// A node that left: heard from so long ago it is down at any time.
constexpr Time kLongAgo = Time::FromNanos(std::numeric_limits<int64_t>::min() / 4);

// As stored: what the API shows, and the log token.
std::string Encode(const NodeInfo& n) {
  nlohmann::json j = NodeJson(n);
  j["log_token"] = n.log_token;
  return j.dump();
}

StatusOr<NodeInfo> Decode(const KeyValue& kv) {
  const nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError(fmt::format("store key {}: not a node", kv.key));
  NodeInfo n;
  try {
    n.name = j.at("name").get<std::string>();
    n.site = j.at("site").get<std::string>();
    n.region = j.at("region").get<std::string>();
    n.jurisdiction = j.at("jurisdiction").get<std::string>();
    n.address = j.at("address").get<std::string>();
    SG_ASSIGN_OR_RETURN(n.accelerator, ParseAcceleratorType(j.at("accelerator").get<std::string>()));
    n.accelerators = j.at("accelerators").get<int>();
    n.cpus = j.at("cpus").get<int>();
    n.memory_bytes = j.at("memory_bytes").get<int64_t>();
    n.log_port = j.value("log_port", 0);
    n.log_address = j.value("log_address", "");
    n.log_token = j.value("log_token", "");
    n.checkpoint_root = j.value("checkpoint_root", "");
    n.moves_checkpoints = j.value("moves_checkpoints", false);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(fmt::format("store key {}: {}", kv.key, e.what()));
  }
  return n;
}

}  // namespace

nlohmann::json NodeJson(const NodeInfo& n) {
  return nlohmann::json{{"name", n.name},
                        {"site", n.site},
                        {"region", n.region},
                        {"jurisdiction", n.jurisdiction},
                        {"address", n.address},
                        {"accelerator", Name(n.accelerator)},
                        {"accelerators", n.accelerators},
                        {"cpus", n.cpus},
                        {"memory_bytes", n.memory_bytes},
                        {"log_port", n.log_port},
                        {"log_address", n.log_address},
                        {"checkpoint_root", n.checkpoint_root},
                        {"moves_checkpoints", n.moves_checkpoints}};
}

Status NodeRegistry::Load(Time now) {
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> kvs, store_->List(kPrefix));
  // A server that knew no node has no agent to wait for.
  if (!kvs.empty()) grace_until_ = now + std::max(kRestartGrace, timeout_);
  for (const KeyValue& kv : kvs) {
    SG_ASSIGN_OR_RETURN(NodeInfo n, Decode(kv));
    site_nodes_[n.site].names.insert(n.name);
    SetLastHeartbeat(n.name, n.site, telemetry_[n.name], now);
    // Not counted as a failure unless heard from again first: it may have
    // gone down (and been counted) before the restart, or left meanwhile.
    down_noted_.insert(n.name);
    unreported_.insert(n.name);
    changed_.insert(n.name);
    sites_to_check_.insert(n.site);
    Keep(std::move(n));
  }
  ++version_;
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> health, store_->List(kHealthPrefix));
  for (const KeyValue& kv : health) {
    const nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, false);
    if (!j.is_object()) return absl::DataLossError(fmt::format("store key {}: not site health", kv.key));
    SiteHealth& h = health_[kv.key.substr(sizeof(kHealthPrefix) - 1)];
    try {
      h.node_hours = j.value("node_hours", 0.0);
      h.failures = j.value("failures", int64_t{0});
    } catch (const nlohmann::json::exception& e) {
      return absl::DataLossError(fmt::format("store key {}: {}", kv.key, e.what()));
    }
  }
  health_saved_ = now;
  return Status();
}

Duration NodeRegistry::NotePass(Time now) {
  const bool first = !last_pass_.has_value();
  const Duration gap = first ? Duration::Zero() : now - *last_pass_;
  last_pass_ = first ? now : std::max(*last_pass_, now);
  if (first || gap <= kStall) return Duration::Zero();
  const Duration credit = gap - kPassInterval;
  deadlines_ = {};
  queued_at_.clear();
  for (auto& [name, t] : telemetry_) {
    // Down (or left) before the stall: it stays down. (So no silent node's
    // last heartbeat moves.)
    if (!down_noted_.count(name)) {
      SetLastHeartbeat(name, nodes_.at(name).site, t, std::min(now, t.last_heartbeat + credit));
    } else if (!silent_.count(name)) {  // down, not yet found silent (a silent node needs no deadline)
      Expect(name, t.last_heartbeat);
    }
  }
  // (No node's draw changes: one that was up stays up.)
  for (const auto& [site, members] : site_nodes_) sites_to_check_.insert(site);
  return credit;
}

bool NodeRegistry::Leave(const std::string& name, const std::string& agent_id) {
  auto it = telemetry_.find(name);
  if (it == telemetry_.end()) return false;
  if (!agent_id.empty() && !it->second.agent_id.empty() && it->second.agent_id != agent_id) return false;
  SiteMembers& site = site_nodes_.at(nodes_.at(name).site);
  if (!left_.count(name)) {
    ++site.left;
    site.silent.erase({it->second.last_heartbeat, name});  // if it was silent
  }
  left_[name] = it->second.agent_id;  // its late heartbeats must not revive it
  SetLastHeartbeat(name, nodes_.at(name).site, it->second, kLongAgo, /*now=*/true);  // silent from the next pass
  down_noted_.insert(name);
  changed_.insert(name);
  sites_to_check_.insert(nodes_.at(name).site);
  return true;
}

void NodeRegistry::Expect(const std::string& name, Time at, bool replace) {
  auto [it, added] = queued_at_.try_emplace(name, at);
  // One deadline per node: a later heartbeat is found when its queued one
  // comes due (Expire queues it again), so a heartbeat, or a long poll
  // woken by every pass, costs no push.
  if (!added && !replace) return;
  it->second = at;
  deadlines_.emplace(at, name);
}

void NodeRegistry::SetLastHeartbeat(const std::string& name, const std::string& site, NodeTelemetry& t, Time at,
                                    bool now) {
  SiteMembers& members = site_nodes_[site];
  t.last_heartbeat = at;
  members.last_heard = std::max(members.last_heard, at);
  Expect(name, at, /*replace=*/now);
}

void NodeRegistry::Detach(const std::string& name) {
  auto n = nodes_.find(name);
  if (n == nodes_.end()) return;  // a new node
  const std::string site = n->second.site;
  SiteMembers& members = site_nodes_.at(site);
  const Time last = telemetry_.at(name).last_heartbeat;
  if (left_.count(name)) {
    --members.left;
  } else if (silent_.count(name)) {
    members.silent.erase({last, name});
  }
  members.names.erase(name);
  if (members.names.empty()) site_nodes_.erase(site);
  sites_to_check_.insert(site);
  silent_.erase(name);
  left_.erase(name);
}

void NodeRegistry::Expire(Time now) {
  if (now <= grace_until_) return;  // every node counts as alive meanwhile
  while (!deadlines_.empty() && now - deadlines_.top().first > timeout_) {
    const Deadline d = deadlines_.top();
    deadlines_.pop();
    auto queued = queued_at_.find(d.second);
    if (queued == queued_at_.end() || queued->second != d.first) continue;  // replaced by a later one
    queued_at_.erase(queued);
    auto t = telemetry_.find(d.second);
    if (t == telemetry_.end()) continue;
    if (Alive(t->second, now)) {  // heard from since: due at its last heartbeat's deadline
      Expect(d.second, t->second.last_heartbeat);
      continue;
    }
    const std::string& site = nodes_.at(d.second).site;
    if (silent_.insert(d.second).second && !left_.count(d.second)) {
      site_nodes_.at(site).silent.emplace(t->second.last_heartbeat, d.second);
    }
    changed_.insert(d.second);
    sites_to_check_.insert(site);
    if (!down_noted_.insert(d.second).second) continue;  // left, or counted already
    ++health_[site].failures;
    health_dirty_.insert(site);
    failure_unsaved_ = true;
    ++expired_failures_;
  }
}

int NodeRegistry::NoteFailures(Time now) {
  Expire(now);
  return std::exchange(expired_failures_, 0);
}

void NodeRegistry::HealthUnsaved() {
  for (const auto& [site, h] : health_) health_dirty_.insert(site);
  failure_unsaved_ = !health_dirty_.empty();
}

Status NodeRegistry::SaveHealth(Time now) {
  if (health_dirty_.empty() || (!failure_unsaved_ && now - health_saved_ < kHealthSave)) return Status();
  Txn txn;
  for (const std::string& site : health_dirty_) {
    const SiteHealth& h = health_[site];
    txn.Put(kHealthPrefix + site, nlohmann::json{{"node_hours", h.node_hours}, {"failures", h.failures}}.dump());
  }
  SG_RETURN_IF_ERROR(store_->Commit(txn).status());
  health_dirty_.clear();
  failure_unsaved_ = false;
  health_saved_ = now;
  return Status();
}

bool NodeRegistry::HeldByOther(const std::string& name, const std::string& agent_id, Time now) const {
  auto held = telemetry_.find(name);
  return held != telemetry_.end() && !agent_id.empty() && !held->second.agent_id.empty() &&
         held->second.agent_id != agent_id && Alive(name, now);
}

Status NodeRegistry::CheckHolder(const std::string& name, const std::string& agent_id, Time now) const {
  if (!HeldByOther(name, agent_id, now)) return Status();
  return absl::FailedPreconditionError(
      fmt::format("node {} is held by another agent; it can take over once that one has missed its heartbeats", name));
}

Status NodeRegistry::Register(const NodeInfo& info, Time now, const std::string& agent_id) {
  SG_RETURN_IF_ERROR(CheckHolder(info.name, agent_id, now));
  auto it = nodes_.find(info.name);
  if (it == nodes_.end() || Encode(it->second) != Encode(info)) {
    SG_RETURN_IF_ERROR(store_->Put(kPrefix + info.name, Encode(info)).status());
    ++version_;
  }
  Detach(info.name);  // out of its site's accounting (maybe a site it leaves), back in below
  Keep(info);
  site_nodes_[info.site].names.insert(info.name);
  sites_to_check_.insert(info.site);
  NodeTelemetry& t = telemetry_[info.name];
  SetLastHeartbeat(info.name, info.site, t, now);
  t.agent_id = agent_id;
  t.reported = false;
  unreported_.insert(info.name);
  changed_.insert(info.name);
  down_noted_.erase(info.name);
  return Status();
}

bool NodeRegistry::Heartbeat(const std::string& name, const NodeTelemetry& t) {
  auto it = telemetry_.find(name);
  if (it == telemetry_.end()) return false;
  const std::string& holder = it->second.agent_id;
  if (!t.agent_id.empty() && !holder.empty() && holder != t.agent_id) return false;
  if (auto gone = left_.find(name); gone != left_.end() && gone->second == t.agent_id) return false;
  // After a server restart nobody holds a node: the first agent heard keeps it.
  const std::string keep = holder.empty() ? t.agent_id : holder;
  // Up time: the gap since the last heartbeat, if the node was up meanwhile.
  const Duration gap = t.last_heartbeat - it->second.last_heartbeat;
  if (gap > Duration::Zero() && gap <= timeout_ && !down_noted_.count(name)) {
    const std::string& site = nodes_.at(name).site;
    health_[site].node_hours += gap.hours();
    health_dirty_.insert(site);
  }
  down_noted_.erase(name);
  const std::string& site = nodes_.at(name).site;
  const Time last = it->second.last_heartbeat;
  // Its share of the site's draw moves with its reading, or as it comes
  // back; a long poll woken again with the same reading changes nothing.
  bool changed = it->second.gpu_power_w != t.gpu_power_w;
  if (silent_.erase(name) > 0) {  // back
    site_nodes_.at(site).silent.erase({last, name});
    sites_to_check_.insert(site);
    changed = true;
  }
  it->second = t;
  it->second.last_heartbeat = last;
  SetLastHeartbeat(name, site, it->second, t.last_heartbeat);
  it->second.agent_id = keep;
  it->second.reported = true;
  unreported_.erase(name);
  if (changed) changed_.insert(name);
  return true;
}

void NodeRegistry::NoteSilentSites(Time now) {
  // Per site whose nodes' liveness changed since the last call, from its
  // counts (after Expire(now), a node that did not leave is alive unless
  // it is silent). Another site's answer is the same as last time.
  Expire(now);
  for (const std::string& site : std::exchange(sites_to_check_, {})) {
    auto members = site_nodes_.find(site);
    if (members == site_nodes_.end() || members->second.silent.empty()) {
      silent_sites_.erase(site);  // whole again (or no node left there)
      continue;
    }
    const SiteMembers& m = members->second;
    if (m.names.size() - static_cast<size_t>(m.left) > m.silent.size()) continue;  // some node alive
    // Every node silent since its last heartbeat. A node heard after the
    // episode began (the site came back in part, or an old episode was
    // held open by a node that never returned): this silence is a new one.
    const Time last = m.silent.rbegin()->first;
    auto [it, added] = silent_sites_.try_emplace(site, last);
    if (!added && last > it->second) it->second = last;
  }
}

std::optional<Time> NodeRegistry::CutOffSince(const std::string& name, Time now) const {
  auto n = nodes_.find(name);
  if (n == nodes_.end() || Alive(name, now)) return std::nullopt;
  auto s = silent_sites_.find(n->second.site);
  if (s == silent_sites_.end() || telemetry_.at(name).last_heartbeat > s->second) return std::nullopt;
  return s->second;
}

bool NodeRegistry::MaybeCutOff(const std::string& name, Time now) const {
  auto n = nodes_.find(name);
  if (n == nodes_.end() || Alive(name, now)) return false;
  // Some node of its site heard (or registered) well after it went quiet?
  return site_nodes_.at(n->second.site).last_heard <= telemetry_.at(name).last_heartbeat + kSettle;
}

bool NodeRegistry::Ready(const std::string& name, Time now) const {
  return Alive(name, now) && telemetry_.at(name).reported;
}

void NodeRegistry::Keep(NodeInfo n) {
  if (n.moves_checkpoints && n.log_port > 0) {
    movers_.insert(n.name);
  } else {
    movers_.erase(n.name);
  }
  const std::string name = n.name;
  nodes_[name] = std::move(n);
}

bool NodeRegistry::Alive(const std::string& name, Time now) const {
  auto it = telemetry_.find(name);
  return it != telemetry_.end() && Alive(it->second, now);
}

const NodeInfo* NodeRegistry::Find(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

}  // namespace stargate::control
