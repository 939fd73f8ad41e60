#include "control/server/audit_log.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace stargate::control {
namespace {

constexpr char kPrefix[] = "audit/";
std::string Key(int64_t seq) { return fmt::format("{}{:016}", kPrefix, seq); }

}  // namespace

Status AuditLog::EnsureLoaded() {
  if (next_ >= 0) return Status();
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> all, store_->List(kPrefix));
  next_ = 1;
  if (!all.empty()) {
    try {
      next_ = std::stoll(all.back().key.substr(sizeof(kPrefix) - 1)) + 1;
    } catch (const std::exception&) {
      return absl::DataLossError(fmt::format("audit log: bad key {}", all.back().key));
    }
  }
  return Status();
}

Status AuditLog::Stage(Txn& txn, Time at, const std::string& actor, const std::string& action, uint64_t job,
                       const std::string& detail) {
  SG_RETURN_IF_ERROR(EnsureLoaded());
  const std::string value =
      nlohmann::json{{"unix_ms", at.millis()}, {"actor", actor}, {"action", action}, {"job", job}, {"detail", detail}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  txn.IfAbsent(Key(next_)).Put(Key(next_), value);
  ++next_;
  return Status();
}

Status AuditLog::Append(Time at, const std::string& actor, const std::string& action, uint64_t job,
                        const std::string& detail) {
  for (int attempt = 0; attempt < 8; ++attempt) {  // another writer took the number: the next one
    Txn txn;
    SG_RETURN_IF_ERROR(Stage(txn, at, actor, action, job, detail));
    StatusOr<int64_t> rev = store_->Commit(txn);
    if (rev.ok()) return Status();
    if (rev.status().code() != absl::StatusCode::kFailedPrecondition) return rev.status();
  }
  return absl::AbortedError("audit log: could not append");
}

StatusOr<std::vector<AuditEntry>> AuditLog::Query(const AuditFilter& filter) {
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> all, store_->List(kPrefix));
  std::vector<AuditEntry> out;
  for (auto it = all.rbegin(); it != all.rend() && out.size() < filter.limit; ++it) {
    const nlohmann::json j = nlohmann::json::parse(it->value, nullptr, false);
    if (!j.is_object()) continue;
    AuditEntry e;
    try {  // an entry someone wrote by hand with the wrong types is skipped, not fatal
      e.seq = std::stoll(it->key.substr(sizeof(kPrefix) - 1));
      e.at = Time::FromMillis(j.value("unix_ms", int64_t{0}));
      e.actor = j.value("actor", "");
      e.action = j.value("action", "");
      e.job = j.value("job", uint64_t{0});
      e.detail = j.value("detail", "");
    } catch (const std::exception&) {
      continue;
    }
    if ((filter.job != 0 && e.job != filter.job) || (!filter.actor.empty() && e.actor != filter.actor) ||
        (!filter.action.empty() && e.action != filter.action)) {
      continue;
    }
    out.push_back(std::move(e));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace stargate::control
