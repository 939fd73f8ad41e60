// File: dashboard.h
// The web dashboard's files (web/ in the source tree: index.html, app.js,
// style.css, and Preact and htm from web/node_modules, which
// scripts/install-deps.sh installs), read into memory for HttpServer to
// serve at /ui/. It polls the REST API; nothing else serves it.
#pragma once

#include <map>
#include <string>

#include "control/net/http_server.h"
#include "core/status.h"

namespace stargate::control {

// The files by URL path; NotFound naming the first file missing.
StatusOr<std::map<std::string, StaticFile>> LoadDashboard(const std::string& web_dir);

}  // namespace stargate::control
