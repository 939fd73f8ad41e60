#include "twin/report_charts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "twin/report_format.h"

namespace stargate::twin::report {
namespace {

using chart::Chart;
using chart::Point;
using chart::Series;

constexpr int kCarbonBins = 12;
constexpr std::array<JobKind, 4> kKinds = {JobKind::kTraining, JobKind::kFineTune, JobKind::kBatch,
                                           JobKind::kInference};

chart::Axis DaysAxis(double horizon_h) {
  chart::Axis x;
  x.label = "days since start";
  x.min = 0;
  if (horizon_h > 0) x.max = horizon_h / 24.0;
  return x;
}

chart::Axis PercentAxis(std::string label) {
  chart::Axis y;
  y.label = std::move(label);
  y.format = chart::Format::kPercent;
  y.min = 0;
  y.max = 1;
  return y;
}

// Bucket-averaged hourly values, each placed at the middle of its bucket.
std::vector<Point> HourlyPoints(const std::vector<double>& hourly, size_t max_points) {
  const Buckets b = BucketMeans(hourly, max_points);
  std::vector<Point> points;
  points.reserve(b.means.size());
  for (size_t i = 0; i < b.means.size(); ++i) {
    const double mid_h = static_cast<double>(b.bounds[i] + b.bounds[i + 1]) / 2.0;
    points.push_back({mid_h / 24.0, b.means[i]});
  }
  return points;
}

// The last value of each bucket: for a running total, whose mean would lag.
std::vector<Point> HourlyEnds(const std::vector<double>& hourly, size_t max_points) {
  const Buckets b = BucketMeans(hourly, max_points);
  std::vector<Point> points;
  points.reserve(b.means.size());
  for (size_t i = 0; i < b.means.size(); ++i) {
    points.push_back({static_cast<double>(b.bounds[i + 1]) / 24.0, hourly[b.bounds[i + 1] - 1]});
  }
  return points;
}

Series Line(std::string label, std::string color, std::vector<Point> points) {
  Series s;
  s.label = std::move(label);
  s.color = std::move(color);
  s.points = std::move(points);
  return s;
}

// Empirical CDF of sorted values, sampled evenly by rank.
std::vector<Point> CdfPoints(const std::vector<double>& sorted) {
  const uint64_t n = sorted.size();
  std::vector<Point> points;
  if (n == 0) return points;
  const uint64_t m = std::min<uint64_t>(n, kMaxCdfPoints);
  points.reserve(m);
  for (uint64_t k = 0; k < m; ++k) {
    // Integer rank arithmetic: the first and last ranks are always kept.
    const uint64_t i = m == 1 ? n - 1 : (k * (n - 1) + (m - 1) / 2) / (m - 1);
    points.push_back({sorted[i], static_cast<double>(i + 1) / static_cast<double>(n)});
  }
  return points;
}

Series CdfLine(std::string label, std::string color, std::vector<double> jct_h) {
  std::sort(jct_h.begin(), jct_h.end());
  Series s = Line(fmt::format("{} (n={})", label, Integer(static_cast<int64_t>(jct_h.size()))), std::move(color),
                  CdfPoints(jct_h));
  s.step = true;
  return s;
}

Chart JctAxes(std::string id) {
  Chart c;
  c.id = std::move(id);
  c.title = "Job completion time";
  c.x.label = "submit to end (hours, log scale)";
  c.x.scale = chart::Scale::kLog10;
  c.y = PercentAxis("share of finished jobs");
  c.empty_message = "No finished jobs: no completion-time distribution to show";
  return c;
}

// Mean utilisation per carbon-intensity bin, in bin order (so x ascends).
std::vector<Point> CarbonBins(const SiteSeries& site) {
  const size_t n = std::min(site.carbon.size(), site.utilisation.size());
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t h = 0; h < n; ++h) {
    if (!std::isfinite(site.carbon[h])) continue;
    lo = std::min(lo, site.carbon[h]);
    hi = std::max(hi, site.carbon[h]);
  }
  struct Bin {
    double carbon = 0, util = 0;
    int64_t hours = 0;
  };
  std::array<Bin, kCarbonBins> bins{};
  for (size_t h = 0; h < n; ++h) {
    const double c = site.carbon[h], u = site.utilisation[h];
    if (!std::isfinite(c) || !std::isfinite(u)) continue;
    const int i = hi > lo ? std::min(kCarbonBins - 1, static_cast<int>((c - lo) / (hi - lo) * kCarbonBins)) : 0;
    bins[static_cast<size_t>(i)].carbon += c;
    bins[static_cast<size_t>(i)].util += u;
    ++bins[static_cast<size_t>(i)].hours;
  }
  std::vector<Point> points;
  for (const Bin& b : bins) {
    if (b.hours == 0) continue;
    const double k = static_cast<double>(b.hours);
    points.push_back({b.carbon / k, b.util / k});
  }
  return points;
}

// One line per run, labelled by its policy, coloured by its place.
template <typename Values>
Chart RunLines(std::span<const RunDigest> runs, Chart c, Values values, bool running_total = false) {
  double horizon = 0;
  for (const RunDigest& r : runs) horizon = std::max(horizon, r.horizon_h);
  c.x = DaysAxis(horizon);
  const size_t points = PointsPerLine(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::vector<double>& v = values(runs[i]);
    c.series.push_back(Line(runs[i].summary.policy, chart::PaletteColor(i),
                            running_total ? HourlyEnds(v, points) : HourlyPoints(v, points)));
  }
  return c;
}

}  // namespace

double HorizonHours(const RunResult& r) {
  double hours = std::max(0.0, r.summary.simulated_days * 24.0);
  for (const SiteSeries& s : r.sites) {
    hours = std::max({hours, static_cast<double>(s.utilisation.size()), static_cast<double>(s.facility_mw.size())});
  }
  return hours;
}

size_t PointsPerLine(size_t lines) { return std::clamp<size_t>(2400 / std::max<size_t>(lines, 1), 150, 600); }

RunDigest DigestOf(const RunResult& r) {
  RunDigest d;
  d.summary = r.summary;
  d.horizon_h = HorizonHours(r);
  size_t hours = 0;
  for (const SiteSeries& s : r.sites) hours = std::max({hours, s.facility_mw.size(), s.utilisation.size()});
  d.facility_mw.assign(hours, 0.0);
  d.utilisation.assign(hours, 0.0);
  d.tco2_total.assign(hours, 0.0);
  std::vector<double> devices(hours, 0.0);
  bool every_site_capped = !r.sites.empty();
  for (const SiteSeries& s : r.sites) {
    if (s.power_cap_mw > 0) {
      d.power_cap_mw += s.power_cap_mw;
    } else {
      every_site_capped = false;
    }
    const auto a = static_cast<double>(s.accelerators);
    for (size_t h = 0; h < hours; ++h) {
      const double mw = h < s.facility_mw.size() && std::isfinite(s.facility_mw[h]) ? s.facility_mw[h] : 0;
      d.facility_mw[h] += mw;
      // MW over one hour is MWh; MWh x g/kWh / 1000 is tonnes.
      if (h < s.carbon.size() && std::isfinite(s.carbon[h])) d.tco2_total[h] += mw * s.carbon[h] / 1000.0;
      if (h < s.utilisation.size() && std::isfinite(s.utilisation[h])) {
        d.utilisation[h] += s.utilisation[h] * a;
        devices[h] += a;
      }
    }
  }
  if (!every_site_capped) d.power_cap_mw = 0;
  for (size_t h = 0; h < hours; ++h) {
    d.utilisation[h] = devices[h] > 0 ? d.utilisation[h] / devices[h] : std::numeric_limits<double>::quiet_NaN();
    if (h > 0) d.tco2_total[h] += d.tco2_total[h - 1];
  }
  std::vector<double> jct;
  for (const JobRecord& j : r.jobs) {
    if (j.outcome == JobOutcome::kFinished && j.end != Time::Never()) jct.push_back((j.end - j.submit).hours());
  }
  std::sort(jct.begin(), jct.end());
  d.jct_cdf = CdfPoints(jct);
  return d;
}

Chart NetworkPowerChart(std::span<const RunDigest> runs) {
  Chart c;
  c.id = "net-power";
  c.title = "Facility power, all sites";
  c.y.label = "MW";
  c.y.min = 0;
  c.empty_message = "No site series in this run";
  c = RunLines(runs, std::move(c), [](const RunDigest& r) -> const std::vector<double>& { return r.facility_mw; });
  if (!runs.empty() && runs[0].power_cap_mw > 0 && !runs[0].facility_mw.empty()) {
    Series cap = Line(fmt::format("sum of site caps, {} MW", Readable(runs[0].power_cap_mw)), "#6b7280",
                      {{0, runs[0].power_cap_mw}, {runs[0].horizon_h / 24.0, runs[0].power_cap_mw}});
    cap.dashed = true;
    c.series.push_back(std::move(cap));
  }
  return c;
}

Chart NetworkUtilisationChart(std::span<const RunDigest> runs) {
  Chart c;
  c.id = "net-utilisation";
  c.title = "Utilisation, all sites";
  c.y = PercentAxis("busy devices");
  c.empty_message = "No site series in this run";
  return RunLines(runs, std::move(c), [](const RunDigest& r) -> const std::vector<double>& { return r.utilisation; });
}

Chart EmissionsChart(std::span<const RunDigest> runs) {
  Chart c;
  c.id = "net-emissions";
  c.title = "Emissions since the start";
  c.y.label = "tCO\u2082";
  c.y.min = 0;
  c.empty_message = "No carbon-intensity series in this run";
  return RunLines(
      runs, std::move(c), [](const RunDigest& r) -> const std::vector<double>& { return r.tco2_total; },
      /*running_total=*/true);
}

Chart PolicyJctChart(std::span<const RunDigest> runs) {
  Chart c = JctAxes("policy-jct");
  for (size_t i = 0; i < runs.size(); ++i) {
    Series s = Line(fmt::format("{} (n={})", runs[i].summary.policy, Integer(runs[i].summary.jobs_finished)),
                    chart::PaletteColor(i), runs[i].jct_cdf);
    s.step = true;
    c.series.push_back(std::move(s));
  }
  return c;
}

std::vector<size_t> PanelSites(const RunResult& r) {
  std::vector<size_t> order(r.sites.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (order.size() <= kMaxSitePanels) return order;
  std::stable_sort(order.begin(), order.end(),
                   [&r](size_t a, size_t b) { return r.sites[a].energy_mwh > r.sites[b].energy_mwh; });
  order.resize(kMaxSitePanels);
  std::sort(order.begin(), order.end());
  return order;
}

// A site's small multiple of `what`, titled with its name.
Chart SitePanel(const RunResult& r, size_t site, std::string_view what) {
  Chart c;
  c.id = fmt::format("site-{}-{}", site, what);
  c.title = r.sites[site].name;
  return c;
}

Chart SiteUtilisationChart(const RunResult& r, size_t site) {
  const SiteSeries& s = r.sites[site];
  Chart c = SitePanel(r, site, "utilisation");
  c.x = DaysAxis(HorizonHours(r));
  c.y = PercentAxis("busy");
  c.series.push_back(Line("utilisation", chart::PaletteColor(0), HourlyPoints(s.utilisation, kSmallPoints)));
  return c;
}

Chart SitePowerChart(const RunResult& r, size_t site) {
  const SiteSeries& s = r.sites[site];
  Chart c = SitePanel(r, site, "power");
  const double horizon = HorizonHours(r);
  c.x = DaysAxis(horizon);
  c.y.label = "MW";
  c.y.min = 0;
  c.series.push_back(Line("facility power", chart::PaletteColor(0), HourlyPoints(s.facility_mw, kSmallPoints)));
  if (s.power_cap_mw > 0 && !s.facility_mw.empty()) {
    Series cap = Line(fmt::format("cap {} MW", Readable(s.power_cap_mw)), chart::PaletteColor(1),
                      {{0, s.power_cap_mw}, {horizon / 24.0, s.power_cap_mw}});
    cap.dashed = true;
    c.series.push_back(std::move(cap));
  }
  return c;
}

Chart SiteCarbonChart(const RunResult& r, size_t site) {
  const SiteSeries& s = r.sites[site];
  Chart c = SitePanel(r, site, "carbon");
  c.x.label = "gCO\u2082/kWh";
  c.y = PercentAxis("busy");
  c.empty_message = "No carbon series";
  Series line = Line("mean utilisation", chart::PaletteColor(2), CarbonBins(s));
  line.markers = true;
  c.series.push_back(std::move(line));
  return c;
}

Chart JctCdfChart(const RunResult& r) {
  Chart c = JctAxes("jct-by-kind");
  std::vector<double> all;
  std::array<std::vector<double>, kKinds.size()> by_kind;
  for (const JobRecord& j : r.jobs) {
    if (j.outcome != JobOutcome::kFinished || j.end == Time::Never()) continue;
    const double h = (j.end - j.submit).hours();
    all.push_back(h);
    by_kind[static_cast<size_t>(j.kind) % kKinds.size()].push_back(h);
  }
  const size_t kinds_present = std::count_if(by_kind.begin(), by_kind.end(), [](const auto& v) { return !v.empty(); });
  c.series.push_back(CdfLine("all finished jobs", "#111827", std::move(all)));
  if (kinds_present < 2) return c;
  for (size_t k = 0; k < kKinds.size(); ++k) {
    if (by_kind[k].empty()) continue;
    c.series.push_back(CdfLine(std::string(Name(kKinds[k])), chart::PaletteColor(k), std::move(by_kind[k])));
  }
  return c;
}

}  // namespace stargate::twin::report
