// `stargate node join-token create|list|revoke` and `stargate node revoke`:
// the admin side of `--node-auth token` (control/server/node_identity.h).
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/server_call.h"
#include "core/unit_parser.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

// A JSON call (server_call.h).
std::optional<json> Call(const std::string& method, const std::string& path, const std::string& body = "",
                         int* code = nullptr) {
  return CallServerJson(method, path, body, code);
}

}  // namespace

void AddNodeIdentityCommands(CLI::App* node, int* exit_code) {
  CLI::App* tokens = node->add_subcommand("join-token", "Join tokens for agents (a server with --node-auth token)");
  tokens->require_subcommand(1);

  auto ttl = std::make_shared<std::string>("24h");
  auto for_node = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* create = tokens->add_subcommand("create", "Make a join token; it is printed once and stored only hashed");
  create->add_option("--ttl", *ttl, "How long it admits new nodes (e.g. 1h, 7d)")->capture_default_str();
  create->add_option("--node", *for_node, "Admit only this node name (default: any)");
  create->add_flag("-q,--quiet", *quiet, "Print the token alone");
  create->callback([ttl, for_node, quiet, exit_code] {
    StatusOr<Duration> d = ParseDuration(*ttl);
    if (!d.ok() || *d < Duration::Seconds(1)) {
      std::cerr << "error: --ttl: expected a duration such as 30m or 7d, got '" << *ttl << "'\n";
      *exit_code = 2;
      return;
    }
    const json body = {{"ttl_s", d->millis() / 1000}, {"node", *for_node}};
    int code = 0;
    const std::optional<json> r = Call("POST", "/v1/join-tokens", body.dump(), &code);
    if (!r) {
      *exit_code = code;
      return;
    }
    if (*quiet) {
      fmt::print("{}\n", (*r)["token"].get<std::string>());
    } else {
      fmt::print("join token {} (id {}, {}): give it to the agent with --join-token-file or $STARGATE_JOIN_TOKEN\n",
                 (*r)["token"].get<std::string>(), (*r)["join_token"]["id"].get<std::string>(),
                 for_node->empty() ? "any node" : "node " + *for_node);
    }
    *exit_code = 0;
  });

  CLI::App* list = tokens->add_subcommand("list", "List join tokens (never their secrets)");
  auto output = std::make_shared<std::string>("table");
  AddOutputFlag(list, output.get());
  list->callback([exit_code, output] {
    int code = 0;
    const std::optional<json> r = Call("GET", "/v1/join-tokens", "", &code);
    if (!r) {
      *exit_code = code;
      return;
    }
    *exit_code = 0;
    std::vector<std::string> names;
    for (const json& t : (*r)["join_tokens"]) names.push_back("join-token/" + t["id"].get<std::string>());
    if (PrintAs(ParseFormat(*output), *r, names)) return;
    fmt::print("{:<10} {:<16} {:<10} {:>14}  {}\n", "ID", "NODE", "STATE", "EXPIRES_UNIX_S", "CREATED_BY");
    for (const json& t : (*r)["join_tokens"]) {
      fmt::print("{:<10} {:<16} {:<10} {:>14}  {}\n", t["id"].get<std::string>(),
                 t["node"].get<std::string>().empty() ? "*" : t["node"].get<std::string>(),
                 t["revoked"].get<bool>() ? "revoked" : "valid", t["expires_unix_ms"].get<int64_t>() / 1000,
                 t["created_by"].get<std::string>());
    }
    *exit_code = 0;
  });

  auto id = std::make_shared<std::string>();
  CLI::App* revoke = tokens->add_subcommand("revoke", "Revoke a join token (nodes it admitted keep their credential)");
  revoke->add_option("ID", *id, "The token's id")->required();
  revoke->callback([id, exit_code] {
    int code = 0;
    *exit_code = Call("POST", fmt::format("/v1/join-tokens/{}/revoke", *id), "", &code) ? 0 : code;
    if (*exit_code == 0) fmt::print("join token {} revoked\n", *id);
  });

  auto name = std::make_shared<std::string>();
  CLI::App* revoke_node =
      node->add_subcommand("revoke", "Withdraw a node's credential: its agent is refused until it joins again");
  revoke_node->add_option("NAME", *name, "The node")->required();
  revoke_node->callback([name, exit_code] {
    int code = 0;
    *exit_code = Call("POST", fmt::format("/v1/nodes/{}/revoke", *name), "", &code) ? 0 : code;
    if (*exit_code == 0) fmt::print("node {}: credential withdrawn\n", *name);
  });
}

}  // namespace stargate::cli
