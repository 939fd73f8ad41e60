#include "twin/report_svg.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "twin/report_format.h"

namespace stargate::twin::svg {
namespace {

// Layout in SVG units. The left margin fits "100,000" plus a rotated axis
// label; the legend starts under the x-axis label.
constexpr double kLeft = 74;
constexpr double kRight = 24;
constexpr double kTop = 14;
constexpr double kXLabelGap = 40;  // plot bottom -> x-axis label baseline
constexpr double kLegendGap = 64;  // plot bottom -> first legend row centre
constexpr double kLegendRow = 22;
constexpr double kCharWidth = 7.0;  // generous average glyph width at 12px
constexpr double kSwatch = 24;
constexpr double kMaxCoord = 1e6;  // keeps far-off points finite in the text
constexpr double kEps = 1e-9;

constexpr std::string_view kText = "#374151";
constexpr std::string_view kMuted = "#6b7280";
constexpr std::string_view kGrid = "#e5e7eb";
constexpr std::string_view kAxis = "#9ca3af";

// An axis' visible range in data units plus the ticks to label.
struct Range {
  double lo = 0;
  double hi = 1;
  bool log = false;
  std::vector<double> ticks;
  double step = 1;  // linear tick step; log ticks are labelled by value
};

bool Drawable(const Axis& a, double v) { return std::isfinite(v) && (a.scale == Scale::kLinear || v > 0); }

struct Extent {
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  double x_lo = kInf, x_hi = -kInf, y_lo = kInf, y_hi = -kInf;
  bool any = false;
};

Extent DataExtent(const LineChart& c) {
  Extent e;
  for (const Series& s : c.series) {
    for (const Point& p : s.points) {
      if (!Drawable(c.x, p.x) || !Drawable(c.y, p.y)) continue;
      e.x_lo = std::min(e.x_lo, p.x);
      e.x_hi = std::max(e.x_hi, p.x);
      e.y_lo = std::min(e.y_lo, p.y);
      e.y_hi = std::max(e.y_hi, p.y);
      e.any = true;
    }
  }
  return e;
}

Range LinearRange(const Axis& a, double data_lo, double data_hi, int target) {
  Range r;
  r.lo = std::isfinite(a.min) ? a.min : data_lo;
  r.hi = std::isfinite(a.max) ? a.max : data_hi;
  if (!(r.hi > r.lo)) {  // one value, or fixed bounds given backwards
    const double pad = r.lo == 0 ? 1.0 : std::fabs(r.lo) * 0.1;
    if (std::isfinite(a.max) && !std::isfinite(a.min)) {
      r.lo = r.hi - pad;
    } else {
      r.hi = r.lo + pad;
    }
  }
  r.step = NiceStep(r.hi - r.lo, target);
  if (!std::isfinite(a.min)) r.lo = std::floor(r.lo / r.step + kEps) * r.step;
  if (!std::isfinite(a.max)) r.hi = std::ceil(r.hi / r.step - kEps) * r.step;
  r.ticks = TicksBetween(r.lo, r.hi, r.step);
  return r;
}

Range LogRange(const Axis& a, double data_lo, double data_hi) {
  Range r;
  r.log = true;
  r.lo = std::isfinite(a.min) && a.min > 0 ? a.min : std::pow(10.0, std::floor(std::log10(data_lo) + kEps));
  r.hi = std::isfinite(a.max) && a.max > 0 ? a.max : std::pow(10.0, std::ceil(std::log10(data_hi) - kEps));
  if (!(r.hi > r.lo)) r.hi = r.lo * 10;
  r.ticks = LogTicks(r.lo, r.hi);
  return r;
}

Range MakeRange(const Axis& a, double data_lo, double data_hi, int target) {
  return a.scale == Scale::kLog10 ? LogRange(a, data_lo, data_hi) : LinearRange(a, data_lo, data_hi, target);
}

// Data -> SVG coordinates for one chart.
class Mapper {
 public:
  Mapper(const Range& x, const Range& y, double x0, double x1, double y0, double y1)
      : x_(x), y_(y), x0_(x0), x1_(x1), y0_(y0), y1_(y1) {}
  double X(double v) const { return Map(x_, v, x0_, x1_); }
  double Y(double v) const { return Map(y_, v, y1_, y0_); }

 private:
  static double Map(const Range& r, double v, double from, double to) {
    auto t = [&](double u) { return r.log ? std::log10(u) : u; };
    const double f = (t(v) - t(r.lo)) / (t(r.hi) - t(r.lo));
    return std::clamp(from + f * (to - from), -kMaxCoord, kMaxCoord);
  }
  Range x_, y_;
  double x0_, x1_, y0_, y1_;
};

using Out = std::back_insert_iterator<std::string>;

std::string GroupAttr(int group) { return group >= 0 ? fmt::format(" data-g=\"{}\"", group) : ""; }

std::string DashAttr(bool dashed) { return dashed ? " stroke-dasharray=\"6 4\"" : ""; }

void DrawGridAndTicks(const LineChart& c, const Range& xr, const Range& yr, const Mapper& m, double x0, double x1,
                      double y0, double y1, Out out) {
  for (double t : yr.ticks) {
    const double y = m.Y(t);
    fmt::format_to(out, "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"/>", x0, y, x1, y,
                   kGrid);
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"{}\">{}</text>", x0 - 6, y + 4,
                   kText, TickLabel(t, yr.log ? t : yr.step, c.y.format));
  }
  for (double t : xr.ticks) {
    const double x = m.X(t);
    fmt::format_to(out, "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"/>", x, y0, x, y1,
                   kGrid);
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"{}\">{}</text>", x, y1 + 16,
                   kText, TickLabel(t, xr.log ? t : xr.step, c.x.format));
  }
  fmt::format_to(out, "<path d=\"M{:.1f} {:.1f}V{:.1f}H{:.1f}\" fill=\"none\" stroke=\"{}\"/>", x0, y0, y1, x1, kAxis);
}

void DrawAxisLabels(const LineChart& c, double x0, double x1, double y0, double y1, Out out) {
  fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"{}\">{}</text>", (x0 + x1) / 2,
                 y1 + kXLabelGap - 4, kText, report::EscapeXml(c.x.label));
  fmt::format_to(out,
                 "<text transform=\"translate(16 {:.1f}) rotate(-90)\" text-anchor=\"middle\" "
                 "fill=\"{}\">{}</text>",
                 (y0 + y1) / 2, kText, report::EscapeXml(c.y.label));
}

void DrawSeries(const LineChart& c, const Series& s, const Mapper& m, Out out) {
  std::string d;
  bool pen_down = false;
  for (const Point& p : s.points) {
    if (!Drawable(c.x, p.x) || !Drawable(c.y, p.y)) {
      pen_down = false;  // a gap in the data is a gap in the line
      continue;
    }
    if (pen_down && s.step) {
      fmt::format_to(std::back_inserter(d), "H{:.1f}V{:.1f}", m.X(p.x), m.Y(p.y));
    } else {
      fmt::format_to(std::back_inserter(d), "{}{:.1f} {:.1f}", pen_down ? "L" : "M", m.X(p.x), m.Y(p.y));
    }
    pen_down = true;
  }
  const std::string title = report::EscapeXml(s.label);
  if (!d.empty()) {
    fmt::format_to(out,
                   "<path class=\"ln\"{} d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" "
                   "stroke-linejoin=\"round\"{}><title>{}</title></path>",
                   GroupAttr(s.group), d, s.color, DashAttr(s.dashed), title);
  }
  if (!s.markers) return;
  fmt::format_to(out, "<g class=\"ln\"{} fill=\"{}\"><title>{}</title>", GroupAttr(s.group), s.color, title);
  for (const Point& p : s.points) {
    if (!Drawable(c.x, p.x) || !Drawable(c.y, p.y)) continue;
    fmt::format_to(out, "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\"/>", m.X(p.x), m.Y(p.y));
  }
  fmt::format_to(out, "</g>");
}

// Where each legend entry goes: left to right, wrapping at the plot width.
struct LegendSlot {
  const Series* series;
  double x;
  int row;
};

std::vector<LegendSlot> LayoutLegend(const LineChart& c, double x0, double x1) {
  std::vector<LegendSlot> slots;
  double x = x0;
  int row = 0;
  for (const Series& s : c.series) {
    if (!s.in_legend) continue;
    const double w = kSwatch + 6 + static_cast<double>(s.label.size()) * kCharWidth + 18;
    if (x + w > x1 && x > x0) {
      ++row;
      x = x0;
    }
    slots.push_back({&s, x, row});
    x += w;
  }
  return slots;
}

void DrawLegend(const std::vector<LegendSlot>& slots, double top, Out out) {
  for (const LegendSlot& slot : slots) {
    const Series& s = *slot.series;
    fmt::format_to(out, "<g class=\"lg\"{} transform=\"translate({:.1f} {:.1f})\">", GroupAttr(s.group), slot.x,
                   top + slot.row * kLegendRow);
    fmt::format_to(out, "<line x1=\"0\" y1=\"0\" x2=\"{}\" y2=\"0\" stroke=\"{}\" stroke-width=\"3\"{}/>", kSwatch,
                   s.color, DashAttr(s.dashed));
    if (s.markers) {
      fmt::format_to(out, "<circle cx=\"{}\" cy=\"0\" r=\"3.5\" fill=\"{}\"/>", kSwatch / 2, s.color);
    }
    fmt::format_to(out, "<text x=\"{}\" y=\"4\" fill=\"{}\">{}</text></g>", kSwatch + 6, kText,
                   report::EscapeXml(s.label));
  }
}

void DrawEmpty(const LineChart& c, double x0, double x1, double y0, double y1, Out out) {
  fmt::format_to(out,
                 "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#f9fafb\" "
                 "stroke=\"{}\"/>",
                 x0, y0, x1 - x0, y1 - y0, kGrid);
  fmt::format_to(out,
                 "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"15\" "
                 "fill=\"{}\">{}</text>",
                 (x0 + x1) / 2, (y0 + y1) / 2, kMuted, report::EscapeXml(c.empty_message));
}

}  // namespace

double NiceStep(double span, int target) {
  if (!(span > 0) || !std::isfinite(span)) return 1.0;
  const double raw = span / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double n = raw / magnitude;
  const double nice = n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10;
  return nice * magnitude;
}

std::vector<double> TicksBetween(double lo, double hi, double step) {
  std::vector<double> ticks;
  if (!(step > 0) || !(hi >= lo)) return ticks;
  const double first = std::ceil(lo / step - kEps);
  const double last = std::floor(hi / step + kEps);
  for (double k = first; k <= last && ticks.size() < 1000; k += 1) {
    const double v = k * step;
    ticks.push_back(v == 0 ? 0.0 : v);  // no "-0"
  }
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi > lo)) return ticks;
  const bool dense = std::log10(hi / lo) <= 3 + kEps;
  const int first = static_cast<int>(std::floor(std::log10(lo) + kEps));
  const int last = static_cast<int>(std::ceil(std::log10(hi) - kEps));
  for (int e = first; e <= last; ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1.0 && !dense) continue;
      const double v = m * std::pow(10.0, e);
      if (v >= lo * (1 - kEps) && v <= hi * (1 + kEps)) ticks.push_back(v);
    }
  }
  return ticks;
}

std::string TickLabel(double v, double step, Format format) {
  if (format == Format::kPercent) {
    v *= 100;
    step *= 100;
  }
  const int decimals = step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - kEps))) : 0;
  std::string text = decimals == 0 && std::fabs(v) >= 999.5 ? report::Readable(v) : report::Fixed(v, decimals);
  if (format == Format::kPercent) text += "%";
  return text;
}

std::string PaletteColor(size_t i) {
  // D3's category10, reordered so neighbours contrast.
  static constexpr std::array<std::string_view, 10> kPalette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                                                "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
  if (i < kPalette.size()) return std::string(kPalette[i]);
  const double hue = std::fmod(static_cast<double>(i) * 137.508, 360.0);
  return fmt::format("hsl({:.0f},65%,40%)", hue);
}

std::string RenderLineChart(const LineChart& c) {
  const Extent e = DataExtent(c);
  const double x0 = kLeft, x1 = c.width - kRight;
  // An empty panel only needs room for its message.
  const double y0 = kTop, y1 = kTop + (e.any ? c.plot_height : std::min(c.plot_height, 90.0));
  const std::vector<LegendSlot> legend = e.any ? LayoutLegend(c, x0, x1) : std::vector<LegendSlot>{};
  const int rows = legend.empty() ? 0 : legend.back().row + 1;
  const double below = !e.any ? 10 : rows > 0 ? kLegendGap + (rows - 1) * kLegendRow + 14 : kXLabelGap + 10;
  const double height = y1 + below;

  std::string svg;
  auto out = std::back_inserter(svg);
  fmt::format_to(out,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"{}\" "
                 "viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" aria-label=\"{}\" "
                 "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\" "
                 "font-size=\"12\">",
                 report::EscapeXml(c.id), c.width, height, report::EscapeXml(c.title));
  if (!e.any) {
    DrawEmpty(c, x0, x1, y0, y1, out);
    svg += "</svg>";
    return svg;
  }
  const Range xr = MakeRange(c.x, e.x_lo, e.x_hi, static_cast<int>((x1 - x0) / 110));
  const Range yr = MakeRange(c.y, e.y_lo, e.y_hi, 5);
  const Mapper m(xr, yr, x0, x1, y0, y1);
  DrawGridAndTicks(c, xr, yr, m, x0, x1, y0, y1, out);
  DrawAxisLabels(c, x0, x1, y0, y1, out);
  const std::string clip = report::EscapeXml(c.id) + "-clip";
  fmt::format_to(out,
                 "<clipPath id=\"{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
                 "height=\"{:.1f}\"/></clipPath><g clip-path=\"url(#{})\">",
                 clip, x0, y0 - 4, x1 - x0 + 4, y1 - y0 + 8, clip);
  for (const Series& s : c.series) DrawSeries(c, s, m, out);
  svg += "</g>";
  DrawLegend(legend, y1 + kLegendGap, out);
  svg += "</svg>";
  return svg;
}

}  // namespace stargate::twin::svg
