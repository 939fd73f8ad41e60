#include "cli/server_call.h"

#include <iostream>

#include "cli/client_config.h"
#include "cli/exit_codes.h"
#include "control/net/http_client.h"

using nlohmann::json;

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
    // The API's error body names what is wrong; else the body as it came.
    const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object() &&
        j["error"].value("message", json()).is_string()) {
      std::cerr << "error: " << j["error"]["message"].get<std::string>() << " (HTTP " << r->status << ")\n";
    } else {
      std::cerr << "error: HTTP " << r->status << ": " << r->body << "\n";
    }
    return exit_code::ForHttpStatus(r->status);
  }
  *out = *std::move(r);
  return exit_code::kOk;
}

std::optional<nlohmann::json> CallServerJson(const std::string& method, const std::string& path,
                                             const std::string& body, int* code) {
  int ignored = 0;
  int& exit = code != nullptr ? *code : ignored;
  control::HttpResponse r;
  exit = CallServerAs(method, path, body, {{"Content-Type", "application/json"}}, &r);
  if (exit != exit_code::kOk) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    std::cerr << "error: the server's answer is not JSON\n";
    exit = exit_code::kError;
    return std::nullopt;
  }
  return j;
}

}  // namespace stargate::cli
