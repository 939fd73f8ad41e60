#include "control/agent/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/net/digest.h"

namespace stargate::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kReadChunk = 1 << 20;

bool IsHex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool SafeRelative(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.find('\0') != std::string_view::npos) return false;
  size_t from = 0;
  while (from <= p.size()) {
    const size_t to = std::min(p.find('/', from), p.size());
    const std::string_view part = p.substr(from, to - from);
    if (part.empty() || part == "." || part == "..") return false;
    from = to + 1;
  }
  return true;
}

StatusOr<uint64_t> HashInto(const fs::path& path, Sha256Stream* sha, uint64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("{}: cannot read", path.string()));
  std::string buf(kReadChunk, '\0');
  uint64_t size = 0;
  while (in && size < limit) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(buf.size(), limit - size)));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    sha->Update(std::string_view(buf.data(), got));
    size += got;
  }
  if (in.bad()) return absl::DataLossError(fmt::format("{}: read error", path.string()));
  return size;
}

namespace {

// Size and lower-case hex SHA-256 of a whole file.
StatusOr<std::pair<uint64_t, std::string>> HashFile(const fs::path& path) {
  Sha256Stream sha;
  SG_ASSIGN_OR_RETURN(const uint64_t size, HashInto(path, &sha));
  return std::make_pair(size, sha.Hex());
}

}  // namespace

Status FsyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return absl::UnavailableError(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::DataLossError(fmt::format("fsync {}: {}", path.string(), std::strerror(errno)));
  return Status();
}

std::string ManifestJson(const CheckpointManifest& m) {
  json files = json::array();
  for (const CheckpointFile& f : m.files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  return json{{"format", kCheckpointFormat}, {"step", m.step}, {"time_unix_ms", m.time_unix_ms}, {"files", files}}.dump(
             1) +
         "\n";
}

StatusOr<CheckpointManifest> ParseManifest(std::string_view text, std::string_view where) {
  auto bad = [&](std::string_view field, std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("{}: {}: {}", where, field, what));
  };
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("manifest", "not a JSON object");
  if (j.value("format", std::string()) != kCheckpointFormat) {
    return bad("format", fmt::format("expected \"{}\"", kCheckpointFormat));
  }
  CheckpointManifest m;
  if (!j.contains("step") || !j["step"].is_number_integer() || j["step"].get<int64_t>() < 0) {
    return bad("step", "expected a whole number >= 0");
  }
  m.step = j["step"].get<int64_t>();
  if (!j.contains("time_unix_ms") || !j["time_unix_ms"].is_number_integer()) {
    return bad("time_unix_ms", "expected a whole number");
  }
  m.time_unix_ms = j["time_unix_ms"].get<int64_t>();
  if (!j.contains("files") || !j["files"].is_array()) return bad("files", "expected a list");
  std::map<std::string, bool> seen;
  for (size_t i = 0; i < j["files"].size(); ++i) {
    const json& f = j["files"][i];
    const std::string field = fmt::format("files[{}]", i);
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
        !SafeRelative(f["path"].get<std::string>())) {
      return bad(field + ".path", "expected a relative path inside the checkpoint (no '..')");
    }
    if (!f.contains("size") || !f["size"].is_number_unsigned()) return bad(field + ".size", "expected bytes >= 0");
    if (!f.contains("sha256") || !f["sha256"].is_string() || !IsHex64(f["sha256"].get<std::string>())) {
      return bad(field + ".sha256", "expected 64 lower-case hex digits");
    }
    CheckpointFile file{f["path"].get<std::string>(), f["size"].get<uint64_t>(), f["sha256"].get<std::string>()};
    if (file.path == kManifestName || seen[file.path]) return bad(field + ".path", "named twice, or the manifest");
    seen[file.path] = true;
    m.files.push_back(std::move(file));
  }
  return m;
}

Status VerifyCheckpoint(const fs::path& dir, CheckpointManifest* out) {
  const fs::path manifest_path = dir / kManifestName;
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("{}: no {} (not sealed: cut short?)", dir.string(), kManifestName));
  std::stringstream text;
  text << in.rdbuf();
  SG_ASSIGN_OR_RETURN(CheckpointManifest m, ParseManifest(text.str(), manifest_path.string()));
  for (const CheckpointFile& f : m.files) {
    StatusOr<std::pair<uint64_t, std::string>> got = HashFile(dir / f.path);
    if (!got.ok()) return absl::DataLossError(fmt::format("{}: {} is missing", dir.string(), f.path));
    if (got->first != f.size) {
      return absl::DataLossError(fmt::format("{}: {} is {} bytes, the manifest says {} (truncated?)", dir.string(),
                                             f.path, got->first, f.size));
    }
    if (got->second != f.sha256) {
      return absl::DataLossError(fmt::format("{}: {} does not match its SHA-256 (corrupted)", dir.string(), f.path));
    }
  }
  if (out != nullptr) *out = std::move(m);
  return Status();
}

StatusOr<CheckpointManifest> SealCheckpoint(const fs::path& dir, int64_t step, int64_t time_unix_ms) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(fmt::format("{}: not a directory", dir.string()));
  CheckpointManifest m;
  m.step = step;
  m.time_unix_ms = time_unix_ms;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = fs::relative(it->path(), dir).generic_string();
    if (rel == kManifestName || rel.starts_with(std::string(kManifestName) + ".tmp")) continue;
    SG_ASSIGN_OR_RETURN(const auto got, HashFile(it->path()));
    SG_RETURN_IF_ERROR(FsyncPath(it->path(), false));
    m.files.push_back({rel, got.first, got.second});
  }
  if (ec) return absl::UnavailableError(fmt::format("{}: {}", dir.string(), ec.message()));
  std::sort(m.files.begin(), m.files.end(),
            [](const CheckpointFile& a, const CheckpointFile& b) { return a.path < b.path; });
  const fs::path tmp = dir / (std::string(kManifestName) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << ManifestJson(m);
    if (!out.good()) return absl::DataLossError(fmt::format("{}: cannot write", tmp.string()));
  }
  SG_RETURN_IF_ERROR(FsyncPath(tmp, false));
  fs::rename(tmp, dir / kManifestName, ec);
  if (ec) return absl::UnavailableError(fmt::format("{}: {}", tmp.string(), ec.message()));
  SG_RETURN_IF_ERROR(FsyncPath(dir, true));
  return m;
}

CheckpointScan NewestComplete(const fs::path& area) {
  CheckpointScan scan;
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  for (auto it = fs::directory_iterator(area, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (!it->is_directory()) continue;
    if (std::optional<int64_t> step = StepOfDirName(it->path().filename().string()))
      found.emplace_back(*step, it->path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [step, dir] : found) {
    CheckpointManifest m;
    if (Status st = VerifyCheckpoint(dir, &m); !st.ok()) {
      scan.skipped.push_back(fmt::format("{}: {}", dir.filename().string(), std::string(st.message())));
      continue;
    }
    if (m.step != step) {
      scan.skipped.push_back(fmt::format("{}: its manifest says step {}", dir.filename().string(), m.step));
      continue;
    }
    scan.newest = dir;
    scan.manifest = std::move(m);
    break;
  }
  return scan;
}

}  // namespace stargate::control
