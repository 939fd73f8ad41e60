// `stargate agent`: run one node's agent; `stargate node list`, `site list`.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/rest_client.h"
#include "cli/stop_signals.h"
#include "control/agent/agent.h"
#include "control/agent/gpu_probe.h"
#include "control/net/http_client.h"
#include "control/protocol/agent_proto.h"
#include "control/slurm/slurm_site.h"
#include "core/agent_file.h"
#include "core/clock.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

struct AgentOptions {
  std::string server = "127.0.0.1:8471";
  std::string name;
  std::string site = "local";
  std::string region = "local";
  std::string jurisdiction = "US";
  std::string address = "127.0.0.1";
  std::string accelerators = "auto";
  std::string work_dir = "stargate-agent";
  std::string checkpoint_root;  // the site's checkpoint store; "" = the server's data dir
  int64_t stop_grace_ms = 10'000;
  std::string holding_load;
  std::string config;                 // YAML (core/agent_file.h); flags win over it
  TlsFlags tls;                       // mutual TLS to the servers
  std::string join_token_file;        // --node-auth token: the first join ("" = $STARGATE_JOIN_TOKEN)
  std::string tenant_users = "auto";  // on, off, auto (on when root)
  std::string tenant_uid_range = "61000-61999";
  std::vector<std::string> tenant_user;  // TENANT=USER
  // A Slurm cluster as the site (control/slurm/slurm_site.h).
  bool slurm = false;
  std::string slurm_partition;
  std::vector<std::string> slurm_nodes;
  int slurm_fence_s = 15;
};

// Fills the options the command line did not give from --config. False
// (after saying why) when the file cannot be read or parsed.
bool ApplyConfigFile(const CLI::App& cmd, AgentOptions* o) {
  if (o->config.empty()) return true;
  std::ifstream in(o->config, std::ios::binary);
  if (!in) {
    std::cerr << "error: --config: cannot read " << o->config << "\n";
    return false;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  StatusOr<AgentFile> file = ParseAgentFile(text, o->config);
  if (!file.ok()) {
    std::cerr << "error: " << file.status().message() << "\n";
    return false;
  }
  auto take = [&](const char* flag, const std::optional<std::string>& v, std::string* out) {
    if (v.has_value() && cmd.count(flag) == 0) *out = *v;
  };
  take("--server", file->server, &o->server);
  take("--name", file->name, &o->name);
  take("--site", file->site, &o->site);
  take("--region", file->region, &o->region);
  take("--jurisdiction", file->jurisdiction, &o->jurisdiction);
  take("--address", file->address, &o->address);
  take("--accelerators", file->accelerators, &o->accelerators);
  take("--work-dir", file->work_dir, &o->work_dir);
  take("--checkpoint-root", file->checkpoint_root, &o->checkpoint_root);
  take("--tls-cert", file->tls_cert, &o->tls.cert);
  take("--tls-key", file->tls_key, &o->tls.key);
  take("--tls-ca", file->tls_ca, &o->tls.ca);
  if (file->slurm.has_value()) {
    o->slurm = true;
    if (cmd.count("--slurm-partition") == 0) o->slurm_partition = file->slurm->partition;
    if (cmd.count("--slurm-nodes") == 0) o->slurm_nodes = file->slurm->nodes;
    if (file->slurm->fence.has_value() && cmd.count("--slurm-fence-s") == 0) {
      o->slurm_fence_s = static_cast<int>(file->slurm->fence->nanos() / 1'000'000'000);
    }
  }
  if (file->stop_grace.has_value() && cmd.count("--stop-grace-ms") == 0) {
    o->stop_grace_ms = file->stop_grace->nanos() / 1'000'000;
  }
  return true;
}

// Runs `run` until SIGINT/SIGTERM sets the stop flag it gets.
int UntilStopped(const std::function<Status(const std::atomic<bool>&)>& run) {
  const sigset_t stop_signals = BlockStopSignals();
  std::atomic<bool> stop{false};
  Status st;
  {
    SignalWaiter waiter(stop_signals, [&](int) { stop = true; });
    st = run(stop);
  }
  if (!st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

// The join token: --join-token-file, else $STARGATE_JOIN_TOKEN (never a
// flag's value: other users see a process's arguments).
bool ReadJoinToken(const AgentOptions& o, std::string* token) {
  if (o.join_token_file.empty()) {
    const char* env = std::getenv("STARGATE_JOIN_TOKEN");
    *token = env != nullptr ? env : "";
    return true;
  }
  if (!ReadWholeFile(o.join_token_file, "--join-token-file", token)) return false;
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r' || token->back() == ' ')) token->pop_back();
  return true;
}

// --tenant-users, --tenant-uid-range, --tenant-user into the runner's
// config; false after saying why.
bool TenantUsersFrom(const AgentOptions& o, control::TenantUserConfig* c) {
  c->enabled = o.tenant_users == "on" || (o.tenant_users == "auto" && geteuid() == 0);
  if (o.tenant_users == "on" && geteuid() != 0) {
    std::cerr << "error: --tenant-users on: the agent must run as root to switch users\n";
    return false;
  }
  unsigned lo = 0, hi = 0;
  char dash = 0;
  std::istringstream range(o.tenant_uid_range);
  if (!(range >> lo >> dash >> hi) || dash != '-' || lo < 1000 || hi < lo || hi > 4000000000u) {
    std::cerr << "error: --tenant-uid-range: expected MIN-MAX with 1000 <= MIN <= MAX, got '" << o.tenant_uid_range
              << "'\n";
    return false;
  }
  c->uid_min = lo;
  c->uid_max = hi;
  for (const std::string& pair : o.tenant_user) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      std::cerr << "error: --tenant-user: expected TENANT=USER, got '" << pair << "'\n";
      return false;
    }
    c->named[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return true;
}

// `stargate agent --slurm`: a Slurm cluster's driver.
int RunSlurmSite(const AgentOptions& o, Clock& clock) {
  control::SlurmSiteConfig c;
  if (o.tls.given() && !ReadTlsFlags(o.tls, &c.agent.tls_cert, &c.agent.tls_key, &c.agent.tls_ca)) return 2;
  if (!ReadJoinToken(o, &c.agent.join_token)) return 2;
  c.agent.server = o.server;
  c.agent.work_dir = o.work_dir;
  c.agent.stop_grace = Duration::Millis(o.stop_grace_ms);
  c.agent.node.site = o.site;
  c.agent.node.region = o.region;
  c.agent.node.jurisdiction = o.jurisdiction;
  c.agent.node.address = o.address;
  c.agent.node.checkpoint_root = o.checkpoint_root;
  c.partition = o.slurm_partition;
  c.only.insert(o.slurm_nodes.begin(), o.slurm_nodes.end());
  c.fence_s = o.slurm_fence_s;
  if (o.accelerators != "auto") {
    const std::string type = o.accelerators.substr(0, o.accelerators.find(':'));
    if (!ParseAcceleratorType(type).ok()) {
      std::cerr << "error: --accelerators: with --slurm, the type of the nodes' GPUs (H100, A100, ...), got '"
                << o.accelerators << "'\n";
      return 2;
    }
    c.gpu_type = type;
  }
  signal(SIGPIPE, SIG_IGN);  // a Slurm tool that exits before reading its stdin
  std::unique_ptr<control::SlurmClient> slurm = control::NewSlurmCommands();
  fmt::print("stargate agent: Slurm site {} ({}), server {}\n", o.site, o.jurisdiction, o.server);
  std::fflush(stdout);
  return UntilStopped(
      [&](const std::atomic<bool>& stop) { return control::RunSlurmSite(c, slurm.get(), &clock, stop); });
}

int RunAgent(const AgentOptions& o, Clock& clock) {
  if (o.slurm) return RunSlurmSite(o, clock);
  control::AgentConfig c;
  if (o.tls.given() && !ReadTlsFlags(o.tls, &c.tls_cert, &c.tls_key, &c.tls_ca)) return 2;
  if (!ReadJoinToken(o, &c.join_token)) return 2;
  if (!TenantUsersFrom(o, &c.tenant_users)) return 2;
  c.server = o.server;
  c.work_dir = o.work_dir;
  c.stop_grace = Duration::Millis(o.stop_grace_ms);
  c.holding_load = o.holding_load;
  control::NodeInfo& n = c.node;
  n.name = o.name;
  if (n.name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    n.name = host;
  }
  n.site = o.site;
  n.region = o.region;
  n.jurisdiction = o.jurisdiction;
  n.address = o.address;
  n.checkpoint_root = o.checkpoint_root;
  // "auto": what nvidia-smi sees, else one CPU slot; or "TYPE:N" as in job files.
  std::string accelerators = o.accelerators;
  if (accelerators == "auto") {
    auto gpus = control::ProbeNvidiaSmi();
    if (gpus.ok()) {
      auto gpu_type = control::TypeFromGpuName(gpus->front().name);
      if (!gpu_type.ok()) {
        std::cerr << "error: " << gpu_type.status().message() << "\n";
        return 2;
      }
      accelerators = fmt::format("{}:{}", Name(*gpu_type), gpus->size());
    } else {
      accelerators = "CPU:1";
    }
  }
  const size_t colon = accelerators.find(':');
  auto type = ParseAcceleratorType(accelerators.substr(0, colon));
  int count = 1;
  if (colon != std::string::npos) {
    try {
      count = std::stoi(accelerators.substr(colon + 1));
    } catch (const std::exception&) {
      count = 0;
    }
  }
  if (!type.ok() || count < 1 || count > 64) {
    std::cerr << "error: --accelerators: expected TYPE:N with N in [1, 64], got '" << o.accelerators << "'"
              << (type.ok() ? "" : std::string(" (") + std::string(type.status().message()) + ")") << "\n";
    return 2;
  }
  n.accelerator = *type;
  n.accelerators = count;
  n.cpus = static_cast<int>(std::thread::hardware_concurrency());
  n.memory_bytes = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);

  fmt::print("stargate agent {}: {} x {} at site {} ({}), server {}\n", n.name, n.accelerators, Name(n.accelerator),
             n.site, n.jurisdiction, o.server);
  std::fflush(stdout);
  // Signals blocked before the agent starts its threads.
  const sigset_t stop_signals = BlockStopSignals();
  StatusOr<std::unique_ptr<control::Agent>> agent = control::Agent::Open(c, &clock);
  if (!agent.ok()) {
    std::cerr << "error: " << agent.status().message() << "\n";
    return 1;
  }
  Status st;
  {
    SignalWaiter waiter(stop_signals, [&](int) { (*agent)->Stop(); });
    st = (*agent)->Wait();
  }
  if (!st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

// `node list` and `site list` filters and paging.
struct ListFilters {
  std::string site, region, jurisdiction;
  size_t limit = 0;  // 0: all, fetched a page at a time
  std::string by;    // site list: one row per region or jurisdiction
};

// {"H100": 16, "A100": 8} as "A100:8 H100:16" (the JSON's key order).
std::string AcceleratorsText(const json& accelerators) {
  std::string out;
  for (const auto& [type, count] : accelerators.items())
    out += fmt::format("{}{}:{}", out.empty() ? "" : " ", type, count.get<int>());
  return out;
}

// `site list --by region|jurisdiction`: the sites aggregated per group.
int ListGroups(RestClient& client, const std::string& query, const std::string& by, Format format) {
  const RestClient::Response r = client.Call("GET", "/v1/sites?by=" + by + query);
  if (!r.ok() || r.status != 200) return ReportFailure(r);
  const std::string key = by == "region" ? "regions" : "jurisdictions";
  const json list = json::parse(r.body)[key];
  std::vector<std::string> names;
  for (const json& g : list) names.push_back(by + "/" + g[by].get<std::string>());
  if (PrintAs(format, json{{key, list}}, names)) return exit_code::kOk;
  fmt::print("{:<16} {:>6} {:>7} {:>7}  {}\n", by == "region" ? "REGION" : "JURIS", "SITES", "NODES", "UP",
             "ACCELERATORS");
  for (const json& g : list) {
    fmt::print("{:<16} {:>6} {:>7} {:>7}  {}\n", g[by].get<std::string>(), g["sites"].get<int>(), g["nodes"].get<int>(),
               g["nodes_alive"].get<int>(), AcceleratorsText(g["accelerators"]));
  }
  return exit_code::kOk;
}

// `node list` and `site list` (`what`: nodes or sites).
int ListFromServer(const std::string& what, Format format, const ListFilters& filters) {
  if (!SettingsOk()) return exit_code::kUsage;
  RestClient client(ServerUrl(), Settings().token);
  std::string query;
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"site", filters.site},
                                   {"region", filters.region},
                                   {"jurisdiction", filters.jurisdiction}}) {
    if (!value.empty()) query += fmt::format("&{}={}", key, UrlEncode(value));
  }
  if (!filters.by.empty()) return ListGroups(client, query, filters.by, format);
  // A page at a time (thousands of sites or nodes), following `next`.
  constexpr size_t kPage = 500;
  json list = json::array();
  std::string after;
  for (;;) {
    const size_t want = filters.limit > 0 ? filters.limit - list.size() : kPage;
    std::string path = fmt::format("/v1/{}?limit={}{}", what, std::min(want, kPage), query);
    if (!after.empty()) path += "&after=" + UrlEncode(after);
    const RestClient::Response r = client.Call("GET", path);
    if (!r.ok() || r.status != 200) return ReportFailure(r);
    const json page = json::parse(r.body);
    for (const json& item : page[what]) list.push_back(item);
    if (!page.contains("next") || (filters.limit > 0 && list.size() >= filters.limit)) break;
    after = page["next"].get<std::string>();
  }
  std::vector<std::string> names;
  for (const json& item : list)
    names.push_back(what.substr(0, what.size() - 1) + "/" + item["name"].get<std::string>());
  if (PrintAs(format, json{{what, list}}, names)) return exit_code::kOk;
  const bool wide = format == Format::kWide;
  if (what == "nodes") {
    fmt::print("{:<16} {:<12} {:<8} {:<12} {:<10} {:>6} {:>8}{}\n", "NAME", "SITE", "JURIS", "ACCELERATORS", "STATE",
               "CPU%", "MEM_GIB", wide ? fmt::format(" {:>7} {:<22} {}", "GPU_W", "ADDRESS", "REGION") : "");
    for (const json& n : list) {
      // A down node's figures are its last report, not its state now: none shown.
      const bool up = n["alive"].get<bool>();
      const std::string cpu = up ? fmt::format("{:.1f}", 100 * n["cpu_utilisation"].get<double>()) : "-";
      const std::string mem = up ? fmt::format("{:.1f}", n["memory_used_bytes"].get<double>() / (1 << 30)) : "-";
      std::string extra;
      if (wide) {
        extra = fmt::format(" {:>7} {:<22} {}", up ? fmt::format("{:.0f}", n.value("gpu_power_w", 0.0)) : "-",
                            n.value("address", "-"), n.value("region", "-"));
      }
      fmt::print("{:<16} {:<12} {:<8} {:<12} {:<10} {:>6} {:>8}{}\n", n["name"].get<std::string>(),
                 n["site"].get<std::string>(), n["jurisdiction"].get<std::string>(),
                 fmt::format("{}:{}", n["accelerator"].get<std::string>(), n["accelerators"].get<int>()),
                 up ? "up" : "down", cpu, mem, extra);
    }
  } else {
    // NODE_H and LOST: the site's record (up time, nodes lost) that
    // `checkpoint.interval: auto` plans with.
    fmt::print("{:<16} {:<12} {:<8} {:>6} {:>6} {:>9} {:>5}  {}\n", "SITE", "REGION", "JURIS", "NODES", "UP", "NODE_H",
               "LOST", "ACCELERATORS");
    for (const json& s : list) {
      fmt::print("{:<16} {:<12} {:<8} {:>6} {:>6} {:>9.1f} {:>5}  {}\n", s["name"].get<std::string>(),
                 s["region"].get<std::string>(), s["jurisdiction"].get<std::string>(), s["nodes"].get<int>(),
                 s["nodes_alive"].get<int>(), s.value("node_hours", 0.0), s.value("failures", 0),
                 AcceleratorsText(s["accelerators"]));
    }
  }
  return exit_code::kOk;
}

}  // namespace

void AddAgentCommands(CLI::App& app, Clock& clock, int* exit_code) {
  auto o = std::make_shared<AgentOptions>();
  CLI::App* agent = app.add_subcommand("agent", "Run a node's agent: register, heartbeat, run the tasks it is given");
  agent->add_option("--server", o->server, "Server's agent API (HOST:PORT)")->capture_default_str();
  agent->add_option("--name", o->name, "Node name (default: the host name)");
  agent->add_option("--site", o->site, "Site this node belongs to")->capture_default_str();
  agent->add_option("--region", o->region, "Region of the site")->capture_default_str();
  agent->add_option("--jurisdiction", o->jurisdiction, "Legal area for data residency")->capture_default_str();
  agent->add_option("--address", o->address, "Address other ranks reach this node at (MASTER_ADDR)")
      ->capture_default_str();
  agent
      ->add_option("--accelerators", o->accelerators,
                   "Devices on this node, TYPE:N (CPU:1 for a CPU node), or auto: nvidia-smi's GPUs, else CPU:1")
      ->capture_default_str();
  agent->add_option("--work-dir", o->work_dir, "Task logs and working directories")->capture_default_str();
  agent
      ->add_option("--checkpoint-root", o->checkpoint_root,
                   "The site's checkpoint store as this node mounts it (absolute; its shared filesystem): "
                   "tasks checkpoint under ROOT/<tenant>/ (default: the server's data dir)")
      ->check([](const std::string& v) {
        const Status st = control::CheckCheckpointRoot(v);
        return st.ok() ? std::string() : std::string(st.message());
      });
  agent->add_option("--holding-load", o->holding_load,
                    "Command that keeps the devices in CUDA_VISIBLE_DEVICES busy; at a site with a power ramp "
                    "limit it holds a ramped task's devices after it ends while their limit steps down");
  agent->add_option("--stop-grace-ms", o->stop_grace_ms, "SIGTERM, then SIGKILL this much later")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  AddTlsFlags(agent, &o->tls, "Mutual TLS to the servers: this node's", "that signed the servers' certificates");
  agent
      ->add_option("--tenant-users", o->tenant_users,
                   "Run each task as its tenant's Unix user (sg-<tenant>, made on first use) with private work, "
                   "checkpoint and log areas: on, off, or auto (on when the agent runs as root)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "on", "off"}));
  agent->add_option("--tenant-uid-range", o->tenant_uid_range, "uids for the users --tenant-users makes")
      ->capture_default_str();
  agent->add_option("--tenant-user", o->tenant_user, "TENANT=USER: run this tenant as this existing user (repeat)");
  agent->add_option("--join-token-file", o->join_token_file,
                    "A server with --node-auth token: the join token for the first registration (default: "
                    "$STARGATE_JOIN_TOKEN); the node credential it yields is kept in WORK_DIR/credentials/");
  agent->add_flag("--slurm", o->slurm,
                  "Drive a Slurm cluster as this site: its nodes register as the site's nodes and each gang runs "
                  "as one sbatch job (needs sbatch, scontrol, scancel and SLURM_CONF as for any Slurm client; "
                  "--accelerators then names the GPU type when Slurm's GRES does not)");
  agent->add_option("--slurm-partition", o->slurm_partition, "With --slurm: this partition's nodes, and jobs in it");
  agent->add_option("--slurm-nodes", o->slurm_nodes, "With --slurm: only these Slurm nodes")->delimiter(',');
  agent
      ->add_option("--slurm-fence-s", o->slurm_fence_s,
                   "With --slurm: a batch job cancels itself when this driver has been silent this long (0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  agent->add_option("--config", o->config,
                    "A YAML file with these settings (server, name, site, region, "
                    "jurisdiction, address, accelerators, work_dir, checkpoint_root, stop_grace, tls_cert, "
                    "tls_key, tls_ca, slurm: {partition, nodes, fence}); flags win");
  agent->callback(
      [o, agent, &clock, exit_code] { *exit_code = ApplyConfigFile(*agent, o.get()) ? RunAgent(*o, clock) : 2; });

  for (const char* what : {"node", "site"}) {
    CLI::App* group = app.add_subcommand(what, fmt::format("The {}s the server knows", what));
    group->require_subcommand(1);
    group->add_option("--server", Globals().server,
                      "Server URL (default $STARGATE_SERVER, the context's, http://127.0.0.1:8470)");
    CLI::App* list = group->add_subcommand("list", fmt::format("List {}s", what));
    list->fallthrough();
    struct ListFlags {
      std::string output = "table";
      bool watch = false;
      double interval = 2;
    };
    auto flags = std::make_shared<ListFlags>();
    AddOutputFlag(list, &flags->output);
    AddWatchFlags(list, &flags->watch, &flags->interval);
    auto filters = std::make_shared<ListFilters>();
    if (std::string(what) == "node") list->add_option("--site", filters->site, "Only this site's nodes");
    list->add_option("--region", filters->region, fmt::format("Only {}s in this region", what));
    list->add_option("--jurisdiction", filters->jurisdiction, fmt::format("Only {}s in this jurisdiction", what));
    list->add_option("--limit", filters->limit, "At most this many, in name order (default: all)")
        ->check(CLI::Range(size_t{0}, size_t{100000}));
    if (std::string(what) == "site") {
      list->add_option("--by", filters->by, "One row per region or jurisdiction: sites, nodes, accelerators")
          ->check(CLI::IsMember({"region", "jurisdiction"}));
    }
    const std::string plural = std::string(what) + "s";
    list->callback([flags, filters, plural, exit_code, &clock] {
      const Format format = ParseFormat(flags->output);
      *exit_code =
          Watch(clock, flags->watch, flags->interval, format, [=] { return ListFromServer(plural, format, *filters); });
    });
    if (std::string(what) == "node") AddNodeIdentityCommands(group, exit_code);
  }
}

}  // namespace stargate::cli
