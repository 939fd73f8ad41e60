#include "core/data_input_parser.h"

#include <cctype>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace stargate {
namespace {

constexpr std::string_view kInputKeys[] = {"name", "size", "sites"};

}  // namespace

Status CheckDatasetName(std::string_view name) {
  if (name.empty() || name.size() > 128) return absl::InvalidArgumentError("a dataset name is 1-128 characters");
  if (name.front() == '.') return absl::InvalidArgumentError("a dataset name does not start with '.'");
  for (const char ch : name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-')) {
      const auto byte = static_cast<unsigned char>(ch);
      return absl::InvalidArgumentError(
          fmt::format("a dataset name has only letters, digits, '.', '_' and '-', not {}",
                      std::isprint(byte) ? fmt::format("'{}'", ch) : fmt::format("byte 0x{:02x}", byte)));
    }
  }
  return Status();
}

StatusOr<std::vector<DataInput>> ParseDataInputs(const yaml_util::Cursor& c, bool names) {
  SG_ASSIGN_OR_RETURN(const std::vector<yaml_util::Cursor> items, c.Items());
  if (items.size() > kMaxDataInputs) return c.Error("at most 64 inputs");
  std::vector<DataInput> out;
  std::set<std::string> names_seen;
  for (const yaml_util::Cursor& item : items) {
    if (item.IsScalar()) {
      if (!names) return item.Error("a scenario has no dataset registry to name one from: give {name, size, sites}");
      DataInput in;
      SG_ASSIGN_OR_RETURN(in.name, yaml_util::ReadString(item));
      if (Status st = CheckDatasetName(in.name); !st.ok()) return item.Error(std::string(st.message()));
      if (!names_seen.insert(in.name).second) return item.Error("a second input with this name");
      out.push_back(std::move(in));
      continue;
    }
    SG_ASSIGN_OR_RETURN(const yaml_util::Fields f, item.Map(kInputKeys));
    DataInput in;
    SG_ASSIGN_OR_RETURN(const yaml_util::Cursor name, f.Require("name"));
    SG_ASSIGN_OR_RETURN(in.name, yaml_util::ReadString(name));
    if (in.name.empty() || in.name.size() > 128) return name.Error("1-128 characters");
    if (!names_seen.insert(in.name).second) return name.Error("a second input with this name");
    SG_ASSIGN_OR_RETURN(const yaml_util::Cursor size, f.Require("size"));
    SG_ASSIGN_OR_RETURN(in.bytes, yaml_util::ReadBytes(size, yaml_util::Range{1, 1e18}));
    SG_ASSIGN_OR_RETURN(const yaml_util::Cursor sites, f.Require("sites"));
    SG_ASSIGN_OR_RETURN(in.sites, yaml_util::ReadStringList(sites));
    if (in.sites.empty()) return sites.Error("at least one site that holds it");
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace stargate
