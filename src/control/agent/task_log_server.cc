#include "control/agent/task_log_server.h"

#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "control/agent/checkpoint_store.h"
#include "control/net/digest.h"

namespace stargate::control {
namespace {

namespace fs = std::filesystem;

// `dir` names a checkpoint directory under `root` (both absolute, normal).
bool IsCheckpointDir(const std::string& root, const std::string& dir) {
  if (root.empty() || !dir.starts_with(root + "/")) return false;
  const std::string rel = dir.substr(root.size() + 1);
  if (!SafeRelative(rel)) return false;
  const size_t slash = rel.rfind('/');
  return StepOfDirName(slash == std::string::npos ? rel : rel.substr(slash + 1)).has_value();
}

// The file `path` names in checkpoint directory `dir`, when it is a
// regular file that stays inside `dir` with links resolved and has no
// other name (a hard link the tenant made to a file it may not read
// would otherwise be served to the copy at another site).
std::optional<fs::path> FileInside(const std::string& dir, const std::string& path) {
  if (!SafeRelative(path)) return std::nullopt;
  std::error_code ec;
  const fs::path base = fs::canonical(dir, ec);
  if (ec) return std::nullopt;
  const fs::path file = fs::canonical(base / path, ec);
  if (ec || !fs::is_regular_file(file, ec) || fs::hard_link_count(file, ec) != 1 || ec) return std::nullopt;
  const std::string b = base.string() + "/";
  if (!file.string().starts_with(b)) return std::nullopt;
  return file;
}

}  // namespace

struct TaskLogServer::Impl {
  httplib::Server http;
  std::thread thread;
};

TaskLogServer::TaskLogServer() : impl_(std::make_unique<Impl>()) {}

TaskLogServer::~TaskLogServer() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int TaskLogServer::Start(const std::string& address, const std::string& dir, const std::string& token,
                         const std::string& checkpoint_root) {
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
  if (!checkpoint_root.empty()) {
    impl_->http.Get("/checkpoints/file", [checkpoint_root, token](const httplib::Request& req, httplib::Response& res) {
      const std::string dir = req.get_param_value("dir");
      const std::string got = req.get_header_value("Authorization");
      if (!IsCheckpointDir(checkpoint_root, dir) ||
          !ConstantTimeEquals(got, "Bearer " + CheckpointTicket(token, dir))) {
        res.status = 401;
        return;
      }
      const std::optional<fs::path> file = FileInside(dir, req.get_param_value("path"));
      std::error_code ec;
      const uint64_t size = file.has_value() ? fs::file_size(*file, ec) : 0;
      auto in = file.has_value() ? std::make_shared<std::ifstream>(*file, std::ios::binary) : nullptr;
      if (!file.has_value() || ec || !*in) {
        res.status = 404;
        return;
      }
      // httplib answers a Range header from the provider (206, the slice).
      res.set_content_provider(size, "application/octet-stream",
                               [in](size_t offset, size_t length, httplib::DataSink& sink) {
                                 std::string buf(std::min<size_t>(length, 1 << 16), '\0');
                                 in->clear();
                                 in->seekg(static_cast<std::streamoff>(offset));
                                 in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                                 const auto n = static_cast<size_t>(in->gcount());
                                 if (n == 0) return false;
                                 return sink.write(buf.data(), n);
                               });
    });
  }
  const int port = impl_->http.bind_to_any_port(address);
  if (port <= 0) return 0;
  impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
  return port;
}

}  // namespace stargate::control
