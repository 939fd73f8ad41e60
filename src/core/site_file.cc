#include "core/site_file.h"

#include <set>

#include "core/yaml_util.h"

namespace stargate {
namespace {

using yaml_util::Cursor;
using yaml_util::Fields;
using yaml_util::Range;

constexpr size_t kMaxSiteFileBytes = 1 << 20;
constexpr std::string_view kRootKeys[] = {"sites"};
constexpr std::string_view kSiteKeys[] = {"name", "latitude", "longitude", "power_cap", "pue", "carbon"};

StatusOr<std::vector<SiteInfo>> ParseRoot(const Cursor& root) {
  if (!root.IsMap()) return root.Error("expected a map with `sites:`");
  SG_ASSIGN_OR_RETURN(const Fields f, root.Map(kRootKeys));
  SG_ASSIGN_OR_RETURN(const Cursor list, f.Require("sites"));
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, list.Items());
  std::vector<SiteInfo> out;
  std::set<std::string> names;
  for (const Cursor& item : items) {
    if (!item.IsMap()) return item.Error("expected a map (name, latitude, longitude, power_cap, pue, carbon)");
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
    if (s.Has("carbon")) {
      SG_ASSIGN_OR_RETURN(info.carbon_g_per_kwh, s.Number("carbon", 0, Range{0, 2000}));
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
