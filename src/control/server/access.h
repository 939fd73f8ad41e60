// File: access.h
// Who may call the REST API: bearer tokens, each naming a principal with a
// role and, for users, a tenant (`stargate server --tokens FILE`):
//
//   tokens:
//     - {token: "<long random string>", name: ops, role: admin}
//     - {token: "...", name: alice, role: user, tenant: ml-team}
//     - {token: "...", name: grafana, role: viewer}
//
// admin: everything. user: submit, see and cancel the jobs of its tenant.
// viewer: read only (the jobs of its tenant when it has one, else all).
// Without a token file the API is open (a warning at start): a one-machine
// setup on loopback, as `stargate up`.
// Immutable once parsed: thread-safe to read from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stargate::control {

enum class Role { kViewer, kUser, kAdmin };
std::string_view Name(Role r);

struct Principal {
  std::string name;
  Role role = Role::kViewer;
  std::string tenant;  // "" = none (admins; all-tenant viewers)
  // May see (and, with `write`, change) jobs of `job_tenant`.
  bool May(const std::string& job_tenant, bool write) const;
};

class AccessList {
 public:
  // Errors name the file, line and field (a user without a tenant, a short
  // or repeated token, an unknown role).
  static StatusOr<AccessList> Parse(std::string_view yaml_text, const std::string& filename);

  // The principal `token` names, or nullptr. Every entry is compared in
  // full, so the time taken does not tell how much of a guess was right.
  const Principal* Find(std::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string token;
    Principal who;
  };
  std::vector<Entry> entries_;
};

}  // namespace stargate::control
