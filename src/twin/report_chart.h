// File: report_chart.h
// A line chart as data, and its JSON for the report's chart library
// (uPlot, inlined into report.html; report_html.h). The twin decides what
// each chart shows (report_charts.h); the page's script only draws.
//
// uPlot wants one x array per chart with every series aligned on it, so
// ChartJson merges the series' x values into one sorted array and gives a
// series null where it has no point of its own (the script spans those
// gaps). Numbers are written with 6 significant digits: same chart, same
// bytes, and a year of hourly lines stays small. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace stargate::twin::chart {

struct Point {
  double x = 0;
  double y = 0;
};

struct Series {
  std::string label;          // legend text
  std::string color;          // a CSS colour, e.g. from PaletteColor()
  std::vector<Point> points;  // x ascending; a point with a non-finite value is left out
  bool dashed = false;
  bool markers = false;  // a dot on each point, for short or binned series
  bool step = false;     // a staircase: for CDFs
};

enum class Scale { kLinear, kLog10 };
enum class Format { kNumber, kPercent };  // kPercent: 0.25 is labelled "25%"

struct Axis {
  std::string label;
  Scale scale = Scale::kLinear;
  Format format = Format::kNumber;
  // Fixed bounds; NaN means "from the data".
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

struct Chart {
  std::string id;     // unique within the page
  std::string title;  // shown above the plot
  Axis x;
  Axis y;
  std::vector<Series> series;
  std::string empty_message = "No data";  // shown instead of a plot when no point can be drawn
};

// Whether any series has a point the chart can draw (finite, and > 0 on a
// log axis).
bool HasData(const Chart& chart);

// The chart as one JSON object: {"id", "title", "x": {label, log, pct,
// min, max}, "y": {...}, "series": [{label, color, dash, markers, step}],
// "data": [[x...], [y of series 0...], ...], "empty"}. Text is escaped
// so the object can sit inside a <script> element ("<" as \u003c).
std::string ChartJson(const Chart& chart);

// Colour number `i` of a fixed palette: ten well-separated colours, then
// hues stepped by the golden angle so 30 lines still differ.
std::string PaletteColor(size_t i);

}  // namespace stargate::twin::chart
