// File: report_svg.h
// A small, dependency-free SVG line-chart writer for the HTML report
// (report_html.h). One function draws every chart in the report: axes with
// 1-2-5 ticks (or decades on a log axis), grid, one path per series, optional
// point markers, dashed lines, and a legend below the plot that wraps onto as
// many rows as it needs.
//
// Output is deterministic: coordinates are written with one decimal, labels
// are XML-escaped, and nothing depends on locale, clock or hash order. The
// SVG carries class names ("ln", "lg", data-g) that the report's inline
// script uses to highlight a series when its legend entry is hovered; it
// reads fine without the script. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace stargate::twin::svg {

struct Point {
  double x = 0;
  double y = 0;
};

struct Series {
  std::string label;          // legend text and hover title
  std::string color;          // any CSS colour, e.g. from PaletteColor()
  std::vector<Point> points;  // drawn in order; a non-finite point breaks the line
  bool dashed = false;
  bool markers = false;   // a dot on each point, for short or binned series
  bool step = false;      // draw as a staircase (horizontal, then vertical): for CDFs
  bool in_legend = true;  // a legend entry with no points is a pure key ("dashed: cap")
  int group = -1;         // series sharing a group >= 0 highlight together
};

enum class Scale { kLinear, kLog10 };
enum class Format { kNumber, kPercent };  // kPercent: 0.25 is labelled "25%"

struct Axis {
  std::string label;
  Scale scale = Scale::kLinear;
  Format format = Format::kNumber;
  // Fixed bounds; NaN means "from the data". A linear bound taken from the
  // data is widened to the next tick; a log bound to the next decade.
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

struct LineChart {
  std::string id;     // unique within the page; prefixes the clip-path id
  std::string title;  // accessible name (aria-label)
  Axis x;
  Axis y;
  std::vector<Series> series;
  std::string empty_message = "No data";  // shown when no series has a drawable point
  double width = 1080;                    // in SVG units; the page scales it to fit
  double plot_height = 300;
};

// The chart as one <svg> element (with the SVG xmlns so it also works when
// copied out of the page). Never fails: degenerate ranges are widened and
// points a log axis cannot show (<= 0) are skipped.
std::string RenderLineChart(const LineChart& chart);

// A "nice" tick step (1, 2 or 5 times a power of ten) that splits `span`
// into about `target` intervals. `span` <= 0 gives 1.
double NiceStep(double span, int target);

// Multiples of `step` inside [lo, hi] (with a little tolerance for rounding).
std::vector<double> TicksBetween(double lo, double hi, double step);

// Log-axis ticks in [lo, hi]: every decade, plus 2x and 5x when the range
// spans at most three decades so short ranges still get labels.
std::vector<double> LogTicks(double lo, double hi);

// A tick label with just enough decimals for `step`: "0.5", "10", "12,000";
// kPercent labels 0.2 as "20%".
std::string TickLabel(double v, double step, Format format);

// Colour number `i` of a fixed palette: ten well-separated colours, then
// hues stepped by the golden angle so 30 sites still differ.
std::string PaletteColor(size_t i);

}  // namespace stargate::twin::svg
