#include "control/server/dataset_book.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/data_input_parser.h"

namespace stargate::control {
namespace {

constexpr char kPrefix[] = "datasets/";

using nlohmann::json;

// As a job file's `tenant:` (job_file_parser.cc): it is part of a key.
Status CheckTenant(const std::string& tenant) {
  if (tenant.empty() || tenant.size() > 32 || !std::all_of(tenant.begin(), tenant.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    return absl::InvalidArgumentError("tenant: 1-32 characters of letters, digits, '-' or '_'");
  }
  return Status();
}

std::string Encode(const Dataset& d) {
  json copies = json::array();
  for (const DatasetCopy& c : d.copies) {
    copies.push_back(json{{"site", c.site},
                          {"bytes", c.bytes},
                          {"path", c.path},
                          {"registered_unix_ms", c.registered.millis()},
                          {"by", c.by}});
  }
  return json{{"copies", copies}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

StatusOr<Dataset> Decode(const KeyValue& kv) {
  const std::string_view rest = std::string_view(kv.key).substr(sizeof(kPrefix) - 1);
  const size_t slash = rest.find('/');
  const json j = json::parse(kv.value, nullptr, false);
  if (slash == std::string_view::npos || !j.is_object()) {
    return absl::DataLossError(fmt::format("store key {}: not a dataset", kv.key));
  }
  Dataset d{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1)), {}};
  try {
    for (const json& c : j.at("copies")) {
      d.copies.push_back(DatasetCopy{c.at("site").get<std::string>(), c.at("bytes").get<double>(),
                                     c.at("path").get<std::string>(),
                                     Time::FromMillis(c.at("registered_unix_ms").get<int64_t>()), c.value("by", "")});
    }
  } catch (const json::exception& e) {
    return absl::DataLossError(fmt::format("store key {}: {}", kv.key, e.what()));
  }
  return d;
}

}  // namespace

std::string DatasetBook::Key(const std::string& tenant, const std::string& name) {
  return kPrefix + tenant + "/" + name;
}

Status DatasetBook::Load() {
  SG_ASSIGN_OR_RETURN(const std::vector<KeyValue> all, store_->List(kPrefix));
  sets_.clear();
  for (const KeyValue& kv : all) {
    SG_ASSIGN_OR_RETURN(Dataset d, Decode(kv));
    auto key = std::make_pair(d.tenant, d.name);
    sets_[std::move(key)] = std::move(d);
  }
  return Status();
}

StatusOr<Dataset> DatasetBook::WithCopy(const std::string& tenant, const std::string& name, DatasetCopy copy) const {
  SG_RETURN_IF_ERROR(CheckTenant(tenant));
  SG_RETURN_IF_ERROR(CheckDatasetName(name));
  if (copy.site.empty() || copy.site.size() > 128) return absl::InvalidArgumentError("site: 1-128 characters");
  if (!(copy.bytes >= 1 && copy.bytes <= 1e18)) {
    return absl::InvalidArgumentError("size: 1 byte to 1 EB (\"2TB\", \"500GB\")");
  }
  // An absolute path of printable characters: shown to operators and
  // handed to the dataset's tasks.
  if (copy.path.empty() || copy.path.front() != '/' || copy.path.size() > 4096 ||
      !std::all_of(copy.path.begin(), copy.path.end(),
                   [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; })) {
    return absl::InvalidArgumentError("path: an absolute path (\"/data/corpus\") of printable characters");
  }
  Dataset d;
  if (const Dataset* known = Find(tenant, name)) {
    d = *known;
  } else {
    const auto first = sets_.lower_bound({tenant, ""});
    const auto end = sets_.lower_bound({tenant + '\x01', ""});  // past tenant's names ('\x01' > '\0')
    if (static_cast<size_t>(std::distance(first, end)) >= kMaxPerTenant) {
      return absl::FailedPreconditionError(
          fmt::format("tenant {} has {} datasets, the most one may register", tenant, kMaxPerTenant));
    }
    d.tenant = tenant;
    d.name = name;
  }
  auto at = std::lower_bound(d.copies.begin(), d.copies.end(), copy.site,
                             [](const DatasetCopy& c, const std::string& s) { return c.site < s; });
  if (at != d.copies.end() && at->site == copy.site) {
    *at = std::move(copy);
  } else {
    if (d.copies.size() >= kMaxCopies) {
      return absl::FailedPreconditionError(fmt::format("dataset {} has {} copies, the most it may", name, kMaxCopies));
    }
    d.copies.insert(at, std::move(copy));
  }
  return d;
}

StatusOr<Dataset> DatasetBook::WithoutCopy(const std::string& tenant, const std::string& name,
                                           const std::string& site) const {
  const Dataset* known = Find(tenant, name);
  if (known == nullptr) return absl::NotFoundError(fmt::format("tenant {} has no dataset {}", tenant, name));
  Dataset d = *known;
  if (site.empty()) {
    d.copies.clear();
    return d;
  }
  auto at = std::find_if(d.copies.begin(), d.copies.end(), [&](const DatasetCopy& c) { return c.site == site; });
  if (at == d.copies.end()) return absl::NotFoundError(fmt::format("dataset {} has no copy at site {}", name, site));
  d.copies.erase(at);
  return d;
}

void DatasetBook::Stage(Txn& txn, const Dataset& d) const {
  if (d.copies.empty()) {
    txn.Delete(Key(d.tenant, d.name));
  } else {
    txn.Put(Key(d.tenant, d.name), Encode(d));
  }
}

void DatasetBook::Apply(Dataset d) {
  auto key = std::make_pair(d.tenant, d.name);
  if (d.copies.empty()) {
    sets_.erase(key);
  } else {
    sets_[std::move(key)] = std::move(d);
  }
}

const Dataset* DatasetBook::Find(const std::string& tenant, const std::string& name) const {
  auto it = sets_.find({tenant, name});
  return it == sets_.end() ? nullptr : &it->second;
}

std::vector<Dataset> DatasetBook::List(const std::string& tenant) const {
  std::vector<Dataset> out;
  for (const auto& [key, d] : sets_) {
    if (tenant.empty() || key.first == tenant) out.push_back(d);
  }
  return out;
}

double Dataset::bytes() const {
  double out = 0;
  for (const DatasetCopy& c : copies) out = std::max(out, c.bytes);
  return out;
}

std::vector<std::string> DatasetBook::Resolve(const std::string& tenant, std::vector<DataInput>& inputs) const {
  std::vector<std::string> unknown;
  for (DataInput& in : inputs) {
    if (!in.registered()) continue;
    const Dataset* d = Find(tenant, in.name);
    if (d == nullptr) {
      unknown.push_back(in.name);
      continue;
    }
    in.bytes = d->bytes();
    for (const DatasetCopy& c : d->copies) in.sites.push_back(c.site);
  }
  return unknown;
}

}  // namespace stargate::control
