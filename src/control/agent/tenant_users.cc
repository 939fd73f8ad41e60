#include "control/agent/tenant_users.h"

#include <fcntl.h>
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

std::string TenantUsers::UserName(const std::string& tenant) {
  // sg-<tenant> where that is a user name as it stands (lower case, at most
  // 32 characters); otherwise a readable prefix and a hash of the exact
  // name, so "Acme" and "acme" never share a user.
  const bool plain = tenant.size() <= 29 && std::none_of(tenant.begin(), tenant.end(), [](char c) {
                       return std::isupper(static_cast<unsigned char>(c));
                     });
  if (plain) return "sg-" + tenant;
  std::string prefix = tenant.substr(0, 19);
  for (char& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return fmt::format("sg-{}-{:08x}", prefix, Hash(tenant));
}

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
  // The job file's tenant rule (letters, digits, '-', '_'; 1-32).
  if (tenant.empty() || tenant.size() > 32 || !std::all_of(tenant.begin(), tenant.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    return absl::InvalidArgumentError(fmt::format("tenant '{}' cannot name a Unix user", tenant));
  }
  const std::string name = UserName(tenant);
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
  // `root`'s parents are the agent's (root-owned); below `root` the tenant
  // owns what it may have changed, so each step is opened without
  // following a symlink: a link the tenant planted is refused, never
  // chowned through.
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return absl::UnavailableError(fmt::format("cannot create {}: {}", root, ec.message()));
  const fs::path rel = fs::path(path).lexically_normal().lexically_relative(fs::path(root).lexically_normal());
  if (rel.empty() || *rel.begin() == "..") {
    return absl::InternalError(fmt::format("{} is not inside {}", path, root));
  }
  int dir = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return absl::UnavailableError(fmt::format("cannot open {}: {}", root, strerror(errno)));
  auto fail = [&](const std::string& what) {
    const std::string why = strerror(errno);
    close(dir);
    return absl::UnavailableError(fmt::format("{}: {}", what, why));
  };
  // Each change is a metadata write (journaled): made only when needed,
  // as the area is the same for every task of the tenant.
  auto give = [&](int fd, bool private_mode) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return false;
    if ((st.st_uid != account.uid || st.st_gid != account.gid) && fchown(fd, account.uid, account.gid) != 0) {
      return false;
    }
    return !private_mode || (st.st_mode & 07777) == 0700 || fchmod(fd, 0700) == 0;
  };
  if (!give(dir, true)) return fail(fmt::format("cannot give {} to {}", root, account.name));
  fs::path at = root;
  for (const fs::path& part : rel) {
    if (part == "." || part.empty()) continue;
    if (part == "..") {
      close(dir);
      return absl::InvalidArgumentError(fmt::format("{} has a '..'", path));
    }
    at /= part;
    if (mkdirat(dir, part.c_str(), 0700) != 0 && errno != EEXIST)
      return fail(fmt::format("cannot create {}", at.string()));
    const int next = openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return fail(fmt::format("{} is not a directory of the tenant's (a symlink?)", at.string()));
    close(dir);
    dir = next;
    if (!give(dir, false)) return fail(fmt::format("cannot give {} to {}", at.string(), account.name));
  }
  close(dir);
  return Status();
}

}  // namespace stargate::control
