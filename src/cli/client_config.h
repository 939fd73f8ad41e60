// File: client_config.h
// Where the client commands find their server, token and tenant, as
// kubectl finds its cluster: the global flags (--server, --context), then
// the environment ($STARGATE_SERVER, $STARGATE_TOKEN), then the current
// context of the config file, then the defaults (http://127.0.0.1:8470,
// no token, every tenant the token may see).
//
// The config file is JSON ($STARGATE_CONFIG, else
// $XDG_CONFIG_HOME/stargate/config.json, else ~/.config/stargate/config.json):
//   {"current_context": "lab",
//    "contexts": {"lab": {"server": "http://10.0.0.5:8470",
//                         "token_file": "/home/me/.stargate-token",
//                         "tenant": "ml"}}}
// `stargate config ...` writes it (mode 0600, replaced atomically).
#pragma once

#include <map>
#include <string>

namespace CLI {
class App;
}

namespace stargate::cli {

struct Context {
  std::string server;      // http://HOST:PORT
  std::string token_file;  // a file holding the bearer token
  std::string tenant;      // the tenant `job list`, `job cancel --all` and `run` default to
};

struct ClientConfig {
  std::string current;  // "" = none
  std::map<std::string, Context> contexts;
};

std::string ConfigPath();
// A missing file is an empty config. False, with *error naming the file,
// when it cannot be read or is not such JSON.
bool LoadConfig(const std::string& path, ClientConfig* out, std::string* error);
bool SaveConfig(const std::string& path, const ClientConfig& config, std::string* error);

// The global flags, filled while the command line is parsed (the root's
// --server and every group's --server write the same one).
struct GlobalFlags {
  std::string server;
  std::string context;
};
GlobalFlags& Globals();
// --server and --context on the root app (before the command).
void AddGlobalFlags(CLI::App& app);

// What a client command uses, resolved once (after parsing).
struct ClientSettings {
  std::string server;
  std::string token;   // "" = none
  std::string tenant;  // "" = none
  std::string error;   // set when the config, context or token file is unusable
};
const ClientSettings& Settings();
// False, after saying why, when the config file, the context or its
// token file is unusable (a command then exits kUsage).
bool SettingsOk();
// The server URL (ClientSettings::server).
std::string ServerUrl();
// {"Authorization": "Bearer TOKEN"} for the resolved token, plus `more`.
std::map<std::string, std::string> AuthHeaders(std::map<std::string, std::string> more = {});

// `stargate config use-context|set-context|get-contexts|current-context|delete-context`.
void AddConfigCommands(CLI::App& app, int* exit_code);

}  // namespace stargate::cli
