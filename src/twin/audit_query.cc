#include "twin/audit_query.h"

#include <charconv>

#include <fmt/format.h>

#include "twin/run_result.h"
#include "workload/csv_reader.h"

namespace stargate::twin {
namespace {

constexpr std::string_view kHeader[] = {"time_h", "job",    "name", "tenant", "action",
                                        "count",  "last_h", "site", "detail"};
constexpr std::string_view kHeaderLine = "time_h,job,name,tenant,action,count,last_h,site,detail";

template <typename T>
bool ParseNumber(const std::string& s, T* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Status CheckAuditAction(std::string_view action) {
  if (action.empty()) return Status();
  for (auto a :
       {AuditAction::kStart, AuditAction::kDefer, AuditAction::kPreempt, AuditAction::kReject, AuditAction::kRepair}) {
    if (Name(a) == action) return Status();
  }
  return absl::InvalidArgumentError(
      fmt::format("unknown action '{}' (known: start, defer, preempt, reject, repair)", action));
}

StatusOr<std::vector<AuditRow>> QueryAudit(std::string_view csv, const std::string& filename, const AuditFilter& filter,
                                           int64_t* total) {
  CsvReader reader(csv, filename);
  CsvRecord rec;
  SG_ASSIGN_OR_RETURN(const bool has_header, reader.Next(&rec));
  bool header_ok = has_header && rec.fields.size() == std::size(kHeader);
  for (size_t i = 0; header_ok && i < rec.fields.size(); ++i) header_ok = rec.fields[i] == kHeader[i];
  if (!header_ok) {
    return absl::InvalidArgumentError(
        fmt::format("{}:1: not an audit trail (expected the header {})", filename, kHeaderLine));
  }
  std::vector<AuditRow> rows;
  int64_t count = 0;
  for (;;) {
    SG_ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) break;
    AuditRow row;
    if (rec.fields.size() != std::size(kHeader) || !ParseNumber(rec.fields[0], &row.time_h) ||
        !ParseNumber(rec.fields[1], &row.job) || !ParseNumber(rec.fields[5], &row.count) ||
        !ParseNumber(rec.fields[6], &row.last_h)) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: expected {}", filename, rec.line, kHeaderLine));
    }
    ++count;
    if (filter.job.has_value() && row.job != *filter.job) continue;
    if (!filter.tenant.empty() && rec.fields[3] != filter.tenant) continue;
    if (!filter.action.empty() && rec.fields[4] != filter.action) continue;
    if (!filter.site.empty() && rec.fields[7] != filter.site) continue;
    if (filter.to_h >= 0 && row.time_h > filter.to_h) continue;
    if (filter.from_h >= 0 && row.last_h < filter.from_h) continue;
    row.name = std::move(rec.fields[2]);
    row.tenant = std::move(rec.fields[3]);
    row.action = std::move(rec.fields[4]);
    row.site = std::move(rec.fields[7]);
    row.detail = std::move(rec.fields[8]);
    rows.push_back(std::move(row));
  }
  if (total != nullptr) *total = count;
  return rows;
}

}  // namespace stargate::twin
