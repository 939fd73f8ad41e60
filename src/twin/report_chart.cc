#include "twin/report_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

namespace stargate::twin::chart {
namespace {

bool Drawable(const Chart& c, const Point& p) {
  return std::isfinite(p.x) && std::isfinite(p.y) && (c.x.scale != Scale::kLog10 || p.x > 0) &&
         (c.y.scale != Scale::kLog10 || p.y > 0);
}

// A JSON string; "<", ">" and "&" as \u escapes so no text can close the
// <script> element the JSON sits in.
void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      fmt::format_to(std::back_inserter(*out), "\\u{:04x}", c);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

void AppendNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    *out += "null";
    return;
  }
  if (v == 0) v = 0;  // no "-0"
  fmt::format_to(std::back_inserter(*out), "{:.6g}", v);
}

void AppendAxis(const Axis& a, std::string* out) {
  *out += "{\"label\":";
  AppendString(a.label, out);
  fmt::format_to(std::back_inserter(*out), ",\"log\":{},\"pct\":{},\"min\":", a.scale == Scale::kLog10,
                 a.format == Format::kPercent);
  AppendNumber(a.min, out);
  *out += ",\"max\":";
  AppendNumber(a.max, out);
  *out += "}";
}

}  // namespace

bool HasData(const Chart& c) {
  for (const Series& s : c.series) {
    for (const Point& p : s.points) {
      if (Drawable(c, p)) return true;
    }
  }
  return false;
}

std::string ChartJson(const Chart& c) {
  // The union of every series' x, sorted; x values a series repeats (a
  // CDF's ties) keep its last y.
  std::vector<double> xs;
  for (const Series& s : c.series) {
    for (const Point& p : s.points) {
      if (Drawable(c, p)) xs.push_back(p.x);
    }
  }
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());

  std::string out;
  out += "{\"id\":";
  AppendString(c.id, &out);
  out += ",\"title\":";
  AppendString(c.title, &out);
  out += ",\"empty\":";
  AppendString(c.empty_message, &out);
  out += ",\"x\":";
  AppendAxis(c.x, &out);
  out += ",\"y\":";
  AppendAxis(c.y, &out);
  out += ",\"series\":[";
  for (size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    if (i > 0) out += ",";
    out += "{\"label\":";
    AppendString(s.label, &out);
    out += ",\"color\":";
    AppendString(s.color, &out);
    fmt::format_to(std::back_inserter(out), ",\"dash\":{},\"markers\":{},\"step\":{}}}", s.dashed, s.markers, s.step);
  }
  out += "],\"data\":[[";
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0) out += ",";
    AppendNumber(xs[i], &out);
  }
  out += "]";
  for (const Series& s : c.series) {
    std::vector<double> ys(xs.size(), std::numeric_limits<double>::quiet_NaN());
    for (const Point& p : s.points) {
      if (!Drawable(c, p)) continue;
      ys[static_cast<size_t>(std::lower_bound(xs.begin(), xs.end(), p.x) - xs.begin())] = p.y;
    }
    out += ",[";
    for (size_t i = 0; i < ys.size(); ++i) {
      if (i > 0) out += ",";
      AppendNumber(ys[i], &out);
    }
    out += "]";
  }
  out += "]}";
  return out;
}

std::string PaletteColor(size_t i) {
  // D3's category10, reordered so neighbours contrast.
  static constexpr std::array<std::string_view, 10> kPalette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                                                "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
  if (i < kPalette.size()) return std::string(kPalette[i]);
  const double hue = std::fmod(static_cast<double>(i) * 137.508, 360.0);
  return fmt::format("hsl({:.0f},65%,40%)", hue);
}

}  // namespace stargate::twin::chart
