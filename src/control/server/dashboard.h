// File: dashboard.h
// The web dashboard's files (web/ in the source tree: index.html, app.js,
// style.css, and Preact, htm, uPlot, d3-geo, topojson-client and
// world-atlas from web/node_modules), read into memory for HttpServer to
// serve at /ui/. It polls the REST API; nothing else serves it.
//
// By default they come from the copies built into the binary
// (assets/embedded_files.h), so the dashboard works wherever `stargate`
// is installed; `--web-dir` reads them from disk instead, for whoever
// edits the pages.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "control/net/http_server.h"
#include "core/status.h"

namespace stargate::control {

// Reads one dashboard file by its path under web/ ("app.js",
// "node_modules/uplot/dist/uPlot.esm.js").
using WebFileReader = std::function<StatusOr<std::string>(std::string_view path)>;

// From a directory laid out as web/ is.
WebFileReader WebDirReader(std::string dir);

// From the copies built into the binary.
WebFileReader EmbeddedWebReader();

// The files by URL path; NotFound naming the first file missing.
StatusOr<std::map<std::string, StaticFile>> LoadDashboard(const WebFileReader& read);

}  // namespace stargate::control
