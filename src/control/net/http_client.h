// File: http_client.h
// One request to a Stargate server's REST API, for the CLI, the serve
// controller and tests. Thread-safe (a connection per call).
#pragma once

#include <map>
#include <string>

#include "control/net/http_types.h"
#include "core/status.h"

namespace stargate::control {

// `base_url` is "http://127.0.0.1:8470"; GET, POST (the body as YAML) or
// DELETE.
// Sends "Authorization: Bearer $STARGATE_TOKEN" when that is set and the
// caller gave no Authorization header. Unavailable (naming the URL) when
// it cannot connect.
StatusOr<HttpResponse> CallServer(const std::string& base_url, const std::string& method, const std::string& path,
                                  const std::string& body = "", const std::map<std::string, std::string>& headers = {});

}  // namespace stargate::control
