#include "core/site_file.h"

#include <cctype>
#include <set>

#include "core/scenario_parser.h"
#include "core/text_fields.h"
#include "core/yaml_util.h"

namespace stargate {
namespace {

using yaml_util::Cursor;
using yaml_util::Fields;
using yaml_util::Range;

constexpr size_t kMaxSiteFileBytes = 1 << 20;
constexpr size_t kMaxInlinePoints = 100000;
constexpr std::string_view kRootKeys[] = {"sites"};
constexpr std::string_view kSiteKeys[] = {"name",   "latitude",      "longitude",      "power_cap",
                                          "pue",    "carbon",        "price",          "forecast",
                                          "fabric", "wan_bandwidth", "forecast_model", "power_ramp"};
constexpr std::string_view kSeriesKeys[] = {"mean", "points", "file", "column", "scale", "stale_after", "url", "poll"};

// http://HOST[:PORT][/PATH]: a host of letters, digits, '.', '-' (or an
// IPv4 address) and a port in [1, 65535], nothing else before the path.
bool HttpUrlOk(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme) || url.size() > 2048) return false;
  std::string_view rest = url.substr(kScheme.size());
  const std::string_view authority = rest.substr(0, rest.find('/'));
  const size_t colon = authority.find(':');
  const std::string_view host = authority.substr(0, colon);
  if (host.empty() || host.size() > 253) return false;
  for (char ch : host) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-')) return false;
  }
  if (colon == std::string_view::npos) return true;
  const std::string_view port = authority.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  int p = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9') return false;
    p = p * 10 + (ch - '0');
  }
  return p >= 1 && p <= 65535;
}

// "2026-12-03 10:00:00" or "2026-12-03T10:00:00Z" (UTC), or Unix seconds.
StatusOr<Time> ReadPointTime(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(std::string text, c.Scalar("a UTC time or Unix seconds"));
  if (const std::optional<int64_t> ns = ParseTimestampNanos(WithoutUtcSuffix(text))) return Time::FromNanos(*ns);
  return c.Error(
      fmt::format("expected a UTC time such as \"2026-12-03 10:00:00\" or Unix seconds, got {}", c.Describe()));
}

// A number (held constant) or a map describing a series.
StatusOr<GridSeriesInfo> ReadSeries(const Cursor& c, Range values) {
  GridSeriesInfo out;
  if (c.IsScalar()) {
    SG_ASSIGN_OR_RETURN(out.mean, yaml_util::ReadNumber(c, values));
    return out;
  }
  if (!c.IsMap())
    return c.Error("expected a number or a map (mean, points, file, url, column, scale, poll, stale_after)");
  SG_ASSIGN_OR_RETURN(const Fields f, c.Map(kSeriesKeys));
  if (f.Has("mean")) {
    SG_ASSIGN_OR_RETURN(out.mean, f.Number("mean", 0, values));
  }
  if (std::optional<Cursor> points = f.Get("points")) {
    SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, points->Items());
    if (items.size() > kMaxInlinePoints) return points->Error("too many points (use `file:`)");
    for (const Cursor& item : items) {
      if (!item.IsSequence() || item.node().size() != 2) return item.Error("expected [time, value]");
      SG_ASSIGN_OR_RETURN(const std::vector<Cursor> pair, item.Items());
      SG_ASSIGN_OR_RETURN(const Time at, ReadPointTime(pair[0]));
      SG_ASSIGN_OR_RETURN(const double v, yaml_util::ReadNumber(pair[1], values));
      if (!out.points.empty() && at <= out.points.back().first) return pair[0].Error("points must be in time order");
      out.points.emplace_back(at, v);
    }
  }
  SG_ASSIGN_OR_RETURN(out.file, f.String("file", ""));
  if (f.Has("file") && out.file.empty()) return f.Get("file")->Error("must not be empty");
  SG_ASSIGN_OR_RETURN(out.url, f.String("url", ""));
  if (f.Has("url") && !HttpUrlOk(out.url)) {
    return f.Get("url")->Error(
        "expected http://HOST[:PORT]/PATH with PORT in [1, 65535] (a source inside the operator's network)");
  }
  if (static_cast<int>(!out.file.empty()) + static_cast<int>(!out.points.empty()) + static_cast<int>(!out.url.empty()) >
      1) {
    return c.Error("`points`, `file` and `url` are alternatives: give one");
  }
  SG_ASSIGN_OR_RETURN(
      out.poll, f.Dur("poll", out.poll, yaml_util::DurationRange{Duration::Seconds(1), false, Duration::Days(1)}));
  if (f.Has("poll") && out.url.empty()) return c.Error("`poll` goes with `url`");
  if (!out.url.empty() && !out.mean.has_value()) {
    return c.Error("a `url` source needs a `mean`: the figure used until it answers, and when it goes stale");
  }
  SG_ASSIGN_OR_RETURN(out.column, f.Int("column", out.column, Range{1, 1000}));
  SG_ASSIGN_OR_RETURN(out.scale, f.Number("scale", out.scale, Range{0, 1e6, true}));
  if ((f.Has("column") || f.Has("scale")) && out.file.empty()) return c.Error("`column` and `scale` go with `file`");
  SG_ASSIGN_OR_RETURN(out.stale_after,
                      f.Dur("stale_after", out.stale_after, yaml_util::DurationRange{Duration::Zero(), true}));
  if (!out.given()) return c.Error("give a `mean`, `points`, a `file` or a `url`");
  return out;
}

StatusOr<std::vector<SiteInfo>> ParseRoot(const Cursor& root) {
  if (!root.IsMap()) return root.Error("expected a map with `sites:`");
  SG_ASSIGN_OR_RETURN(const Fields f, root.Map(kRootKeys));
  SG_ASSIGN_OR_RETURN(const Cursor list, f.Require("sites"));
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, list.Items());
  std::vector<SiteInfo> out;
  std::set<std::string> names;
  for (const Cursor& item : items) {
    if (!item.IsMap()) {
      return item.Error(
          "expected a map (name, latitude, longitude, power_cap, pue, carbon, price, forecast, fabric, wan_bandwidth)");
    }
    SG_ASSIGN_OR_RETURN(const Fields s, item.Map(kSiteKeys));
    SiteInfo info;
    SG_ASSIGN_OR_RETURN(const Cursor name, s.Require("name"));
    SG_ASSIGN_OR_RETURN(info.name, yaml_util::ReadString(name));
    if (info.name.empty()) return name.Error("must not be empty");
    if (!names.insert(info.name).second) return name.Error("a second site with this name");
    if (s.Has("latitude") != s.Has("longitude")) return item.Error("latitude and longitude go together");
    if (s.Has("latitude")) {
      SG_ASSIGN_OR_RETURN(info.latitude, s.Number("latitude", 0, Range{-90, 90}));
      SG_ASSIGN_OR_RETURN(info.longitude, s.Number("longitude", 0, Range{-180, 180}));
    }
    if (s.Has("power_cap")) {
      SG_ASSIGN_OR_RETURN(info.power_cap_w, s.Power("power_cap", 0, Range{0, 1e13, true}));
    }
    SG_ASSIGN_OR_RETURN(info.pue, s.Number("pue", info.pue, Range{1, 3}));
    if (s.Has("wan_bandwidth")) {
      SG_ASSIGN_OR_RETURN(const double bps, s.Bandwidth("wan_bandwidth", 0, Range{1, 1e15}));
      info.wan_bandwidth = BytesPerSec(bps);
    }
    if (std::optional<Cursor> c = s.Get("carbon")) {
      SG_ASSIGN_OR_RETURN(info.carbon, ReadSeries(*c, Range{kCarbonRange.min, kCarbonRange.max}));
    }
    if (std::optional<Cursor> c = s.Get("price")) {
      SG_ASSIGN_OR_RETURN(info.price, ReadSeries(*c, Range{kPriceRange.min, kPriceRange.max}));
    }
    if (std::optional<Cursor> c = s.Get("fabric")) {
      SG_ASSIGN_OR_RETURN(FabricSpec fabric, ParseFabricMap(*c));
      info.fabric = fabric;
    }
    SG_ASSIGN_OR_RETURN(info.forecast, s.Dur("forecast", info.forecast,
                                             yaml_util::DurationRange{Duration::Zero(), false, Duration::Hours(168)}));
    if (std::optional<Cursor> m = s.Get("forecast_model")) {
      SG_ASSIGN_OR_RETURN(info.forecast_model, ParseForecastModel(*m));
    }
    if (std::optional<Cursor> r = s.Get("power_ramp")) {
      SG_ASSIGN_OR_RETURN(info.power_ramp, ParsePowerRamp(*r));
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace

StatusOr<std::vector<SiteInfo>> ParseSiteFile(std::string_view yaml_text, const std::string& filename) {
  return yaml_util::ParseDocument<std::vector<SiteInfo>>(yaml_text, filename, "site file", kMaxSiteFileBytes,
                                                         ParseRoot);
}

}  // namespace stargate
