#include "cli/client_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/exit_codes.h"
#include "cli/output.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// mkdir -p for the config file's directory.
bool MakeParents(const std::string& path, std::string* error) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = fmt::format("cannot make {}: {}", dir, std::strerror(errno));
      return false;
    }
  }
  return true;
}

std::string Trim(std::string s) {
  const size_t end = s.find_last_not_of(" \t\r\n");
  s.erase(end == std::string::npos ? 0 : end + 1);
  s.erase(0, s.find_first_not_of(" \t\r\n") == std::string::npos ? s.size() : s.find_first_not_of(" \t\r\n"));
  return s;
}

ClientSettings ResolveSettings() {
  ClientSettings s;
  ClientConfig config;
  const std::string path = ConfigPath();
  std::string error;
  const bool loaded = LoadConfig(path, &config, &error);
  const std::string name = !Globals().context.empty() ? Globals().context : config.current;
  std::optional<Context> context;
  if (!loaded) {
    if (!Globals().context.empty()) s.error = error;  // only a context asked for must be readable
  } else if (!name.empty()) {
    auto it = config.contexts.find(name);
    if (it != config.contexts.end()) {
      context = it->second;
    } else {
      s.error = fmt::format("no context '{}' in {} (stargate config get-contexts)", name, path);
    }
  }
  const std::string env_server = Env("STARGATE_SERVER");
  s.server = !Globals().server.empty()                         ? Globals().server
             : !env_server.empty()                             ? env_server
             : context.has_value() && !context->server.empty() ? context->server
                                                               : "http://127.0.0.1:8470";
  s.token = Env("STARGATE_TOKEN");
  if (s.token.empty() && context.has_value() && !context->token_file.empty()) {
    std::ifstream f(context->token_file);
    if (!f) {
      s.error = fmt::format("context '{}': cannot read its token_file {}", name, context->token_file);
    } else {
      std::stringstream text;
      text << f.rdbuf();
      s.token = Trim(text.str());
    }
  }
  if (context.has_value()) s.tenant = context->tenant;
  return s;
}

// Reads the config file; false after saying why.
bool ReadConfig(const std::string& path, ClientConfig* c) {
  std::string error;
  if (LoadConfig(path, c, &error)) return true;
  std::cerr << "error: " << error << "\n";
  return false;
}

// Reads the config file, lets `change` change it (an exit code other
// than kOk: nothing is written), and writes it back.
int EditConfig(const std::function<int(ClientConfig&, const std::string& path)>& change) {
  const std::string path = ConfigPath();
  ClientConfig c;
  if (!ReadConfig(path, &c)) return exit_code::kError;
  if (const int code = change(c, path); code != exit_code::kOk) return code;
  std::string error;
  if (!SaveConfig(path, c, &error)) {
    std::cerr << "error: " << error << "\n";
    return exit_code::kError;
  }
  return exit_code::kOk;
}

int UseContext(const std::string& name) {
  return EditConfig([&](ClientConfig& c, const std::string& path) {
    if (c.contexts.count(name) == 0) {
      std::cerr << "error: no context '" << name << "' in " << path << " (stargate config set-context " << name
                << " --server URL makes one)\n";
      return exit_code::kNotFound;
    }
    c.current = name;
    fmt::print("using context {} ({})\n", name, c.contexts[name].server);
    return exit_code::kOk;
  });
}

int SetContext(const std::string& name, const std::optional<std::string>& server,
               const std::optional<std::string>& token_file, const std::optional<std::string>& tenant) {
  if (server.has_value() && server->rfind("http://", 0) != 0) {
    std::cerr << "error: --server: expected http://HOST:PORT, got '" << *server << "'\n";
    return exit_code::kUsage;
  }
  return EditConfig([&](ClientConfig& c, const std::string&) {
    const bool made = c.contexts.count(name) == 0;
    Context& ctx = c.contexts[name];
    if (server.has_value()) ctx.server = *server;
    if (token_file.has_value()) ctx.token_file = *token_file;
    if (tenant.has_value()) ctx.tenant = *tenant;
    if (c.current.empty()) c.current = name;
    fmt::print("context {} {}{}\n", name, made ? "made" : "changed", c.current == name ? " (current)" : "");
    return exit_code::kOk;
  });
}

int DeleteContext(const std::string& name) {
  return EditConfig([&](ClientConfig& c, const std::string& path) {
    if (c.contexts.erase(name) == 0) {
      std::cerr << "error: no context '" << name << "' in " << path << "\n";
      return exit_code::kNotFound;
    }
    if (c.current == name) c.current.clear();
    fmt::print("context {} deleted\n", name);
    return exit_code::kOk;
  });
}

int GetContexts(const std::string& output) {
  ClientConfig c;
  if (!ReadConfig(ConfigPath(), &c)) return exit_code::kError;
  json list = json::array();
  std::vector<std::string> names;
  for (const auto& [name, ctx] : c.contexts) {
    list.push_back({{"name", name},
                    {"current", name == c.current},
                    {"server", ctx.server},
                    {"token_file", ctx.token_file},
                    {"tenant", ctx.tenant}});
    names.push_back("context/" + name);
  }
  if (PrintAs(ParseFormat(output), json{{"contexts", list}}, names)) return exit_code::kOk;
  fmt::print("{:<8} {:<16} {:<32} {:<12} {}\n", "CURRENT", "NAME", "SERVER", "TENANT", "TOKEN_FILE");
  for (const auto& [name, ctx] : c.contexts) {
    fmt::print("{:<8} {:<16} {:<32} {:<12} {}\n", name == c.current ? "*" : "", name,
               ctx.server.empty() ? "-" : ctx.server, ctx.tenant.empty() ? "-" : ctx.tenant,
               ctx.token_file.empty() ? "-" : ctx.token_file);
  }
  return exit_code::kOk;
}

}  // namespace

std::string ConfigPath() {
  if (std::string p = Env("STARGATE_CONFIG"); !p.empty()) return p;
  if (std::string x = Env("XDG_CONFIG_HOME"); !x.empty()) return x + "/stargate/config.json";
  const std::string home = Env("HOME");
  return (home.empty() ? std::string(".") : home) + "/.config/stargate/config.json";
}

bool LoadConfig(const std::string& path, ClientConfig* out, std::string* error) {
  *out = ClientConfig{};
  std::ifstream f(path);
  if (!f) {
    if (errno == ENOENT) return true;
    *error = fmt::format("cannot read the config file {}: {}", path, std::strerror(errno));
    return false;
  }
  std::stringstream text;
  text << f.rdbuf();
  const json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = fmt::format("the config file {} is not JSON of an object (stargate config set-context rewrites it)", path);
    return false;
  }
  try {
    out->current = j.value("current_context", "");
    const json contexts = j.value("contexts", json::object());
    for (const auto& [name, c] : contexts.items()) {
      out->contexts[name] = Context{c.value("server", ""), c.value("token_file", ""), c.value("tenant", "")};
    }
  } catch (const json::exception& e) {
    *error = fmt::format("the config file {}: {}", path, e.what());
    return false;
  }
  return true;
}

bool SaveConfig(const std::string& path, const ClientConfig& config, std::string* error) {
  json contexts = json::object();
  for (const auto& [name, c] : config.contexts) {
    contexts[name] = {{"server", c.server}, {"token_file", c.token_file}, {"tenant", c.tenant}};
  }
  const std::string text = json{{"current_context", config.current}, {"contexts", contexts}}.dump(2) + "\n";
  if (!MakeParents(path, error)) return false;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
    return false;
  }
  const bool wrote = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!wrote || ::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = fmt::format("cannot write {}: {}", path, std::strerror(errno));
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

GlobalFlags& Globals() {
  static GlobalFlags flags;
  return flags;
}

void AddGlobalFlags(CLI::App& app) {
  app.add_option("--server", Globals().server,
                 "Server URL for client commands (default: $STARGATE_SERVER, the context's, http://127.0.0.1:8470)");
  app.add_option("--context", Globals().context, "Use this context of the config file (stargate config)");
}

const ClientSettings& Settings() {
  static const ClientSettings settings = ResolveSettings();
  return settings;
}

bool SettingsOk() {
  if (Settings().error.empty()) return true;
  std::cerr << "error: " << Settings().error << "\n";
  return false;
}

std::string ServerUrl() { return Settings().server; }

std::map<std::string, std::string> AuthHeaders(std::map<std::string, std::string> more) {
  if (!Settings().token.empty()) more["Authorization"] = "Bearer " + Settings().token;
  return more;
}

void AddConfigCommands(CLI::App& app, int* exit_code) {
  CLI::App* config = app.add_subcommand(
      "config", "Named contexts (server URL, token file, default tenant) in " + std::string("the client config file"));
  config->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  CLI::App* use = config->add_subcommand("use-context", "Make a context the current one");
  use->add_option("name", *name, "Context name")->required();
  use->callback([=] { *exit_code = UseContext(*name); });

  struct SetFlags {
    std::string server, token_file, tenant;
  };
  auto flags = std::make_shared<SetFlags>();
  CLI::App* set = config->add_subcommand("set-context", "Make or change a context (the first made becomes current)");
  set->add_option("name", *name, "Context name")->required();
  CLI::Option* server = set->add_option("--server", flags->server, "Server URL, http://HOST:PORT");
  CLI::Option* token = set->add_option("--token-file", flags->token_file, "A file holding the bearer token");
  CLI::Option* tenant = set->add_option("--tenant", flags->tenant, "Default tenant for list, cancel --all and run");
  set->callback([=] {
    auto given = [](CLI::Option* o, const std::string& v) {
      return o->count() > 0 ? std::optional<std::string>(v) : std::nullopt;
    };
    *exit_code =
        SetContext(*name, given(server, flags->server), given(token, flags->token_file), given(tenant, flags->tenant));
  });

  CLI::App* del = config->add_subcommand("delete-context", "Remove a context");
  del->add_option("name", *name, "Context name")->required();
  del->callback([=] { *exit_code = DeleteContext(*name); });

  auto output = std::make_shared<std::string>("table");
  CLI::App* get = config->add_subcommand("get-contexts", "List the contexts (* marks the current one)");
  AddOutputFlag(get, output.get());
  get->callback([=] { *exit_code = GetContexts(*output); });

  CLI::App* current = config->add_subcommand("current-context", "Print the current context's name");
  current->callback([=] {
    ClientConfig c;
    if (!ReadConfig(ConfigPath(), &c)) {
      *exit_code = exit_code::kError;
      return;
    }
    if (c.current.empty()) {
      std::cerr << "error: no current context in " << ConfigPath() << "\n";
      *exit_code = exit_code::kNotFound;
      return;
    }
    fmt::print("{}\n", c.current);
  });
  CLI::App* path = config->add_subcommand("path", "Print where the config file is");
  path->callback([] { fmt::print("{}\n", ConfigPath()); });
}

}  // namespace stargate::cli
