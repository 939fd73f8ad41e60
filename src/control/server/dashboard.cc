#include "control/server/dashboard.h"

#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>

namespace stargate::control {

StatusOr<std::map<std::string, StaticFile>> LoadDashboard(const std::string& web_dir) {
  const std::pair<const char*, const char*> kFiles[] = {
      {"/ui/", "index.html"},
      {"/ui/app.js", "app.js"},
      {"/ui/style.css", "style.css"},
      {"/ui/vendor/preact/preact.module.js", "node_modules/preact/dist/preact.module.js"},
      {"/ui/vendor/preact-hooks/hooks.module.js", "node_modules/preact/hooks/dist/hooks.module.js"},
      {"/ui/vendor/htm/htm.module.js", "node_modules/htm/dist/htm.module.js"},
      // Charts (uPlot) and the world map (d3-geo over world-atlas's land,
      // through topojson-client): npm packages, pinned in package-lock.json.
      {"/ui/vendor/uplot/uPlot.esm.js", "node_modules/uplot/dist/uPlot.esm.js"},
      {"/ui/vendor/uplot/uPlot.min.css", "node_modules/uplot/dist/uPlot.min.css"},
      {"/ui/vendor/d3-array/d3-array.min.js", "node_modules/d3-array/dist/d3-array.min.js"},
      {"/ui/vendor/d3-geo/d3-geo.min.js", "node_modules/d3-geo/dist/d3-geo.min.js"},
      {"/ui/vendor/topojson-client/topojson-client.min.js", "node_modules/topojson-client/dist/topojson-client.min.js"},
      {"/ui/vendor/world-atlas/land-110m.json", "node_modules/world-atlas/land-110m.json"},
  };
  std::map<std::string, StaticFile> files;
  for (const auto& [url, rel] : kFiles) {
    const std::string path = web_dir + "/" + rel;
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(fmt::format("dashboard: cannot read {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string name(rel);
    const char* type = name.ends_with(".js")     ? "text/javascript; charset=utf-8"
                       : name.ends_with(".css")  ? "text/css; charset=utf-8"
                       : name.ends_with(".json") ? "application/json"
                                                 : "text/html; charset=utf-8";
    files[url] = {type, ss.str()};
  }
  files["/ui/index.html"] = files["/ui/"];
  return files;
}

}  // namespace stargate::control
