// File: report_charts.h
// What the HTML report's charts show, as chart::Chart data (report_chart.h
// turns it into JSON for the page's chart library). Kept apart from the
// page layout so the data reduction (downsampling, binning, CDF sampling,
// which sites get a panel) can be tested on its own.
//
// Two kinds of chart:
//  - network charts, one line per run: with a single policy one line; with
//    the scenario run under several policies (`compare:`), one line per
//    policy on the same axes, from each run's RunDigest;
//  - small multiples, one small chart per site for each of utilisation,
//    power against the cap, and load against grid carbon, rather than ten
//    or thirty tangled lines on one plot.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "twin/report_chart.h"
#include "twin/run_result.h"

namespace stargate::twin::report {

// A CDF line never has more points than this, whatever the job count.
inline constexpr size_t kMaxCdfPoints = 1000;
// Sites beyond this many get no small multiple (the table and sites.csv
// have them all): the ones that used the most energy are shown.
inline constexpr size_t kMaxSitePanels = 24;
// Points per line in a site's small chart.
inline constexpr size_t kSmallPoints = 240;

// Hours the run covers: the longest site series, or the simulated days if
// the summary says more.
double HorizonHours(const RunResult& result);

// Points per line in a network chart: 600, fewer for a comparison of many
// runs so the page stays small.
size_t PointsPerLine(size_t lines);

// What one run contributes to the network charts and the comparison: its
// summary and its network-wide hourly series, without its jobs and sites,
// so comparing policies on a million-job scenario keeps one run in memory.
struct RunDigest {
  Summary summary;
  double horizon_h = 0;
  std::vector<double> facility_mw;    // each hour: facility power summed over sites
  double power_cap_mw = 0;            // the sites' caps summed; 0 when a site has none
  std::vector<double> utilisation;    // each hour: busy devices / devices, all sites
  std::vector<double> tco2_total;     // each hour: emissions since the start (t)
  std::vector<chart::Point> jct_cdf;  // finished jobs: JCT hours -> share, <= kMaxCdfPoints
};

RunDigest DigestOf(const RunResult& result);

// Network-wide facility power, and the sites' caps summed (dashed).
chart::Chart NetworkPowerChart(std::span<const RunDigest> runs);
// Network-wide utilisation, 0-100%.
chart::Chart NetworkUtilisationChart(std::span<const RunDigest> runs);
// Emissions accumulated since the start (tCO2).
chart::Chart EmissionsChart(std::span<const RunDigest> runs);
// The finished jobs' JCT CDF, one line per run (log x).
chart::Chart PolicyJctChart(std::span<const RunDigest> runs);

// The sites that get small multiples, in scenario order: every site when
// there are at most kMaxSitePanels, else the kMaxSitePanels that used the
// most energy (ties: the earlier site).
std::vector<size_t> PanelSites(const RunResult& result);

// A site's utilisation over days, 0-100% (the same scale for every site).
chart::Chart SiteUtilisationChart(const RunResult& result, size_t site);
// A site's facility power over days, its cap dashed.
chart::Chart SitePowerChart(const RunResult& result, size_t site);
// A site's hours binned by grid carbon intensity (12 equal bins over its
// own range), each dot the mean utilisation in the bin: a line falling to
// the right means the site ran harder when its grid was cleaner.
chart::Chart SiteCarbonChart(const RunResult& result, size_t site);

// JCT CDF (submit -> end, hours, log x) of all finished jobs, plus one line
// per job kind when there are several.
chart::Chart JctCdfChart(const RunResult& result);

}  // namespace stargate::twin::report
