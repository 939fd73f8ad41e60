#include "core/data_input_parser.h"

#include <set>
#include <string>
#include <string_view>

namespace stargate {
namespace {

constexpr std::string_view kInputKeys[] = {"name", "size", "sites"};

}  // namespace

StatusOr<std::vector<DataInput>> ParseDataInputs(const yaml_util::Cursor& c) {
  SG_ASSIGN_OR_RETURN(const std::vector<yaml_util::Cursor> items, c.Items());
  if (items.size() > kMaxDataInputs) return c.Error("at most 64 inputs");
  std::vector<DataInput> out;
  std::set<std::string> names;
  for (const yaml_util::Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(const yaml_util::Fields f, item.Map(kInputKeys));
    DataInput in;
    SG_ASSIGN_OR_RETURN(const yaml_util::Cursor name, f.Require("name"));
    SG_ASSIGN_OR_RETURN(in.name, yaml_util::ReadString(name));
    if (in.name.empty() || in.name.size() > 128) return name.Error("1-128 characters");
    if (!names.insert(in.name).second) return name.Error("a second input with this name");
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
