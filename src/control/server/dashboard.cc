#include "control/server/dashboard.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "assets/embedded_files.h"

namespace stargate::control {

WebFileReader WebDirReader(std::string dir) {
  return [dir = std::move(dir)](std::string_view rel) -> StatusOr<std::string> {
    const std::string path = fmt::format("{}/{}", dir, rel);
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(fmt::format("cannot read {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
}

WebFileReader EmbeddedWebReader() {
  return [](std::string_view rel) -> StatusOr<std::string> {
    const std::optional<std::string_view> bytes = assets::EmbeddedFile(rel);
    if (!bytes)
      return absl::NotFoundError(fmt::format("{} was not built in (web/node_modules missing at build?)", rel));
    return std::string(*bytes);
  };
}

StatusOr<std::map<std::string, StaticFile>> LoadDashboard(const WebFileReader& read) {
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
    StatusOr<std::string> body = read(rel);
    if (!body.ok()) return absl::NotFoundError(fmt::format("dashboard: {}", std::string(body.status().message())));
    const std::string_view name(rel);
    const char* type = name.ends_with(".js")     ? "text/javascript; charset=utf-8"
                       : name.ends_with(".css")  ? "text/css; charset=utf-8"
                       : name.ends_with(".json") ? "application/json"
                                                 : "text/html; charset=utf-8";
    files[url] = {type, std::move(body).value()};
  }
  files["/ui/index.html"] = files["/ui/"];
  return files;
}

}  // namespace stargate::control
