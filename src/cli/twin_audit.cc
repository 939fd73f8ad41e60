// `stargate twin audit OUT_DIR [filters]`: the scheduling decisions of a
// finished run, from its decisions.csv.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "twin/audit_query.h"

namespace stargate::cli {
namespace {

struct AuditOptions {
  std::string dir;
  int64_t job = -1;
  twin::AuditFilter filter;
  int64_t limit = 50;
  bool csv = false;
};

int RunAudit(AuditOptions o) {
  if (o.job >= 0) o.filter.job = static_cast<uint32_t>(o.job);
  if (Status st = twin::CheckAuditAction(o.filter.action); !st.ok()) {
    std::cerr << "error: --action: " << st.message() << "\n";
    return 2;
  }
  std::filesystem::path path(o.dir);
  if (std::filesystem::is_directory(path)) path /= "decisions.csv";
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::cerr << "error: cannot read " << path.string()
              << " (give a run's output directory, e.g. out/NAME, or its decisions.csv)\n";
    return 2;
  }
  std::stringstream text;
  text << f.rdbuf();
  int64_t total = 0;
  StatusOr<std::vector<twin::AuditRow>> rows = twin::QueryAudit(text.str(), path.string(), o.filter, &total);
  if (!rows.ok()) {
    std::cerr << "error: " << rows.status().message() << "\n";
    return 2;
  }
  const size_t shown = o.limit > 0 ? std::min(rows->size(), static_cast<size_t>(o.limit)) : rows->size();
  if (!o.csv) {
    fmt::print("{:>10}  {:>8}  {:<12} {:<11} {:<14} {}\n", "time_h", "job", "tenant", "action", "site", "detail");
  }
  for (size_t i = 0; i < shown; ++i) {
    const twin::AuditRow& r = (*rows)[i];
    if (o.csv) {
      fmt::print("{:.4f},{},{},{},{},{:.4f},{},\"{}\"\n", r.time_h, r.job, r.tenant, r.action, r.count, r.last_h,
                 r.site, r.detail);
    } else {
      const std::string action = r.count > 1 ? fmt::format("{} x{}", r.action, r.count) : r.action;
      fmt::print("{:>10.4f}  {:>8}  {:<12} {:<11} {:<14} {}{}\n", r.time_h, r.job, r.tenant, action,
                 r.site.empty() ? "-" : r.site, r.detail,
                 r.count > 1 ? fmt::format(" (latest at {:.4f} h)", r.last_h) : "");
    }
  }
  if (!o.csv) {
    fmt::print("{} of {} matching decisions shown ({} in the trail)\n", shown, rows->size(), total);
  }
  return 0;
}

}  // namespace

void AddTwinAuditCommand(CLI::App* twin, int* exit_code) {
  auto o = std::make_shared<AuditOptions>();
  CLI::App* audit = twin->add_subcommand(
      "audit", "Show the scheduling decisions of a run (its decisions.csv): where each job went and why");
  audit->add_option("dir", o->dir, "A run's output directory (out/NAME) or its decisions.csv")->required();
  audit->add_option("--job", o->job, "Only this job id")->check(CLI::NonNegativeNumber);
  audit->add_option("--tenant", o->filter.tenant, "Only this tenant's jobs");
  audit->add_option("--site", o->filter.site, "Only decisions at this site");
  audit->add_option("--action", o->filter.action, "Only start, defer, preempt, reject or repair");
  audit->add_option("--from", o->filter.from_h, "From this many hours into the run")->check(CLI::NonNegativeNumber);
  audit->add_option("--to", o->filter.to_h, "Up to this many hours into the run")->check(CLI::NonNegativeNumber);
  audit->add_option("-n,--limit", o->limit, "Show at most this many (0 = all)")->check(CLI::NonNegativeNumber);
  audit->add_flag("--csv", o->csv, "Print CSV rows instead of a table");
  audit->callback([o, exit_code] { *exit_code = RunAudit(*o); });
}

}  // namespace stargate::cli
