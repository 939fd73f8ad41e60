// File: report_html.h
// The run as one self-contained HTML page: inline CSS, inline SVG charts and
// a few lines of inline script (legend hover highlights a site's lines); no
// external scripts, fonts, images or links, so the file can be mailed,
// archived or opened offline.
//
// Sections: headline cards (jobs, JCT mean/p50/p99, wait p99, utilisation,
// goodput, ETTR, energy, peak power, tCO2, cost, interruptions); charts of
// (1) utilisation per site, (2) facility power per site against its cap,
// (3) utilisation by grid carbon intensity, (4) the JCT CDF; a per-site
// table; and "How to read these numbers". Charts come from report_charts.h.
//
// Size stays bounded whatever the run: hourly lines are bucket-averaged to
// at most 600 points, CDF lines to 1000. Same input, same bytes: no clock,
// no locale, no hash order. Pure function; thread-safe.
#pragma once

#include <string>

#include "twin/run_result.h"

namespace stargate::twin {

// The full HTML document (UTF-8). Never fails: an empty RunResult renders
// with "no data" panels.
std::string RenderHtmlReport(const RunResult& result);

}  // namespace stargate::twin
