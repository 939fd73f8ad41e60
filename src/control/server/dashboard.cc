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
  };
  std::map<std::string, StaticFile> files;
  for (const auto& [url, rel] : kFiles) {
    const std::string path = web_dir + "/" + rel;
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(fmt::format("dashboard: cannot read {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string name(rel);
    const char* type = name.ends_with(".js")    ? "text/javascript; charset=utf-8"
                       : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                : "text/html; charset=utf-8";
    files[url] = {type, ss.str()};
  }
  files["/ui/index.html"] = files["/ui/"];
  return files;
}

}  // namespace stargate::control
