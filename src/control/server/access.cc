#include "control/server/access.h"

#include <fmt/format.h>

#include "core/yaml_util.h"

namespace stargate::control {
namespace {

using yaml_util::Cursor;
using yaml_util::EnumName;
using yaml_util::Fields;

constexpr size_t kMaxBytes = 1 << 20;
constexpr size_t kMinTokenBytes = 16;
constexpr std::string_view kTopKeys[] = {"tokens"};
constexpr std::string_view kEntryKeys[] = {"token", "name", "role", "tenant"};
constexpr EnumName<Role> kRoles[] = {{"viewer", Role::kViewer}, {"user", Role::kUser}, {"admin", Role::kAdmin}};

bool SameBytes(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace

std::string_view Name(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kUser:
      return "user";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

bool Principal::May(const std::string& job_tenant, bool write) const {
  if (role == Role::kAdmin) return true;
  if (write && role != Role::kUser) return false;
  return tenant.empty() ? role == Role::kViewer : tenant == job_tenant;
}

StatusOr<AccessList> AccessList::Parse(std::string_view yaml_text, const std::string& filename) {
  return yaml_util::ParseDocument<AccessList>(
      yaml_text, filename, "token file", kMaxBytes, [](const Cursor& root) -> StatusOr<AccessList> {
        if (!root.IsMap()) return root.Error("expected a map with a `tokens` list");
        SG_ASSIGN_OR_RETURN(const Fields top, root.Map(kTopKeys));
        SG_ASSIGN_OR_RETURN(const Cursor list, top.Require("tokens"));
        SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, list.Items());
        AccessList out;
        for (const Cursor& item : items) {
          SG_ASSIGN_OR_RETURN(const Fields f, item.Map(kEntryKeys));
          Entry e;
          SG_ASSIGN_OR_RETURN(const Cursor token, f.Require("token"));
          SG_ASSIGN_OR_RETURN(e.token, yaml_util::ReadString(token));
          if (e.token.size() < kMinTokenBytes) {
            return token.Error(fmt::format("must be at least {} characters", kMinTokenBytes));
          }
          for (const Entry& seen : out.entries_) {
            if (seen.token == e.token) return token.Error("is given twice");
          }
          SG_ASSIGN_OR_RETURN(const Cursor name, f.Require("name"));
          SG_ASSIGN_OR_RETURN(e.who.name, yaml_util::ReadString(name));
          SG_ASSIGN_OR_RETURN(const Cursor role, f.Require("role"));
          SG_ASSIGN_OR_RETURN(e.who.role, yaml_util::ReadEnum<Role>(role, kRoles, "role"));
          SG_ASSIGN_OR_RETURN(e.who.tenant, f.String("tenant", ""));
          if (e.who.role == Role::kUser && e.who.tenant.empty()) return item.Error("a user needs a tenant");
          out.entries_.push_back(std::move(e));
        }
        return out;
      });
}

const Principal* AccessList::Find(std::string_view token) const {
  const Principal* found = nullptr;
  for (const Entry& e : entries_) {
    if (SameBytes(token, e.token) && found == nullptr) found = &e.who;
  }
  return found;
}

}  // namespace stargate::control
