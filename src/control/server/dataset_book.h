// File: dataset_book.h
// The datasets tenants registered (`stargate data register NAME --site S
// --size 2TB --path P`): for each, the sites holding a copy, its size and
// where it lies there. A job file that names one (`inputs: [corpus]`) gets
// its size and holders from here, on every pass, so a copy registered
// later counts for a job still pending. The server only records where data
// is; it never moves data itself (the scheduler charges a site without a
// copy the time to bring it: data gravity, sched/site_score.h).
//
// A dataset is its tenant's: names are per tenant, and one tenant's are
// never seen by another. Store keys: datasets/<tenant>/<name> -> JSON.
// Not thread-safe: the control plane calls it under its lock.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "control/store/store.h"
#include "core/job_spec.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

struct DatasetCopy {
  std::string site;
  double bytes = 0;
  std::string path;  // where it lies at the site (for its tasks and operators)
  Time registered;
  std::string by;  // who registered it
};

struct Dataset {
  std::string tenant;
  std::string name;
  std::vector<DatasetCopy> copies;  // by site
  // Its size: the largest copy's (copies registered at different sizes).
  double bytes() const;
};

class DatasetBook {
 public:
  // Most datasets one tenant may register, and most copies of one.
  static constexpr size_t kMaxPerTenant = 10000;
  static constexpr size_t kMaxCopies = 256;

  // `store` must outlive it.
  explicit DatasetBook(Store* store) : store_(store) {}

  // Reads every stored dataset (again). DataLoss names an unreadable key.
  Status Load();

  // The dataset with `copy` added, or its copy at copy.site replaced:
  // InvalidArgument for a bad name, size or path, FailedPrecondition past
  // the limits. Nothing changes until Apply.
  StatusOr<Dataset> WithCopy(const std::string& tenant, const std::string& name, DatasetCopy copy) const;
  // The dataset without its copy at `site` ("" = without any copy: gone).
  // NotFound for an unknown dataset or a site without a copy.
  StatusOr<Dataset> WithoutCopy(const std::string& tenant, const std::string& name, const std::string& site) const;
  // Adds to `txn` the write of `d` (its delete when it has no copy); the
  // caller commits it (with its audit entry), then calls Apply.
  void Stage(Txn& txn, const Dataset& d) const;
  void Apply(Dataset d);

  // Null when `tenant` has no dataset `name`.
  const Dataset* Find(const std::string& tenant, const std::string& name) const;
  // `tenant`'s datasets by name ("" = every tenant's, by tenant then name).
  std::vector<Dataset> List(const std::string& tenant) const;

  // The registered ones of `tenant`'s job's `inputs` (DataInput::registered)
  // with the size and sites of their registered copies. Returns the names
  // `tenant` has not registered (left as they are: no data gravity is
  // charged for them).
  std::vector<std::string> Resolve(const std::string& tenant, std::vector<DataInput>& inputs) const;

 private:
  static std::string Key(const std::string& tenant, const std::string& name);

  Store* store_;
  std::map<std::pair<std::string, std::string>, Dataset> sets_;  // (tenant, name) -> dataset
};

}  // namespace stargate::control
