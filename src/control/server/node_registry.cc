#include "control/server/node_registry.h"

#include <algorithm>
#include <limits>

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
                        {"log_address", n.log_address}};
}

Status NodeRegistry::Load(Time now) {
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> kvs, store_->List(kPrefix));
  // A server that knew no node has no agent to wait for.
  if (!kvs.empty()) grace_until_ = now + std::max(kRestartGrace, timeout_);
  for (const KeyValue& kv : kvs) {
    SG_ASSIGN_OR_RETURN(NodeInfo n, Decode(kv));
    telemetry_[n.name].last_heartbeat = now;
    // Not counted as a failure unless heard from again first: it may have
    // gone down (and been counted) before the restart, or left meanwhile.
    down_noted_.insert(n.name);
    nodes_[n.name] = std::move(n);
  }
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
  for (auto& [name, t] : telemetry_) {
    // Down (or left) before the stall: it stays down.
    if (down_noted_.count(name)) continue;
    t.last_heartbeat = std::min(now, t.last_heartbeat + credit);
  }
  return credit;
}

bool NodeRegistry::Leave(const std::string& name, const std::string& agent_id) {
  auto it = telemetry_.find(name);
  if (it == telemetry_.end()) return false;
  if (!agent_id.empty() && !it->second.agent_id.empty() && it->second.agent_id != agent_id) return false;
  it->second.last_heartbeat = kLongAgo;
  down_noted_.insert(name);
  left_[name] = it->second.agent_id;  // its late heartbeats must not revive it
  return true;
}

int NodeRegistry::NoteFailures(Time now) {
  int count = 0;
  for (const auto& [name, t] : telemetry_) {
    if (Alive(t, now) || down_noted_.count(name)) continue;
    down_noted_.insert(name);
    const std::string& site = nodes_.at(name).site;
    ++health_[site].failures;
    health_dirty_.insert(site);
    failure_unsaved_ = true;
    ++count;
  }
  return count;
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
  }
  nodes_[info.name] = info;
  NodeTelemetry& t = telemetry_[info.name];
  t.last_heartbeat = now;
  t.agent_id = agent_id;
  t.reported = false;
  down_noted_.erase(info.name);
  left_.erase(info.name);
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
  it->second = t;
  it->second.agent_id = keep;
  it->second.reported = true;
  return true;
}

void NodeRegistry::NoteSilentSites(Time now) {
  // One pass over the nodes, per site: whether any node (not left) is
  // alive, whether any is silent, and the last heartbeat of them. A
  // network of thousands of small sites must not cost sites x nodes.
  struct Seen {
    bool any_alive = false;
    bool any_silent = false;
    std::optional<Time> last;
  };
  std::map<std::string, Seen> sites;
  for (const auto& [name, n] : nodes_) {
    Seen& seen = sites[n.site];
    if (!left_.empty() && left_.count(name)) continue;
    const NodeTelemetry* t = FindTelemetry(name);
    if (t != nullptr && Alive(*t, now)) {
      seen.any_alive = true;
      continue;
    }
    seen.any_silent = true;
    if (t == nullptr) continue;
    const Time beat = t->last_heartbeat;
    seen.last = seen.last.has_value() ? std::max(*seen.last, beat) : beat;
  }
  for (const auto& [site, seen] : sites) {
    if (!seen.any_alive && seen.last.has_value()) {  // every node silent
      // A node heard after the episode began (the site came back in part,
      // or an old episode was held open by a node that never returned):
      // this silence is a new one.
      auto [it, added] = silent_sites_.try_emplace(site, *seen.last);
      if (!added && *seen.last > it->second) it->second = *seen.last;
      continue;
    }
    if (!seen.any_silent) silent_sites_.erase(site);  // whole again
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
  const Time quiet_at = telemetry_.at(name).last_heartbeat;
  for (const auto& [other, info] : nodes_) {
    if (info.site == n->second.site && telemetry_.at(other).last_heartbeat > quiet_at + kSettle) return false;
  }
  return true;
}

bool NodeRegistry::Ready(const std::string& name, Time now) const {
  return Alive(name, now) && telemetry_.at(name).reported;
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
