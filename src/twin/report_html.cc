#include "twin/report_html.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "twin/report_chart.h"
#include "twin/report_charts.h"
#include "twin/report_format.h"
#include "twin/report_warnings.h"

namespace stargate::twin {
namespace {

using report::EscapeXml;
using report::Readable;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr std::string_view kStyle = R"css(
:root{--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;--card:#f9fafb;--accent:#1f77b4;--bad:#d62728}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--text);background:#fff}
main{max-width:1160px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:18px;margin:36px 0 4px;padding-top:12px;border-top:1px solid var(--line)}
.meta{color:var(--muted);margin:0 0 4px}
.meta.jobs{margin-bottom:20px}
.meta b{color:var(--text);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:24px;font-weight:600;white-space:nowrap}
.card .v small{font-size:14px;font-weight:400;color:var(--muted);margin-left:3px}
.card .n{font-size:12px;color:var(--muted)}
.note{color:var(--muted);margin:0 0 8px;max-width:900px}
.warnings{border:1px solid #f5c2c0;background:#fef3f2;border-radius:8px;padding:8px 16px;margin:0 0 16px}
.warnings.none{border-color:var(--line);background:var(--card);color:var(--muted)}
.warnings ul{margin:4px 0;padding-left:20px}
.warnings b{color:var(--bad)}
.chart{min-height:40px}
.chart.empty{color:var(--muted);padding:16px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:18px 24px}
.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:10px 16px}
.multiples .chart.empty{font-size:12px}
.u-title{font-size:13px!important;font-weight:600!important}
.multiples .u-title{font-size:12px!important}
.delta{font-size:11px;color:var(--muted);margin-left:4px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{font-size:12px;color:var(--muted);font-weight:600;white-space:normal;vertical-align:bottom}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
tbody tr:nth-child(odd){background:var(--card)}
tfoot td{font-weight:600;border-top:2px solid var(--line)}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.bar{display:inline-block;width:44px;height:8px;background:var(--line);border-radius:4px;
  margin-right:8px;vertical-align:middle;overflow:hidden}
.bar span{display:block;height:100%;background:var(--accent)}
.muted{color:var(--muted)}
.over{color:var(--bad)}
.over .bar span{background:var(--bad)}
.scroll{overflow-x:auto}
dl{max-width:900px}
dt{font-weight:600;margin-top:12px}
dd{margin:2px 0 0 0;color:#374151}
footer{margin-top:36px;color:var(--muted);font-size:12px}
)css";

// Draws every [data-chart] element from the page's JSON with uPlot: small
// multiples without legend or axis titles (the section says what they
// show), the larger charts with both and a hover readout.
constexpr std::string_view kScript = R"js(
(function(){
var charts = {};
JSON.parse(document.getElementById('report-data').textContent).charts.forEach(function(c){ charts[c.id] = c; });
function num(a, v) {
  if (v == null || !isFinite(v)) return '';
  if (a.pct) return (Math.round(v * 1000) / 10) + '%';
  return v.toLocaleString('en-US', {maximumSignificantDigits: Math.abs(v) >= 1000 ? 21 : 3});
}
function scale(a) {
  if (a.log) return {distr: 3, log: 10};
  return {range: function(u, lo, hi) {
    var r = uPlot.rangeNum(lo, hi, 0.1, true);
    return [a.min != null ? a.min : r[0], a.max != null ? a.max : r[1]];
  }};
}
function axis(a, small, vertical) {
  return {label: small ? undefined : a.label, size: vertical ? (small ? 48 : 64) : (small ? 24 : 36),
          labelSize: 18, font: '11px system-ui,sans-serif',
          labelFont: '12px system-ui,sans-serif', gap: 3,
          values: function(u, splits) { return splits.map(function(v) { return num(a, v); }); }};
}
var plots = [];
document.querySelectorAll('[data-chart]').forEach(function(el) {
  var c = charts[el.getAttribute('data-chart')];
  if (!c) return;
  if (!c.data[0].length) { el.textContent = c.empty; el.classList.add('empty'); return; }
  var small = el.classList.contains('small');
  var series = [{label: c.x.label, value: function(u, v) { return num(c.x, v); }}];
  c.series.forEach(function(s) {
    series.push({label: s.label, stroke: s.color, width: small ? 1.25 : 1.6, dash: s.dash ? [6, 4] : undefined,
                 spanGaps: true, points: {show: s.markers, size: 5, fill: s.color, stroke: s.color},
                 paths: s.step ? uPlot.paths.stepped({align: 1}) : undefined,
                 value: function(u, v) { return num(c.y, v); }});
  });
  var h = small ? 120 : 260;
  var x = scale(c.x); x.time = false;
  var u = new uPlot({width: el.clientWidth || 300, height: h, title: c.title, series: series,
                     scales: {x: x, y: scale(c.y)}, axes: [axis(c.x, small, false), axis(c.y, small, true)],
                     legend: {show: !small}, cursor: {drag: {x: !small, y: false}}}, c.data, el);
  plots.push([u, el, h]);
});
var t;
window.addEventListener('resize', function() {
  clearTimeout(t);
  t = setTimeout(function() { plots.forEach(function(p) { p[0].setSize({width: p[1].clientWidth, height: p[2]}); }); }, 100);
});
})();
)js";

struct Card {
  std::string label;
  std::string value;  // formatted; escaped when written
  std::string unit;
  std::string note;
};

std::string Hours(double h) { return Readable(h); }

std::string Count(int64_t n) { return report::Integer(n); }

// A value and its unit, stepping up a unit per factor of 1000 once the value
// reaches 10,000 so card numbers stay short ("10.3 TWh", not "10,322,970 MWh").
std::pair<std::string, std::string> Scaled(double v, std::initializer_list<std::string_view> units) {
  auto unit = units.begin();
  while (std::fabs(v) >= 9999.5 && unit + 1 != units.end()) {
    v /= 1000;
    ++unit;
  }
  return {Readable(v), std::string(*unit)};
}

Card ScaledCard(std::string label, double v, std::initializer_list<std::string_view> units, std::string note) {
  auto [value, unit] = Scaled(v, units);
  return {std::move(label), std::move(value), std::move(unit), std::move(note)};
}

std::vector<Card> HeadlineCards(const Summary& s) {
  // With nothing finished the percentiles are placeholders, not zero-hour jobs.
  const Percentiles jct = s.jobs_finished > 0 ? s.jct_h : Percentiles{kNaN, kNaN, kNaN, kNaN};
  std::vector<Card> cards = {
      {"JCT mean", Hours(jct.mean), "h", "submit to finish"},
      {"JCT p50", Hours(jct.p50), "h", "median finished job"},
      {"JCT p99", Hours(jct.p99), "h", fmt::format("p90 {} h", Hours(jct.p90))},
      {"Wait p99", Hours(s.wait_h.p99), "h", fmt::format("mean {} h", Hours(s.wait_h.mean))},
      {"Utilisation", report::Percent(s.utilisation), "", "busy / available device-hours"},
      {"Goodput", report::Percent(s.goodput), "", "useful / allocated device-time"},
      {"ETTR", report::Percent(s.ettr), "", "training: useful / elapsed time"},
      ScaledCard("Energy", s.energy_mwh, {"MWh", "GWh", "TWh"}, "at the facility meter"),
      ScaledCard("Peak power", s.peak_mw, {"MW", "GW"}, "highest site peak"),
      ScaledCard("Emissions", s.tco2, {"tCO\u2082", "ktCO\u2082", "MtCO\u2082"}, "energy \u00d7 hourly grid intensity"),
      {"Energy cost", report::Dollars(s.cost_usd), "", "energy \u00d7 hourly price"},
      ScaledCard("Workload emissions", s.workload_tco2, {"tCO\u2082", "ktCO\u2082", "MtCO\u2082"},
                 fmt::format("jobs' devices only, idle capacity excluded; {} SLA misses", Count(s.sla_misses))),
      {"Interruptions", Count(s.interruptions), "",
       fmt::format("from {} component failures{}{}", Count(s.failures),
                   s.gang_repairs > 0 ? fmt::format("; {} nodes repaired in place", Count(s.gang_repairs)) : "",
                   s.preemptions > 0 ? fmt::format("; {} preemptions", Count(s.preemptions)) : "")},
  };
  if (const CheckpointTraffic& c = s.checkpoints; c.site_losses > 0) {  // checkpoints across sites
    cards.push_back(
        {"Site losses", Count(c.site_losses), "",
         fmt::format("jobs whose site went down: {} waited and resumed there, {} restarted from a "
                     "replica, {} from their start; {:.1f} h waiting, {:.1f} h redone; {:.1f} TB replicated",
                     Count(c.waited), Count(c.from_replica), Count(c.from_scratch), c.waited_h, c.redone_h,
                     c.replication_tb)});
  }
  return cards;
}

// `text`, or a dash when it is empty, so the header never shows a bare label.
std::string OrDash(const std::string& text) { return text.empty() ? "\u2013" : EscapeXml(text); }

void AppendHeader(const Summary& s, size_t sites, std::string* out) {
  auto o = std::back_inserter(*out);
  fmt::format_to(o, "<header><h1>Stargate twin report: {}</h1>", OrDash(s.scenario));
  fmt::format_to(o,
                 "<p class=\"meta\">policy <b>{}</b> · seed <b>{}</b> · <b>{}</b> simulated days "
                 "· <b>{}</b> site{} · <b>{}</b> accelerators on <b>{}</b> nodes · {} events · {} "
                 "scheduler passes</p>",
                 OrDash(s.policy), s.seed, Readable(s.simulated_days), sites, sites == 1 ? "" : "s",
                 Count(s.accelerators), Count(s.nodes), Count(s.events), Count(s.scheduler_passes));
  fmt::format_to(o,
                 "<p class=\"meta jobs\">jobs: <b>{}</b> finished of <b>{}</b> submitted · "
                 "<b>{}</b> running · <b>{}</b> pending · <b>{}</b> rejected</p></header>\n",
                 Count(s.jobs_finished), Count(s.jobs_total), Count(s.jobs_running), Count(s.jobs_pending),
                 Count(s.jobs_rejected));
}

void AppendCards(const Summary& s, std::string* out) {
  *out += "<section class=\"cards\">\n";
  for (const Card& c : HeadlineCards(s)) {
    fmt::format_to(std::back_inserter(*out),
                   "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}{}</div>"
                   "<div class=\"n\">{}</div></div>\n",
                   EscapeXml(c.label), EscapeXml(c.value),
                   c.unit.empty() ? "" : "<small>" + EscapeXml(c.unit) + "</small>", EscapeXml(c.note));
  }
  *out += "</section>\n";
}

// Collects the page's charts for its JSON and writes each one's place.
class ChartSink {
 public:
  void Place(chart::Chart c, bool small, std::string* out) {
    fmt::format_to(std::back_inserter(*out),
                   "<div class=\"chart{}\" data-chart=\"{}\" role=\"img\" aria-label=\"{}\"></div>",
                   small ? " small" : "", EscapeXml(c.id), EscapeXml(c.title));
    charts_.push_back(std::move(c));
  }

  std::string Json() const {
    std::string json = "{\"charts\":[";
    for (size_t i = 0; i < charts_.size(); ++i) json += (i > 0 ? ",\n" : "\n") + chart::ChartJson(charts_[i]);
    return json + "]}";
  }

 private:
  std::vector<chart::Chart> charts_;
};

void AppendWarnings(const RunResult& r, std::string* out) {
  const std::vector<std::string> warnings = report::RunWarnings(r);
  if (warnings.empty()) {
    *out +=
        "<section class=\"warnings none\" data-warnings=\"0\">No warnings: no missed deadline, no rejected or "
        "unfinished job, no site idle or over its cap, no capped start.</section>\n";
    return;
  }
  fmt::format_to(std::back_inserter(*out), "<section class=\"warnings\" data-warnings=\"{}\"><b>{} to look at</b><ul>",
                 warnings.size(), warnings.size() == 1 ? "One thing" : fmt::format("{} things", warnings.size()));
  for (const std::string& w : warnings) fmt::format_to(std::back_inserter(*out), "<li>{}</li>", EscapeXml(w));
  *out += "</ul></section>\n";
}

// A figure, and under it how it compares with the first run's.
std::string Compared(const std::string& text, double v, double base, bool first) {
  if (first || !std::isfinite(v) || !std::isfinite(base)) return text;
  if (base == 0) return v == 0 ? text + "<span class=\"delta\">same</span>" : text;
  const double change = (v - base) / std::fabs(base) * 100;
  return fmt::format("{}<span class=\"delta\">{}{:.1f}%</span>", text, change >= 0 ? "+" : "\u2212", std::fabs(change));
}

void AppendComparison(std::span<const report::RunDigest> runs, std::string* out) {
  if (runs.size() < 2) return;
  fmt::format_to(std::back_inserter(*out),
                 "<section id=\"compare\"><h2>Policies compared</h2><p class=\"note\">The same scenario, seed, "
                 "workload and failures under each policy. Percentages are against <b>{}</b>, the first row.</p>"
                 "<div class=\"scroll\"><table><thead><tr><th>Policy</th><th>Finished</th><th>JCT p50 h</th>"
                 "<th>JCT p99 h</th><th>Wait p99 h</th><th>Utilisation</th><th>Energy MWh</th><th>tCO\u2082</th>"
                 "<th>Workload tCO\u2082</th><th>Energy cost</th><th>SLA misses</th><th>Capped starts</th>"
                 "<th>Deferrals</th></tr></thead><tbody>\n",
                 EscapeXml(runs[0].summary.policy));
  const Summary& b = runs[0].summary;
  for (size_t i = 0; i < runs.size(); ++i) {
    const Summary& s = runs[i].summary;
    const bool first = i == 0;
    auto n = [](int64_t v) { return static_cast<double>(v); };
    fmt::format_to(std::back_inserter(*out),
                   "<tr data-policy=\"{}\"><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>"
                   "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                   "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
                   EscapeXml(s.policy), chart::PaletteColor(i), EscapeXml(s.policy),
                   Compared(Count(s.jobs_finished), n(s.jobs_finished), n(b.jobs_finished), first),
                   Compared(Hours(s.jct_h.p50), s.jct_h.p50, b.jct_h.p50, first),
                   Compared(Hours(s.jct_h.p99), s.jct_h.p99, b.jct_h.p99, first),
                   Compared(Hours(s.wait_h.p99), s.wait_h.p99, b.wait_h.p99, first),
                   Compared(report::Percent(s.utilisation), s.utilisation, b.utilisation, first),
                   Compared(Readable(s.energy_mwh), s.energy_mwh, b.energy_mwh, first),
                   Compared(Readable(s.tco2), s.tco2, b.tco2, first),
                   Compared(Readable(s.workload_tco2), s.workload_tco2, b.workload_tco2, first),
                   Compared(report::Dollars(s.cost_usd), s.cost_usd, b.cost_usd, first), Count(s.sla_misses),
                   Count(s.power_capped_starts), Count(s.deferrals));
  }
  *out += "</tbody></table></div></section>\n";
}

// How many hours a point of a line of at most `points` points stands for.
std::string BucketNote(double hours, size_t points) {
  const int width = std::max(1, static_cast<int>(std::ceil(hours / static_cast<double>(points))));
  return width == 1 ? "Each point is one hour." : fmt::format("Each point is the mean of about {} hours.", width);
}

void AppendNetwork(std::span<const report::RunDigest> runs, ChartSink* sink, std::string* out) {
  const bool compared = runs.size() > 1;
  fmt::format_to(std::back_inserter(*out),
                 "<section id=\"network\"><h2>The network{}</h2><p class=\"note\">All sites together: facility "
                 "power (IT load plus cooling and losses){}, the share of accelerators busy, and the emissions "
                 "accumulated since the start{}. {}</p><div class=\"grid\">",
                 compared ? ", policy by policy" : "", compared ? "" : " against the sum of the sites' caps (dashed)",
                 compared ? "; then each policy's completion times" : "",
                 BucketNote(runs.empty() ? 0 : runs[0].horizon_h, report::PointsPerLine(runs.size())));
  sink->Place(report::NetworkPowerChart(runs), false, out);
  sink->Place(report::NetworkUtilisationChart(runs), false, out);
  sink->Place(report::EmissionsChart(runs), false, out);
  if (compared) sink->Place(report::PolicyJctChart(runs), false, out);
  *out += "</div></section>\n";
}

void AppendMultiples(const RunResult& r, std::string_view id, std::string_view heading, std::string note,
                     chart::Chart (*make)(const RunResult&, size_t), ChartSink* sink, std::string* out) {
  const std::vector<size_t> shown = report::PanelSites(r);
  if (shown.size() < r.sites.size()) {
    note += fmt::format(" {} of {} sites shown: those that used the most energy (sites.csv has every site).",
                        shown.size(), r.sites.size());
  }
  fmt::format_to(std::back_inserter(*out), "<section id=\"{}\"><h2>{}</h2><p class=\"note\">{}</p>", id, heading, note);
  if (shown.empty()) {
    *out += "<p class=\"note\">No sites in this run.</p></section>\n";
    return;
  }
  *out += "<div class=\"multiples\">";
  for (size_t site : shown) sink->Place(make(r, site), true, out);
  *out += "</div></section>\n";
}

void AppendSiteCharts(const RunResult& r, ChartSink* sink, std::string* out) {
  const std::string bucket = BucketNote(report::HorizonHours(r), report::kSmallPoints);
  AppendMultiples(r, "site-utilisation", "Utilisation per site",
                  "Share of each site's accelerators that were busy, 0-100% on every panel, over the days of the "
                  "run. " +
                      bucket,
                  report::SiteUtilisationChart, sink, out);
  AppendMultiples(r, "site-power", "Facility power per site",
                  "Mean facility power in MW against the site's power cap (dashed); each panel has its own scale. " +
                      bucket + " The table below has the instantaneous peaks.",
                  report::SitePowerChart, sink, out);
  AppendMultiples(r, "site-carbon", "Load and grid carbon intensity per site",
                  "Each site's hours grouped by how carbon-intensive its grid was (gCO\u2082/kWh, across); each dot "
                  "is the mean utilisation in that group. A line falling to the right means the site ran harder "
                  "when its grid was cleaner; a flat line means load ignored carbon.",
                  report::SiteCarbonChart, sink, out);
}

void AppendJct(const RunResult& r, ChartSink* sink, std::string* out) {
  *out +=
      "<section id=\"jct\"><h2>Job completion time</h2><p class=\"note\">Cumulative share of finished jobs "
      "that completed within a given time from submission (log scale), overall and by job kind. Lines further "
      "left are faster; a long tail to the right is what p99 measures.</p>";
  sink->Place(report::JctCdfChart(r), false, out);
  *out += "</section>\n";
}

// "12.3 / 15.0 MW" with a bar showing peak as a share of the cap.
std::string PeakCell(double peak, double cap) {
  if (!(cap > 0)) return fmt::format("<td>{} <span class=\"muted\">(no cap)</span></td>", Readable(peak));
  const double share = peak / cap;
  return fmt::format("<td{}><span class=\"bar\"><span style=\"width:{:.0f}%\"></span></span>{} / {}</td>",
                     share > 1.0 + 1e-9 ? " class=\"over\"" : "", std::clamp(share, 0.0, 1.0) * 100, Readable(peak),
                     Readable(cap));
}

// Grid mean over the hours versus what the site's energy actually emitted
// per kWh (tCO2 / MWh = kg/kWh, so x1000 for g/kWh).
std::string CarbonCell(const SiteSeries& s) {
  const double weighted = s.energy_mwh > 0 ? s.tco2 * 1000.0 / s.energy_mwh : kNaN;
  return fmt::format("<td>{} \u2192 {}</td>", Readable(report::MeanOf(s.carbon, kNaN)), Readable(weighted));
}

void AppendSiteRow(const SiteSeries& s, size_t index, std::string* out) {
  fmt::format_to(std::back_inserter(*out),
                 "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td>"
                 "<td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>\n",
                 chart::PaletteColor(index), EscapeXml(s.name), EscapeXml(s.jurisdiction), Count(s.accelerators),
                 report::Percent(report::MeanOf(s.utilisation, kNaN)), PeakCell(s.peak_mw, s.power_cap_mw),
                 Readable(s.energy_mwh), Readable(s.tco2), CarbonCell(s), report::Dollars(s.cost_usd),
                 Count(s.failures));
}

void AppendSiteTable(const RunResult& r, std::string* out) {
  *out +=
      "<section><h2>Sites</h2><p class=\"note\">Peak is the highest instantaneous "
      "facility power; red when it went over the cap. Carbon intensity shows the grid's "
      "mean over all hours \u2192 what the site's energy actually emitted per kWh (lower "
      "on the right means load moved to cleaner hours).</p>";
  if (r.sites.empty()) {
    *out += "<p class=\"note\">No sites in this run.</p></section>\n";
    return;
  }
  *out +=
      "<div class=\"scroll\"><table><thead><tr><th>Site</th><th>Jurisdiction</th>"
      "<th>Accelerators</th><th>Mean util.</th><th>Peak / cap MW</th><th>Energy MWh</th>"
      "<th>tCO\u2082</th><th>gCO\u2082/kWh grid \u2192 used</th><th>Energy cost</th>"
      "<th>Failures</th></tr></thead><tbody>\n";
  int64_t accelerators = 0, failures = 0;
  for (size_t i = 0; i < r.sites.size(); ++i) {
    AppendSiteRow(r.sites[i], i, out);
    accelerators += r.sites[i].accelerators;
    failures += r.sites[i].failures;
  }
  const Summary& s = r.summary;
  fmt::format_to(std::back_inserter(*out),
                 "</tbody><tfoot><tr><td>All sites</td><td></td><td>{}</td><td>{}</td>"
                 "<td>max {}</td><td>{}</td><td>{}</td><td></td><td>{}</td><td>{}</td></tr>"
                 "</tfoot></table></div></section>\n",
                 Count(accelerators), report::Percent(s.utilisation), Readable(s.peak_mw), Readable(s.energy_mwh),
                 Readable(s.tco2), report::Dollars(s.cost_usd), Count(failures));
}

// The sites listed in the bound's table: those where the run and the
// bound differ most (the rest are in summary.json).
constexpr size_t kBoundSites = 20;

// The oracle bound (`twin run --bound`), when solved: the least any
// schedule could have emitted and spent on this run's work, and where the
// run and the bound's optimum differ most, site by site: where the gap is.
void AppendBound(const RunResult& r, std::string* out) {
  const Summary& s = r.summary;
  const BoundFigures& b = s.bound;
  if (!b.computed) return;
  auto o = std::back_inserter(*out);
  // Signed: a run a rounding error under its bound reads "−0.0%".
  auto gap = [](double run, double bound) -> std::string {
    if (!(bound > 0)) return "\u2013";
    const double g = run / bound - 1;
    return (g < 0 ? "\u2212" : "+") + report::Percent(std::fabs(g));
  };
  fmt::format_to(o,
                 "<section id=\"bound\"><h2>The least any schedule could emit</h2><p class=\"note\">The oracle "
                 "bound: the least tCO\u2082 (and, separately, energy cost) at which this run's work could have been "
                 "done on the same sites inside the same windows, knowing the whole future; a linear program that "
                 "lets work split across pools and hours at will, so it is at most what any schedule spends{}. "
                 "This run emitted <b>{}</b> tCO\u2082 against a bound of <b>{}</b> (<b>{}</b>) and spent {} against "
                 "{} ({}); idle draw no schedule avoids: {} tCO\u2082.",
                 b.proven ? " (each figure proven by duality)" : "", Readable(s.tco2), Readable(b.tco2),
                 gap(s.tco2, b.tco2), report::Dollars(s.cost_usd), report::Dollars(b.cost_usd),
                 gap(s.cost_usd, b.cost_usd), Readable(b.fixed_tco2));
  if (const BoundFigures& e = s.bound_at_run_ends; e.computed) {
    fmt::format_to(o, " Finishing each job no later than this run did: <b>{}</b> tCO\u2082 ({}).", Readable(e.tco2),
                   gap(s.tco2, e.tco2));
  }
  *out += "</p>";
  const std::vector<size_t> shown = SitesFurthestFromBound(r, kBoundSites);
  const size_t all = std::min(r.sites.size(), b.sites.size());
  fmt::format_to(o,
                 "<p class=\"note\">By site, {}: the bound's figures are its least-tCO\u2082 optimum's (idle draw "
                 "included). A site above its bound holds work the optimum did at cleaner sites or hours.</p>"
                 "<div class=\"scroll\"><table><thead><tr><th>Site</th><th>tCO\u2082 run</th><th>tCO\u2082 bound</th>"
                 "<th>Run \u2212 bound</th><th>Busy device-h run</th><th>Busy device-h bound</th></tr></thead>"
                 "<tbody>\n",
                 shown.size() < all ? fmt::format("the {} furthest from the bound of {}", shown.size(), Count(all))
                                    : std::string("furthest from the bound first"));
  for (size_t i : shown) {
    const SiteSeries& site = r.sites[i];
    const BoundFigures::Site& at = b.sites[i];
    fmt::format_to(o,
                   "<tr data-site=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>\n",
                   EscapeXml(site.name), EscapeXml(site.name), Readable(site.tco2), Readable(at.tco2),
                   site.tco2 >= at.tco2 ? "+" : "\u2212", Readable(std::fabs(site.tco2 - at.tco2)),
                   Readable(site.busy_device_h), Readable(at.busy_device_h));
  }
  *out += "</tbody></table></div></section>\n";
}

struct Term {
  std::string_view term;
  std::string_view text;
};

// Plain-language definitions, matching how the twin computes each number
// (run_result.h).
constexpr Term kGlossary[] = {
    {"Job completion time (JCT)",
     "Time from submission to finish, for finished jobs only. It includes queueing and time "
     "lost to failures. p50 is the median; p99 is the time 99% of finished jobs beat. Jobs "
     "still running or pending at the end are not in it, so check the pending count before "
     "reading a low JCT as good news."},
    {"Wait",
     "Total time a job spent pending: its first wait plus every wait after an interruption "
     "sent it back to the queue. Counted for jobs that started."},
    {"Utilisation",
     "Busy device-hours divided by available device-hours, over all sites and the whole "
     "simulated period. Idle capacity, capacity held back by power caps and capacity lost to "
     "failed nodes all lower it."},
    {"Goodput",
     "Useful device-time divided by allocated device-time. The rest of the time a job held its "
     "accelerators went to writing checkpoints, restarting, and redoing work lost since the "
     "last checkpoint when a failure hit."},
    {"ETTR (effective training time ratio)",
     "For training jobs: useful wall-clock time divided by the time since the job first "
     "started (to its end, or to the end of the run). 100% means it never waited, never "
     "stalled on a checkpoint and never lost work."},
    {"Interruptions and failures",
     "Failures count component failures anywhere (accelerators, nodes, links). Interruptions "
     "count jobs stopped by them. A failure on an idle node interrupts nothing; one inside a "
     "large gang interrupts a large job."},
    {"Energy and peak power",
     "Energy is measured at the facility meter: IT load plus cooling and power-distribution "
     "losses. Peak is the highest instantaneous facility power. Charts show hourly means, so "
     "they can sit below a cap that the peak touched."},
    {"Emissions (tCO\u2082)",
     "Each hour's energy times that hour's grid carbon intensity at the site (location-based, "
     "operational only; manufacturing emissions are not included)."},
    {"Energy cost",
     "Each hour's energy times that hour's electricity price. Energy only: no hardware, "
     "buildings, staff or network."},
};
// With the oracle bound's section.
constexpr Term kBoundTerm = {"Oracle bound",
                             "The least any schedule could have emitted doing this run's work, knowing the future. "
                             "It lets a gang's work split across pools and hours, and leaves out checkpoints, "
                             "failures and restarts, so it is below what a real schedule can reach: part of every "
                             "gap is the bound's, not the policy's."};

void AppendHowToRead(bool bound, std::string* out) {
  *out += "<section><h2>How to read these numbers</h2><dl>\n";
  for (const Term& t : kGlossary) {
    fmt::format_to(std::back_inserter(*out), "<dt>{}</dt><dd>{}</dd>\n", t.term, t.text);
  }
  if (bound) fmt::format_to(std::back_inserter(*out), "<dt>{}</dt><dd>{}</dd>\n", kBoundTerm.term, kBoundTerm.text);
  *out += "</dl></section>\n";
}

// Library text goes into a <script> or <style> element as is, except
// that nothing in it may close that element early.
std::string Inline(std::string_view text, std::string_view closing) {
  std::string out(text);
  for (size_t at = out.find(closing); at != std::string::npos; at = out.find(closing, at + 2)) out.insert(at + 1, "\\");
  return out;
}

}  // namespace

std::string RenderHtmlReport(const RunResult& result, const ChartLibrary& library,
                             std::span<const report::RunDigest> compared) {
  std::vector<report::RunDigest> runs;
  runs.reserve(compared.size() + 1);
  runs.push_back(report::DigestOf(result));
  runs.insert(runs.end(), compared.begin(), compared.end());

  std::string out;
  out.reserve(512 * 1024);
  fmt::format_to(std::back_inserter(out),
                 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                 "<title>Stargate twin report: {}</title><style>{}</style><style>{}</style></head>\n<body><main>\n",
                 EscapeXml(result.summary.scenario), Inline(library.style, "</style"), kStyle);
  AppendHeader(result.summary, result.sites.size(), &out);
  AppendWarnings(result, &out);
  AppendCards(result.summary, &out);
  out += "<noscript><p class=\"note\">The charts need JavaScript; the tables do not.</p></noscript>\n";
  ChartSink sink;
  AppendComparison(runs, &out);
  AppendNetwork(runs, &sink, &out);
  AppendSiteCharts(result, &sink, &out);
  AppendJct(result, &sink, &out);
  AppendSiteTable(result, &out);
  AppendBound(result, &out);
  AppendHowToRead(result.summary.bound.computed, &out);
  fmt::format_to(std::back_inserter(out),
                 "<footer>Written by the Stargate twin from scenario \u201c{}\u201d, seed {}. The "
                 "same scenario and seed give the same file, byte for byte. Charts drawn with uPlot.</footer>\n"
                 "</main><script type=\"application/json\" id=\"report-data\">{}</script>\n"
                 "<script>{}</script>\n<script>{}</script></body></html>\n",
                 EscapeXml(result.summary.scenario), result.summary.seed, sink.Json(),
                 Inline(library.script, "</script"), kScript);
  return out;
}

}  // namespace stargate::twin
