// File: site_file.h
// What an operator tells `stargate server --sites FILE` about its sites
// that their agents cannot: where they are, the power they may draw, and
// their grid's carbon intensity. The dashboard puts them on a map with
// their draw against the cap; /metrics exports them.
//
//   sites:
//     - name: abilene                  # as agents give it (--site)
//       latitude: 32.45
//       longitude: -99.73
//       power_cap: 1.2GW               # facility power the site may draw
//       pue: 1.15                      # facility / IT power (default 1.2)
//       carbon: 400                    # grid gCO2/kWh (a yearly mean, say)
//
// Parsed by ParseSiteFile; errors name file, line, column and field.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stargate {

struct SiteInfo {
  std::string name;
  std::optional<double> latitude, longitude;  // degrees
  std::optional<double> power_cap_w;
  double pue = 1.2;
  std::optional<double> carbon_g_per_kwh;
};

StatusOr<std::vector<SiteInfo>> ParseSiteFile(std::string_view yaml_text, const std::string& filename);

}  // namespace stargate
