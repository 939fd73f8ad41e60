#include "control/net/http_client.h"

#include <cstdlib>

#include <httplib.h>

#include <fmt/format.h>

namespace stargate::control {

StatusOr<HttpResponse> CallServer(const std::string& base_url, const std::string& method, const std::string& path,
                                  const std::string& body, const std::map<std::string, std::string>& headers) {
  httplib::Client client(base_url);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  // The CLI's credentials: $STARGATE_TOKEN, unless the caller gave its own.
  if (const char* token = std::getenv("STARGATE_TOKEN");
      token != nullptr && *token != '\0' && !headers.count("Authorization")) {
    h.emplace("Authorization", std::string("Bearer ") + token);
  }
  if (method != "GET" && method != "POST" && method != "DELETE") {
    return absl::InvalidArgumentError(fmt::format("unsupported method {}", method));
  }
  httplib::Result r = method == "GET"    ? client.Get(path, h)
                      : method == "POST" ? client.Post(path, h, body, "application/yaml")
                                         : client.Delete(path, h);
  if (!r) {
    return absl::UnavailableError(
        fmt::format("cannot reach the server at {}: {}", base_url, httplib::to_string(r.error())));
  }
  return HttpResponse{r->status, r->body};
}

}  // namespace stargate::control
