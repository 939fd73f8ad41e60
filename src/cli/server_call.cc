#include "cli/server_call.h"

#include <iostream>

#include "cli/client_config.h"
#include "cli/exit_codes.h"
#include "control/net/http_client.h"

namespace stargate::cli {

int CallServerAs(const std::string& method, const std::string& path, const std::string& body,
                 const std::map<std::string, std::string>& headers, control::HttpResponse* out) {
  if (!SettingsOk()) return exit_code::kUsage;
  StatusOr<control::HttpResponse> r = control::CallServer(ServerUrl(), method, path, body, AuthHeaders(headers));
  if (!r.ok()) {
    std::cerr << "error: " << r.status().message() << "\n";
    return r.status().code() == absl::StatusCode::kUnavailable ? exit_code::kUnreachable : exit_code::kError;
  }
  if (r->status / 100 != 2) {
    std::cerr << "error: HTTP " << r->status << ": " << r->body << "\n";
    return exit_code::ForHttpStatus(r->status);
  }
  *out = *std::move(r);
  return exit_code::kOk;
}

}  // namespace stargate::cli
