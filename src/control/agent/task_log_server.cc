#include "control/agent/task_log_server.h"

#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <thread>

namespace stargate::control {

struct TaskLogServer::Impl {
  httplib::Server http;
  std::thread thread;
};

TaskLogServer::TaskLogServer() : impl_(std::make_unique<Impl>()) {}

TaskLogServer::~TaskLogServer() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int TaskLogServer::Start(const std::string& address, const std::string& dir, const std::string& token) {
  const std::string base = dir + "/";
  const std::string want = "Bearer " + token;
  impl_->http.Get(R"(/logs/(job-[0-9]+-attempt-[0-9]+\.log))",
                  [base, want](const httplib::Request& req, httplib::Response& res) {
                    // Constant-time compare: the token is the only guard.
                    const std::string got = req.get_header_value("Authorization");
                    unsigned diff = got.size() != want.size();
                    for (size_t i = 0; i < std::min(got.size(), want.size()); ++i)
                      diff |= static_cast<unsigned>(got[i] ^ want[i]);
                    if (diff != 0) {
                      res.status = 401;
                      return;
                    }
                    std::ifstream f(base + req.matches[1].str(), std::ios::binary);
                    if (!f) {
                      res.status = 404;
                      return;
                    }
                    f.seekg(0, std::ios::end);
                    const int64_t size = f.tellg();
                    int64_t offset = 0;
                    if (req.has_param("offset"))
                      offset = std::clamp<int64_t>(std::atoll(req.get_param_value("offset").c_str()), 0, size);
                    const int64_t n = std::min<int64_t>(size - offset, int64_t{1} << 20);
                    std::string chunk(static_cast<size_t>(n), '\0');
                    f.seekg(offset);
                    f.read(chunk.data(), n);
                    res.set_header("X-Next-Offset", std::to_string(offset + n));
                    res.set_content(chunk, "text/plain");
                  });
  const int port = impl_->http.bind_to_any_port(address);
  if (port <= 0) return 0;
  impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
  return port;
}

}  // namespace stargate::control
