#include "control/agent/tenant_users.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "runtime/subprocess.h"

namespace stargate::control {
namespace {

std::optional<Account> Lookup(const std::string& name) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr) return std::nullopt;
  return Account{name, pw.pw_uid, pw.pw_gid};
}

bool UidTaken(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  return getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr;
}

// FNV-1a: the same tenant starts its search at the same uid on every node.
uint32_t Hash(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

StatusOr<Account> TenantUsers::Resolve(const std::string& tenant) {
  if (auto it = cache_.find(tenant); it != cache_.end()) return it->second;
  if (auto named = config_.named.find(tenant); named != config_.named.end()) {
    std::optional<Account> a = Lookup(named->second);
    if (!a.has_value()) {
      return absl::UnavailableError(
          fmt::format("tenant {} is to run as user {}, which does not exist on this node", tenant, named->second));
    }
    if (a->uid == 0) return absl::InvalidArgumentError(fmt::format("tenant {} may not run as root", tenant));
    return cache_[tenant] = *a;
  }
  // The job file's tenant rule (letters, digits, '-', '_'; 1-32) keeps
  // this a valid user name: sg- and at most 32 more.
  if (tenant.empty() || tenant.size() > 29 || !std::all_of(tenant.begin(), tenant.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    return absl::InvalidArgumentError(fmt::format("tenant '{}' cannot name a Unix user", tenant));
  }
  std::string name = "sg-" + tenant;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (std::optional<Account> a = Lookup(name)) return cache_[tenant] = *a;
  const uint32_t span = config_.uid_max - config_.uid_min + 1;
  for (uint32_t i = 0; i < span; ++i) {
    const uid_t uid = config_.uid_min + (Hash(tenant) + i) % span;
    if (UidTaken(uid)) continue;
    StatusOr<CommandResult> made =
        RunCommand({"useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell",
                    "/usr/sbin/nologin", "--uid", std::to_string(uid), "--user-group", name},
                   "", Duration::Seconds(30));
    if (!made.ok()) return made.status();
    if (made->exit_code != 0 && !Lookup(name).has_value()) {
      return absl::UnavailableError(fmt::format("useradd {} (uid {}) failed: {}", name, uid, made->err));
    }
    std::optional<Account> a = Lookup(name);
    if (!a.has_value()) return absl::UnavailableError(fmt::format("useradd made no user {}", name));
    return cache_[tenant] = *a;
  }
  return absl::UnavailableError(
      fmt::format("no free uid in [{}, {}] for tenant {}", config_.uid_min, config_.uid_max, tenant));
}

Status TenantUsers::MakePrivate(const std::string& root, const std::string& path, const Account& account) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return absl::UnavailableError(fmt::format("cannot create {}: {}", path, ec.message()));
  const fs::path rel = fs::path(path).lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") {
    return absl::InternalError(fmt::format("{} is not inside {}", path, root));
  }
  fs::path at = root;
  auto own = [&](const fs::path& p) -> Status {
    if (chown(p.c_str(), account.uid, account.gid) != 0) {
      return absl::UnavailableError(fmt::format("cannot give {} to {}: {}", p.string(), account.name, strerror(errno)));
    }
    return Status();
  };
  SG_RETURN_IF_ERROR(own(at));
  if (chmod(at.c_str(), 0700) != 0) {
    return absl::UnavailableError(fmt::format("cannot make {} private: {}", at.string(), strerror(errno)));
  }
  for (const fs::path& part : rel) {
    if (part == ".") continue;
    at /= part;
    SG_RETURN_IF_ERROR(own(at));
  }
  return Status();
}

}  // namespace stargate::control
