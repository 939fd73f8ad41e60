// File: tenant_users.h
// Which Unix user a tenant's tasks run as on this node, so that one
// tenant's job cannot read another's files, logs, checkpoints or process
// environment (/proc/PID/environ is its owner's), nor signal its
// processes. A tenant named in the agent config runs as that user;
// otherwise as sg-<tenant>, created on first use (useradd, no home, no
// shell, no password) with a uid from the configured range: the first
// free one from a hash of the tenant's name, so nodes that create their
// users the same way agree on it (a checkpoint area on a shared
// filesystem is owned by that uid; name users in the config where uids
// must match by decree). Needs root. Calls from one thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "core/status.h"

namespace stargate::control {

struct TenantUserConfig {
  bool enabled = false;
  uid_t uid_min = 61000, uid_max = 61999;    // for created users
  std::map<std::string, std::string> named;  // tenant -> existing user
};

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

class TenantUsers {
 public:
  explicit TenantUsers(TenantUserConfig config) : config_(std::move(config)) {}

  // The tenant's account, made when it does not exist yet. Unavailable
  // when it cannot be made (the range is full, useradd failed);
  // InvalidArgument for a tenant name no user may have.
  StatusOr<Account> Resolve(const std::string& tenant);
  // The user made for `tenant` when the config names none: sg-<tenant>,
  // or for names with capitals or over 29 characters sg-<prefix>-<hash>.
  static std::string UserName(const std::string& tenant);

  // `path` and every missing directory above it down from `root` made,
  // and `path`'s components from `root` down (root included) owned by
  // `account`; `root` itself 0700. Used for a tenant's work and checkpoint
  // areas. Below `root` nothing is followed through a symlink (the tenant
  // may have planted one): such a path is refused.
  static Status MakePrivate(const std::string& root, const std::string& path, const Account& account);

 private:
  TenantUserConfig config_;
  std::map<std::string, Account> cache_;
};

}  // namespace stargate::control
