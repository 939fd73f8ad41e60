// `stargate completion bash|zsh`: a completion script made from the
// command tree itself, so it never falls behind a new command or flag.
// bash: `source <(stargate completion bash)` (or save it under
// /etc/bash_completion.d/); zsh: `source <(stargate completion zsh)` (it
// loads zsh's bashcompinit and uses the same function).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_codes.h"

namespace stargate::cli {
namespace {

struct Node {
  std::string path;  // "/job/submit"
  std::vector<std::string> subcommands, flags;
};

void Walk(const CLI::App& app, const std::string& path, std::vector<Node>& out) {
  Node n;
  n.path = path;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name().empty()) continue;
    n.subcommands.push_back(sub->get_name());
  }
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& l : o->get_lnames()) n.flags.push_back("--" + l);
    for (const std::string& s : o->get_snames()) n.flags.push_back("-" + s);
  }
  out.push_back(n);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    Walk(*sub, path + "/" + sub->get_name(), out);
  }
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string BashScript(const CLI::App& root) {
  std::vector<Node> nodes;
  Walk(root, "", nodes);
  std::string subs, words;
  for (const Node& n : nodes) {
    if (!n.subcommands.empty()) subs += fmt::format("    \"{}\") echo \"{}\" ;;\n", n.path, Join(n.subcommands));
    std::vector<std::string> all = n.subcommands;
    all.insert(all.end(), n.flags.begin(), n.flags.end());
    words += fmt::format("    \"{}\") echo \"{}\" ;;\n", n.path, Join(all));
  }
  std::string script = R"SH(# bash completion for stargate (made by `stargate completion bash`).
_stargate_subcommands() {
  case "$1" in
@SUBS@  esac
}
_stargate_words() {
  case "$1" in
@WORDS@  esac
}
_stargate() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" w i subs
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "table wide json yaml name" -- "$cur")); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    [ "$w" = "--" ] && { COMPREPLY=(); return; }
    subs=" $(_stargate_subcommands "$path") "
    [[ "$subs" == *" $w "* ]] && path="$path/$w"
  done
  COMPREPLY=($(compgen -W "$(_stargate_words "$path")" -- "$cur"))
  if [[ "$cur" != -* && -z "$(_stargate_subcommands "$path")" ]]; then
    COMPREPLY+=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _stargate stargate
)SH";
  script.replace(script.find("@SUBS@"), 6, subs);
  script.replace(script.find("@WORDS@"), 7, words);
  return script;
}

}  // namespace

void AddCompletionCommand(CLI::App& app, int* exit_code) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("completion", "Print a shell completion script: source <(stargate completion bash), or zsh");
  cmd->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  cmd->callback([&app, shell, exit_code] {
    const std::string script = BashScript(app);
    if (*shell == "zsh") {
      fmt::print(
          "#compdef stargate\n# zsh completion for stargate (made by `stargate completion zsh`).\n"
          "autoload -U +X bashcompinit && bashcompinit\n{}",
          script);
    } else {
      fmt::print("{}", script);
    }
    *exit_code = exit_code::kOk;
  });
}

}  // namespace stargate::cli
