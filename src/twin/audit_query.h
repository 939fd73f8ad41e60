// File: audit_query.h
// Reads back the audit trail a run wrote (decisions.csv, report_csv.h) and
// selects decisions by job, tenant, site, action and time: what
// `stargate twin audit` answers ("why did job 42 run in Oslo?", "what
// did the scheduler preempt on day 3?").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stargate::twin {

struct AuditFilter {
  std::optional<uint32_t> job;
  std::string tenant;  // "" = any
  std::string site;
  std::string action;  // start, defer, preempt, reject, repair; "" = any
  double from_h = -1;  // time window in hours; negative = open
  double to_h = -1;
};

struct AuditRow {
  double time_h = 0;
  uint32_t job = 0;
  uint32_t count = 1;  // repeated deferrals folded into this row
  double last_h = 0;
  std::string name, tenant, action, site, detail;
};

// The rows of `csv` (decisions.csv text; `filename` labels errors) that
// pass `filter`, in file order; `total` (if given) gets the row count.
// InvalidArgument for a file that is not an audit trail, naming the line.
StatusOr<std::vector<AuditRow>> QueryAudit(std::string_view csv, const std::string& filename, const AuditFilter& filter,
                                           int64_t* total = nullptr);

// InvalidArgument unless `action` is empty or one of the action names.
Status CheckAuditAction(std::string_view action);

}  // namespace stargate::twin
