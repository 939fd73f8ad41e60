// File: server_call.h
// One request to the server from a command of the full binary
// (control::CallServer), with the client settings (client_config.h: the
// server URL and token resolved from flags, environment and context).
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "control/net/http_types.h"

namespace stargate::cli {

// On a 2xx answer puts it in *out and returns kOk; otherwise says why on
// stderr (an unusable context, no answer, the status and body) and returns
// the exit code (exit_codes.h).
int CallServerAs(const std::string& method, const std::string& path, const std::string& body,
                 const std::map<std::string, std::string>& headers, control::HttpResponse* out);

// A JSON call: its answer, or nullopt after saying why (*code, when given:
// the exit code).
std::optional<nlohmann::json> CallServerJson(const std::string& method, const std::string& path,
                                             const std::string& body = "", int* code = nullptr);

}  // namespace stargate::cli
