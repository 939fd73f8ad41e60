// File: audit_log.h
// The control plane's append-only audit log: every placement the
// scheduler makes (and its reason), every rejection (data residency
// included), and every change a caller asks for (submit, cancel), with who
// asked. Entries are store keys audit/<sequence> written only when absent,
// never rewritten or deleted; GET /v1/audit queries them. Not
// thread-safe: the control plane calls it under its lock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/store/store.h"
#include "core/units.h"

namespace stargate::control {

struct AuditEntry {
  int64_t seq = 0;
  Time at;            // stored and shown as unix_ms
  std::string actor;  // principal name, "scheduler", or "anonymous"
  // submit | cancel (callers); place | repair | reject | preempt | defer |
  // power-hold | wait-site | site-back (scheduler); sites-reload; start | lead (a server began
  // serving, or took the lead); join | leave (a node's agent registered,
  // or stopped cleanly).
  std::string action;
  uint64_t job = 0;
  std::string detail;
};

struct AuditFilter {
  uint64_t job = 0;           // 0 = any
  std::string actor, action;  // "" = any
  size_t limit = 1000;        // the newest entries that match
};

class AuditLog {
 public:
  explicit AuditLog(Store* store) : store_(store) {}

  Status Append(Time at, const std::string& actor, const std::string& action, uint64_t job, const std::string& detail);
  // Adds the entry's write to `txn` (under the next sequence number, which
  // is used up whether or not `txn` commits), so it commits with a change
  // it records or not at all.
  Status Stage(Txn& txn, Time at, const std::string& actor, const std::string& action, uint64_t job,
               const std::string& detail);
  // Oldest first.
  StatusOr<std::vector<AuditEntry>> Query(const AuditFilter& filter);

 private:
  Status EnsureLoaded();
  Store* store_;
  int64_t next_ = -1;  // next sequence number (-1 = not read yet)
};

}  // namespace stargate::control
