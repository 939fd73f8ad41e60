// File: report_charts.h
// Turns a RunResult into the HTML report's four charts, as svg::LineChart
// specs (data only; report_svg.h draws them). Kept apart from the page
// layout so the data reduction (downsampling, binning, CDF sampling) can be
// tested on its own. Pure functions; thread-safe.
#pragma once

#include <cstddef>

#include "twin/report_svg.h"
#include "twin/run_result.h"

namespace stargate::twin::report {

// A CDF line never has more points than this, whatever the job count.
inline constexpr size_t kMaxCdfPoints = 1000;

// Hours the run covers: the longest site series, or the simulated days if
// the summary says more.
double HorizonHours(const RunResult& result);

// Points per hourly line after bucket averaging: 600 for a few sites, fewer
// (down to 150) when there are many, so the page stays small with 30 sites
// over a year.
size_t PointsPerLine(size_t sites);

// (1) Utilisation per site over time (days), 0-100%.
svg::LineChart UtilisationChart(const RunResult& result);

// (2) Facility power per site over time, with each site's power cap as a
// dashed line in the site's colour.
svg::LineChart PowerChart(const RunResult& result);

// (3) Load against grid carbon intensity: each site's hours are binned by
// carbon intensity (12 equal bins over the site's own range) and the line
// joins the mean utilisation of each bin. A line that falls to the right
// means the site ran harder when its grid was cleaner.
svg::LineChart CarbonChart(const RunResult& result);

// (4) CDF of job completion time (submit -> end, hours, log axis) for all
// finished jobs, plus one line per job kind when there are several kinds.
// Each line is sampled to at most kMaxCdfPoints points.
svg::LineChart JctCdfChart(const RunResult& result);

}  // namespace stargate::twin::report
