// `stargate data register|list|show|unregister`: the datasets a tenant
// tells the server about (control/server/dataset_book.h), so that job
// files can name them (`inputs: [corpus]`) and the scheduler weighs where
// they are (data gravity). The server records where data lies; it never
// moves it.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/rest_client.h"
#include "cli/server_call.h"
#include "core/data_input_parser.h"
#include "core/unit_parser.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

std::string Bytes(double b) {
  if (b >= 1e12) return fmt::format("{:.1f} TB", b / 1e12);
  if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
  return fmt::format("{:.1f} MB", b / 1e6);
}

// "?tenant=T" (or "&tenant=T" after a query), "" for none. Tenants are
// letters, digits, '-' and '_': nothing to escape.
std::string TenantQuery(const std::string& tenant, char sep) {
  return tenant.empty() ? "" : fmt::format("{}tenant={}", sep, tenant);
}

void PrintDataset(const json& d) {
  fmt::print("dataset {} (tenant {}): {}, {} cop{}\n", d["name"].get<std::string>(), d["tenant"].get<std::string>(),
             Bytes(d["bytes"].get<double>()), d["copies"].size(), d["copies"].size() == 1 ? "y" : "ies");
  for (const json& c : d["copies"]) {
    fmt::print("  {:<16} {:>10}  {}  (by {})\n", c["site"].get<std::string>(), Bytes(c["bytes"].get<double>()),
               c["path"].get<std::string>(), c["registered_by"].get<std::string>());
  }
}

// A dataset name checked here, so a bad one is a usage error before any
// call (and never reaches a URL unchecked).
bool NameOk(const std::string& name, int* exit_code) {
  if (Status st = CheckDatasetName(name); !st.ok()) {
    std::cerr << "error: NAME: " << st.message() << "\n";
    *exit_code = exit_code::kUsage;
    return false;
  }
  return true;
}

}  // namespace

void AddDataCommands(CLI::App& app, int* exit_code) {
  CLI::App* data = app.add_subcommand("data", "Datasets and the sites that hold them (job files name them in inputs:)");
  data->require_subcommand(1);
  auto tenant = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();

  auto site = std::make_shared<std::string>();
  auto size = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  CLI::App* reg = data->add_subcommand(
      "register", "Record that SITE holds a copy of dataset NAME (again: replaces that site's copy)");
  reg->add_option("NAME", *name, "The dataset (letters, digits, '.', '_', '-')")->required();
  reg->add_option("--site", *site, "The site holding the copy")->required();
  reg->add_option("--size", *size, "Its size (e.g. 2TB, 500GB)")->required();
  reg->add_option("--path", *path, "Where it lies at the site (an absolute path)")->required();
  reg->add_option("--tenant", *tenant, "Whose dataset (default: your token's tenant, else default)");
  reg->callback([=] {
    if (!NameOk(*name, exit_code)) return;
    StatusOr<double> bytes = ParseBytes(*size);
    if (!bytes.ok()) {
      std::cerr << "error: --size: " << bytes.status().message() << "\n";
      *exit_code = exit_code::kUsage;
      return;
    }
    json body = {{"site", *site}, {"size", *bytes}, {"path", *path}};
    if (!tenant->empty()) body["tenant"] = *tenant;
    const std::optional<json> r = CallServerJson("POST", "/v1/datasets/" + *name, body.dump(), exit_code);
    if (!r) return;
    fmt::print("registered {} at {} ({}, {})\n", *name, *site, Bytes(*bytes), *path);
  });

  auto output = std::make_shared<std::string>("table");
  CLI::App* list = data->add_subcommand("list", "List datasets (yours, or a tenant's; admins: everyone's)");
  list->add_option("--tenant", *tenant, "Only this tenant's");
  AddOutputFlag(list, output.get());
  list->callback([=] {
    const std::optional<json> r = CallServerJson("GET", "/v1/datasets" + TenantQuery(*tenant, '?'), "", exit_code);
    if (!r) return;
    std::vector<std::string> names;
    for (const json& d : (*r)["datasets"]) names.push_back("dataset/" + d["name"].get<std::string>());
    if (PrintAs(ParseFormat(*output), *r, names)) return;
    fmt::print("{:<24} {:<12} {:>10}  {}\n", "NAME", "TENANT", "SIZE", "SITES");
    for (const json& d : (*r)["datasets"]) {
      std::string sites;
      for (const json& c : d["copies"]) sites += (sites.empty() ? "" : ",") + c["site"].get<std::string>();
      fmt::print("{:<24} {:<12} {:>10}  {}\n", d["name"].get<std::string>(), d["tenant"].get<std::string>(),
                 Bytes(d["bytes"].get<double>()), sites);
    }
  });

  CLI::App* show = data->add_subcommand("show", "Show a dataset's copies");
  show->add_option("NAME", *name, "The dataset")->required();
  show->add_option("--tenant", *tenant, "Whose dataset");
  AddOutputFlag(show, output.get());
  show->callback([=] {
    if (!NameOk(*name, exit_code)) return;
    const std::optional<json> r =
        CallServerJson("GET", "/v1/datasets/" + *name + TenantQuery(*tenant, '?'), "", exit_code);
    if (!r) return;
    if (PrintAs(ParseFormat(*output), (*r)["dataset"], {"dataset/" + *name})) return;
    PrintDataset((*r)["dataset"]);
  });

  auto from = std::make_shared<std::string>();
  CLI::App* unreg = data->add_subcommand("unregister", "Forget a dataset's copy at a site, or (no --site) the dataset");
  unreg->add_option("NAME", *name, "The dataset")->required();
  unreg->add_option("--site", *from, "Only the copy at this site");
  unreg->add_option("--tenant", *tenant, "Whose dataset");
  unreg->callback([=] {
    if (!NameOk(*name, exit_code)) return;
    std::string query = from->empty() ? "" : "?site=" + UrlEncode(*from);
    query += TenantQuery(*tenant, query.empty() ? '?' : '&');
    const std::optional<json> r = CallServerJson("DELETE", "/v1/datasets/" + *name + query, "", exit_code);
    if (!r) return;
    if (from->empty()) {
      fmt::print("unregistered {}\n", *name);
    } else {
      fmt::print("unregistered {}'s copy at {} ({} left)\n", *name, *from, (*r)["dataset"]["copies"].size());
    }
  });
}

}  // namespace stargate::cli
