// File: httplib_bind.h
// Binding a cpp-httplib server, shared by the REST server and the serving
// router. Include only from .cc files that already use httplib.
#pragma once

#include <httplib.h>

#include <string>

#include <fmt/format.h>

#include "core/status.h"

namespace stargate::control {

// Binds `host`:`port` (0 = any free port); the port bound, or Unavailable.
// Never with SO_REUSEPORT (httplib's default sets it): a second process
// on a bound port must fail, not share it.
inline StatusOr<int> BindHttplib(httplib::Server& s, const std::string& host, int port) {
  s.set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
  });
  if (port == 0) {
    const int bound = s.bind_to_any_port(host);
    if (bound < 0) return absl::UnavailableError(fmt::format("cannot listen on {}:any", host));
    return bound;
  }
  if (!s.bind_to_port(host, port)) {
    return absl::UnavailableError(
        fmt::format("cannot listen on {}:{}: address in use (or not an address of this host)", host, port));
  }
  return port;
}

}  // namespace stargate::control
