#include "twin/report_warnings.h"

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "twin/report_format.h"

namespace stargate::twin::report {
namespace {

std::string Plural(int64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", Integer(n), n == 1 ? one : many);
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  size_t n = 0;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    sum += x;
    ++n;
  }
  return n > 0 ? sum / static_cast<double>(n) : std::nan("");
}

// "a, b, c and 4 more"
std::string NameSome(const std::vector<std::string>& names) {
  constexpr size_t kShown = 3;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) out += (i > 0 ? ", " : "") + names[i];
  if (names.size() > kShown) out += fmt::format(" and {} more", names.size() - kShown);
  return out;
}

}  // namespace

std::vector<std::string> RunWarnings(const RunResult& r) {
  const Summary& s = r.summary;
  std::vector<std::string> w;
  if (s.sla_misses > 0) {
    w.push_back(
        fmt::format("{} missed {} deadline", Plural(s.sla_misses, "job", "jobs"), s.sla_misses == 1 ? "its" : "their"));
  }
  if (s.jobs_rejected > 0) {
    w.push_back(fmt::format("{} rejected: no site could ever run {} (jobs.csv has the reasons)",
                            Plural(s.jobs_rejected, "job was", "jobs were"), s.jobs_rejected == 1 ? "it" : "them"));
  }
  std::vector<std::string> over, idle;
  for (const SiteSeries& site : r.sites) {
    if (site.power_cap_mw > 0 && site.peak_mw > site.power_cap_mw * (1 + 1e-9)) {
      over.push_back(
          fmt::format("{} ({} MW on {} MW)", site.name, Readable(site.peak_mw), Readable(site.power_cap_mw)));
    }
    const double util = Mean(site.utilisation);
    if (site.accelerators > 0 && std::isfinite(util) && util < kIdleSiteUtilisation) idle.push_back(site.name);
  }
  if (!over.empty()) {
    w.push_back(fmt::format("{} went over {} power cap: {}", Plural(static_cast<int64_t>(over.size()), "site", "sites"),
                            over.size() == 1 ? "its" : "their", NameSome(over)));
  }
  if (!idle.empty()) {
    w.push_back(fmt::format("{} stood idle (under {:.0f}% busy on average): {}",
                            Plural(static_cast<int64_t>(idle.size()), "site", "sites"), kIdleSiteUtilisation * 100,
                            NameSome(idle)));
  }
  if (s.power_capped_starts > 0) {
    w.push_back(fmt::format("{} under a carbon-aware power cap (slower, drawing less)",
                            Plural(s.power_capped_starts, "start ran", "starts ran")));
  }
  if (s.jobs_pending > 0) {
    w.push_back(fmt::format("{} still pending when the run ended: completion times count finished jobs only",
                            Plural(s.jobs_pending, "job was", "jobs were")));
  }
  return w;
}

}  // namespace stargate::twin::report
