#include "twin/report_charts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "twin/report_format.h"

namespace stargate::twin::report {
namespace {

constexpr int kCarbonBins = 12;
constexpr std::array<JobKind, 4> kKinds = {JobKind::kTraining, JobKind::kFineTune, JobKind::kBatch,
                                           JobKind::kInference};

svg::Axis DaysAxis(const RunResult& r) {
  svg::Axis x;
  x.label = "days since start";
  x.min = 0;
  const double days = HorizonHours(r) / 24.0;
  if (days > 0) x.max = days;
  return x;
}

// Bucket-averaged hourly values, each placed at the middle of its bucket.
std::vector<svg::Point> HourlyPoints(const std::vector<double>& hourly, size_t max_points) {
  const Buckets b = BucketMeans(hourly, max_points);
  std::vector<svg::Point> points;
  points.reserve(b.means.size());
  for (size_t i = 0; i < b.means.size(); ++i) {
    const double mid_h = static_cast<double>(b.bounds[i] + b.bounds[i + 1]) / 2.0;
    points.push_back({mid_h / 24.0, b.means[i]});
  }
  return points;
}

svg::Series SiteLine(const SiteSeries& site, size_t index, std::vector<svg::Point> points) {
  svg::Series s;
  s.label = site.name;
  s.color = svg::PaletteColor(index);
  s.points = std::move(points);
  s.group = static_cast<int>(index);
  return s;
}

// Mean utilisation per carbon-intensity bin, in bin order (so x ascends).
std::vector<svg::Point> CarbonBins(const SiteSeries& site) {
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
  std::vector<svg::Point> points;
  for (const Bin& b : bins) {
    if (b.hours == 0) continue;
    const double k = static_cast<double>(b.hours);
    points.push_back({b.carbon / k, b.util / k});
  }
  return points;
}

// Empirical CDF of sorted values, sampled evenly by rank.
std::vector<svg::Point> CdfPoints(const std::vector<double>& sorted) {
  const uint64_t n = sorted.size();
  std::vector<svg::Point> points;
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

svg::Series CdfLine(std::string label, std::string color, std::vector<double> jct_h) {
  std::sort(jct_h.begin(), jct_h.end());
  svg::Series s;
  s.label = fmt::format("{} (n={})", label, Integer(static_cast<int64_t>(jct_h.size())));
  s.color = std::move(color);
  s.points = CdfPoints(jct_h);
  s.step = true;
  return s;
}

}  // namespace

double HorizonHours(const RunResult& r) {
  double hours = std::max(0.0, r.summary.simulated_days * 24.0);
  for (const SiteSeries& s : r.sites) {
    hours = std::max({hours, static_cast<double>(s.utilisation.size()), static_cast<double>(s.facility_mw.size())});
  }
  return hours;
}

size_t PointsPerLine(size_t sites) { return std::clamp<size_t>(12000 / std::max<size_t>(sites, 1), 150, 600); }

svg::LineChart UtilisationChart(const RunResult& r) {
  svg::LineChart c;
  c.id = "chart-utilisation";
  c.title = "Utilisation per site over time";
  c.x = DaysAxis(r);
  c.y.label = "utilisation";
  c.y.format = svg::Format::kPercent;
  c.y.min = 0;
  c.y.max = 1;
  c.empty_message = "No site series in this run";
  const size_t points = PointsPerLine(r.sites.size());
  for (size_t i = 0; i < r.sites.size(); ++i) {
    c.series.push_back(SiteLine(r.sites[i], i, HourlyPoints(r.sites[i].utilisation, points)));
  }
  return c;
}

svg::LineChart PowerChart(const RunResult& r) {
  svg::LineChart c;
  c.id = "chart-power";
  c.title = "Facility power per site over time, with power caps";
  c.x = DaysAxis(r);
  c.y.label = "facility power (MW)";
  c.y.min = 0;
  c.empty_message = "No site series in this run";
  const size_t points = PointsPerLine(r.sites.size());
  const double end_days = HorizonHours(r) / 24.0;
  bool any_cap = false;
  for (size_t i = 0; i < r.sites.size(); ++i) {
    const SiteSeries& site = r.sites[i];
    c.series.push_back(SiteLine(site, i, HourlyPoints(site.facility_mw, points)));
    if (site.power_cap_mw <= 0 || site.facility_mw.empty()) continue;
    svg::Series cap = SiteLine(site, i, {{0, site.power_cap_mw}, {end_days, site.power_cap_mw}});
    cap.label = fmt::format("{} power cap {} MW", site.name, Readable(site.power_cap_mw));
    cap.dashed = true;
    cap.in_legend = false;
    c.series.push_back(std::move(cap));
    any_cap = true;
  }
  if (any_cap) {  // a key entry explaining the dashes
    svg::Series key;
    key.label = "dashed: the site's power cap";
    key.color = "#6b7280";
    key.dashed = true;
    c.series.push_back(std::move(key));
  }
  return c;
}

svg::LineChart CarbonChart(const RunResult& r) {
  svg::LineChart c;
  c.id = "chart-carbon";
  c.title = "Mean utilisation by grid carbon intensity, per site";
  c.x.label = "grid carbon intensity (gCO\u2082/kWh), hours binned per site";
  c.y.label = "mean utilisation in those hours";
  c.y.format = svg::Format::kPercent;
  c.y.min = 0;
  c.y.max = 1;
  c.empty_message = "No carbon-intensity series in this run";
  for (size_t i = 0; i < r.sites.size(); ++i) {
    svg::Series s = SiteLine(r.sites[i], i, CarbonBins(r.sites[i]));
    s.markers = true;
    c.series.push_back(std::move(s));
  }
  return c;
}

svg::LineChart JctCdfChart(const RunResult& r) {
  svg::LineChart c;
  c.id = "chart-jct";
  c.title = "Job completion time CDF";
  c.x.label = "job completion time, submit to end (hours, log scale)";
  c.x.scale = svg::Scale::kLog10;
  c.y.label = "share of finished jobs";
  c.y.format = svg::Format::kPercent;
  c.y.min = 0;
  c.y.max = 1;
  c.empty_message = "No finished jobs: no completion-time distribution to show";
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
    c.series.push_back(CdfLine(std::string(Name(kKinds[k])), svg::PaletteColor(k), std::move(by_kind[k])));
  }
  return c;
}

}  // namespace stargate::twin::report
