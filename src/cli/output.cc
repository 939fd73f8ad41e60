#include "cli/output.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <string_view>

#include <unistd.h>

#include "core/clock.h"

namespace stargate::cli {
namespace {

using nlohmann::json;

// A string YAML reads back as the same string when written plain: words
// of letters, digits and _ . / @ + -, not starting like a number or an
// indicator, and not one of YAML 1.1's booleans or null.
bool Plain(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_' || s[0] == '/')) return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '_' || c == '.' || c == '/' || c == '@' || c == '+' || c == '-')) return false;
  }
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 12> kReserved = {"true", "false", "yes",  "no",  "on",   "off",
                                                                 "y",    "n",     "null", "nan", ".inf", "~"};
  return std::find(kReserved.begin(), kReserved.end(), lower) == kReserved.end();
}

// JSON's double-quoted string is a valid YAML double-quoted scalar.
std::string Scalar(const json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return Plain(s) ? s : v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return v.dump();  // numbers, booleans, null
}

bool Nested(const json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void Emit(const json& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, item] : v.items()) {
      out += pad + Scalar(json(key)) + ":";
      if (Nested(item)) {
        out += "\n";
        Emit(item, indent + 2, out);
      } else {
        out += " " + (item.is_object() ? std::string("{}") : item.is_array() ? std::string("[]") : Scalar(item)) + "\n";
      }
    }
    return;
  }
  for (const json& item : v) {  // an array
    if (Nested(item)) {
      // "- " then the item's first line on the same line, the rest under it.
      std::string inner;
      Emit(item, indent + 2, inner);
      out += pad + "- " + inner.substr(static_cast<size_t>(indent) + 2);
    } else {
      out += pad + "- " +
             (item.is_object()  ? std::string("{}")
              : item.is_array() ? std::string("[]")
                                : Scalar(item)) +
             "\n";
    }
  }
}

}  // namespace

CLI::Option* AddOutputFlag(CLI::App* cmd, std::string* format) {
  return cmd
      ->add_option("-o,--output", *format,
                   "How to print: table, wide (more columns), json or yaml (the server's record), name (kind/NAME)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "wide", "json", "yaml", "name"}));
}

Format ParseFormat(const std::string& name) {
  if (name == "wide") return Format::kWide;
  if (name == "json") return Format::kJson;
  if (name == "yaml") return Format::kYaml;
  if (name == "name") return Format::kName;
  return Format::kTable;
}

std::string ToYaml(const json& value) {
  if (!Nested(value)) return (value.is_object() ? "{}" : value.is_array() ? "[]" : Scalar(value)) + "\n";
  std::string out;
  Emit(value, 0, out);
  return out;
}

void PrintDocument(const json& doc, Format format, bool compact) {
  if (format == Format::kYaml) {
    fmt::print("{}{}", compact ? "---\n" : "", ToYaml(doc));
  } else {
    fmt::print("{}\n", doc.dump(compact ? -1 : 2, ' ', false, json::error_handler_t::replace));
  }
  std::fflush(stdout);
}

bool PrintAs(Format format, const json& doc, const std::vector<std::string>& names) {
  if (format == Format::kJson || format == Format::kYaml) {
    PrintDocument(doc, format);
    return true;
  }
  if (format != Format::kName) return false;
  for (const std::string& n : names) fmt::print("{}\n", n);
  return true;
}

int Watch(Clock& clock, bool watch, double interval_s, Format format, const std::function<int()>& once) {
  if (!watch) return once();
  const bool redraw = (format == Format::kTable || format == Format::kWide) && isatty(STDOUT_FILENO);
  for (;;) {
    if (redraw) fmt::print("\033[H\033[2J");
    const int code = once();
    if (code != 0) return code;
    std::fflush(stdout);
    clock.SleepFor(Duration::Millis(static_cast<int64_t>(interval_s * 1000)));
    if (!redraw && (format == Format::kTable || format == Format::kWide)) fmt::print("\n");
  }
}

void AddWatchFlags(CLI::App* cmd, bool* watch, double* interval_s) {
  cmd->add_flag("-w,--watch", *watch, "Print again every --interval seconds until interrupted");
  cmd->add_option("--interval", *interval_s, "Seconds between --watch prints")
      ->capture_default_str()
      ->check(CLI::Range(0.2, 3600.0));
}

}  // namespace stargate::cli
