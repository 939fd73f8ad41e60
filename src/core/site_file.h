// File: site_file.h
// What an operator tells `stargate server --sites FILE` about its sites
// that their agents cannot: where they are, the power they may draw, and
// their grid: carbon intensity and electricity price, each a constant or a
// series of timestamped values with a forecast. The scheduler places and
// defers work on them as the twin does; the dashboard puts the sites on a
// map with their draw against the cap; /metrics exports them.
//
//   sites:
//     - name: abilene                  # as agents give it (--site)
//       latitude: 32.45
//       longitude: -99.73
//       power_cap: 1.2MW               # facility power the site may draw
//       pue: 1.15                      # facility / IT power (default 1.2)
//       carbon: 400                    # grid gCO2/kWh, held constant
//       price:                         # USD/MWh, a series:
//         mean: 60                     #   the yearly mean (default: the points')
//         points:                      #   [UTC time or Unix seconds, value]
//           - ["2026-12-03 00:00:00", 48]
//           - ["2026-12-03 01:00:00", 41]
//         stale_after: 2h              #   a value older than this is stale
//       forecast: 6h                   # how far ahead deferral looks
//       forecast_model: perfect        # or persistence, day_ago (core/grid_forecast.h)
//       fabric: {kind: fat_tree, nodes_per_leaf: 32}   # where known: as a scenario's
//                                      #   (nodes fill leaves in name order)
//       wan_bandwidth: 10Gbps          # the site's WAN link: checkpoint copies in or out
//                                      #   go at most this fast (default unlimited)
//     - name: frankfurt
//       carbon:
//         file: ../shared/data/carbon/ger_ci.csv   # CSV: time, value (relative to this file)
//         column: 1                    #   0-based column of the value
//     - name: dublin
//       carbon:
//         url: http://10.0.0.5:9000/carbon/ie      # polled: the JSON shape of
//         poll: 5m                     #   control/server/grid_feed.h
//
// A series' value at time t is its last point at or before t; with none,
// or one older than `stale_after`, the signal is stale and the site's mean
// stands in (said in /v1/sites, /metrics and placement reasons). The
// forecast is the series' own points ahead (a perfect forecast, as the
// twin's by default), or as `forecast_model` foresees it from the points
// already seen. Parsed by ParseSiteFile; errors name file, line, column and
// field. Reading `file:` is the server's (I/O).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/grid_forecast.h"
#include "core/status.h"
#include "core/topology.h"
#include "core/units.h"

namespace stargate {

// The values a signal may take, wherever it comes from (the file, a CSV,
// an HTTP source): gCO2/kWh and USD/MWh.
struct SignalRange {
  double min, max;
  bool Holds(double v) const { return v >= min && v <= max; }
};
inline constexpr SignalRange kCarbonRange{0, 2000};
inline constexpr SignalRange kPriceRange{-1000, 100000};

struct GridSeriesInfo {
  std::optional<double> mean;                   // the fallback; default: the points' mean
  std::vector<std::pair<Time, double>> points;  // inline, in time order
  std::string file;                             // CSV with a header (time, value, ...); "" = none
  std::string url;                              // http:// source polled every `poll`; "" = none
  Duration poll = Duration::Minutes(5);
  int column = 1;
  double scale = 1.0;  // each CSV value times this (unit conversion)
  Duration stale_after = Duration::Hours(2);
  bool given() const { return mean.has_value() || !points.empty() || !file.empty() || !url.empty(); }
};

struct SiteInfo {
  std::string name;
  std::optional<double> latitude, longitude;  // degrees
  std::optional<double> power_cap_w;
  double pue = 1.2;
  GridSeriesInfo carbon;  // gCO2/kWh
  GridSeriesInfo price;   // USD/MWh
  Duration forecast = Duration::Hours(6);
  // How the scheduler foresees the hours ahead (core/grid_forecast.h):
  // perfect = the series' own points ahead; persistence for a feed of live
  // readings alone.
  ForecastModel forecast_model = ForecastModel::kPerfect;
  // The site's network, where the operator knows it (a scenario site's
  // `fabric:`); none: the twin's default fat tree. Nodes fill its leaves
  // in name order, for the scheduler's topology-aware placement and the
  // forecast's step times.
  std::optional<FabricSpec> fabric;
  // The site's WAN link (`wan_bandwidth: 10Gbps`): checkpoint copies into
  // or out of the site go at most this fast (the slower end of a pair
  // sets a copy's rate); none: unlimited.
  std::optional<BytesPerSec> wan_bandwidth;
  // How fast the site's power may move (`power_ramp: {mw_per_s, mw_per_min}`):
  // starts are staggered and stops held to it (sched/power_ramp.h).
  PowerRampLimit power_ramp;
};

StatusOr<std::vector<SiteInfo>> ParseSiteFile(std::string_view yaml_text, const std::string& filename);

}  // namespace stargate
