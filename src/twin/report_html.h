// File: report_html.h
// The run as one self-contained HTML page: inline CSS, the chart library
// (uPlot) and the page's data and script inline; no external scripts,
// fonts, images or links, so the file can be mailed, archived or opened
// offline.
//
// Sections: the header and the run's warnings (report_warnings.h), then
// headline cards (jobs, JCT, wait, utilisation, goodput, ETTR, energy,
// peak power, tCO2, cost, interruptions); with the scenario run under other
// policies, a table comparing them; the network's power, utilisation,
// emissions (and, compared, JCT) with one line per policy; small
// multiples per site (utilisation, power against cap, load against grid
// carbon); the JCT CDF by job kind; a per-site table; and "How to read
// these numbers". Charts come from report_charts.h.
//
// Size stays bounded whatever the run (downsampled lines, at most
// report::kMaxSitePanels small multiples). Same input, same bytes: no
// clock, no locale, no hash order. Pure function; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "twin/report_charts.h"
#include "twin/run_result.h"

namespace stargate::twin {

// The chart library the page inlines: uPlot's IIFE build (it defines the
// global `uPlot`) and its stylesheet. The binary holds them
// (assets/embedded_files.h); the twin takes them as text so it stays free
// of I/O.
struct ChartLibrary {
  std::string_view script;
  std::string_view style;
};

// The full HTML document (UTF-8). `compared` are digests of the same
// scenario run under other policies, shown beside this run's. Never fails:
// an empty RunResult renders with "no data" panels.
std::string RenderHtmlReport(const RunResult& result, const ChartLibrary& library,
                             std::span<const report::RunDigest> compared = {});

}  // namespace stargate::twin
