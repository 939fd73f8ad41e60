// File: output.h
// `-o table|wide|json|yaml|name` for the client commands' lists and
// shows: the server's JSON as it is (json, yaml), one `kind/NAME` per line
// (name, for xargs), or the command's own table (table, wide: more
// columns). YAML is written here, block style, from the JSON (the
// `stargate` front links no YAML library, to start fast).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI
namespace stargate {
class Clock;
}

namespace stargate::cli {

enum class Format { kTable, kWide, kJson, kYaml, kName };

// Adds `-o,--output` (checked against the five names) to `cmd`.
CLI::Option* AddOutputFlag(CLI::App* cmd, std::string* format);
Format ParseFormat(const std::string& name);  // one of the checked names

// `value` as a YAML document (block style; strings quoted where a plain
// scalar could be read as something else), ending in a newline.
std::string ToYaml(const nlohmann::json& value);

// Prints `doc` as json (indented) or yaml; with `compact`, json on one
// line (a --watch stream: one document per line).
void PrintDocument(const nlohmann::json& doc, Format format, bool compact = false);
// For json and yaml prints `doc`, for name `names` one per line
// ("job/12"), and returns true; false for table and wide, which the
// caller prints its own way.
bool PrintAs(Format format, const nlohmann::json& doc, const std::vector<std::string>& names);

// Runs `once` now and, with `watch`, again every `interval_s` seconds
// until the process is interrupted (or `once` fails: its exit code): a
// table redraws the terminal (piped, it is printed again after a blank
// line); json and yaml print one document after another.
int Watch(Clock& clock, bool watch, double interval_s, Format format, const std::function<int()>& once);
// Adds -w,--watch and --interval to `cmd`.
void AddWatchFlags(CLI::App* cmd, bool* watch, double* interval_s);

}  // namespace stargate::cli
