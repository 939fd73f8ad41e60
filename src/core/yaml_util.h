// File: yaml_util.h
// Typed, position-aware reading of a yaml-cpp document for the spec parsers
// (scenarios, job, serve, site and agent files). Every error is InvalidArgument with text
//   "FILE:LINE:COL: FIELD.PATH: what is wrong"
// (1-based line and column), pointing at the offending value or key.
//
// Include only from .cc files: yaml-cpp headers are heavy. The functions here
// call yaml-cpp accessors that may throw in corner cases; callers catch at
// their public boundary (ParseScenario does), nothing here throws on purpose.
//
// Not thread-safe per parse (a ParseContext is mutable); separate parses are
// independent.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"
#include "core/status.h"
#include "core/text_util.h"
#include "core/units.h"

namespace stargate::yaml_util {

// State shared by all cursors of one parse.
struct ParseContext {
  std::string filename;
  // Work left, in nodes visited plus scalar bytes read. YAML aliases let a
  // small file name one big node many times; without a cap, converting it
  // would take time and memory quadratic (or worse) in the input size.
  int64_t budget = 0;
};

// Work allowed for a document of `text_bytes`: generous for any real file
// (which costs about its own size), small enough that alias bombs stop early.
int64_t BudgetFor(size_t text_bytes);

// "FILE:LINE:COL: " for a mark (1-based); line 1 col 1 for a null mark.
std::string Where(const ParseContext& ctx, const YAML::Mark& mark);

// InvalidArgument "FILE:LINE:COL: PATH: what" (or without "PATH: " when empty).
Status ErrorAt(const ParseContext& ctx, const YAML::Mark& mark, std::string_view path, std::string_view what);

// Loads the one YAML document in `text` (empty text gives a null node). A
// second document ("---") or trailing junk yaml-cpp leaves unread (a stray
// ',') is an InvalidArgument at its position. Throws what yaml-cpp throws
// (YAML::ParserException on syntax errors); callers catch.
StatusOr<YAML::Node> LoadSingleDocument(std::string_view text, const ParseContext& ctx);

// Inclusive numeric bounds; `min_open` makes the lower bound strict (> min).
struct Range {
  double min = 0;
  double max = 1e300;
  bool min_open = false;
};
// Durations: at least (or more than) `min`; the unit parser caps the top.
struct DurationRange {
  Duration min = Duration::Zero();
  bool min_open = false;
  Duration max = Duration::Nanos(INT64_MAX);  // inclusive
};

class Fields;

// One node of the document and the field path that leads to it.
class Cursor {
 public:
  Cursor(YAML::Node node, std::string path, YAML::Mark fallback, ParseContext* ctx);

  // The document root, path "".
  static Cursor Root(YAML::Node node, ParseContext* ctx);

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }
  ParseContext& ctx() const { return *ctx_; }

  bool IsNull() const { return node_.IsNull(); }
  bool IsScalar() const { return node_.IsScalar(); }
  bool IsSequence() const { return node_.IsSequence(); }
  bool IsMap() const { return node_.IsMap(); }
  // "a map", "a list", "null", "the value 'x'": for "expected ..., got ...".
  std::string Describe() const;

  // InvalidArgument at this node: "FILE:LINE:COL: PATH: what".
  Status Error(std::string_view what) const;

  // The scalar's text; an error for maps, lists and null.
  StatusOr<std::string> Scalar(std::string_view expected = "a value") const;
  // The elements of a list; null reads as an empty list.
  StatusOr<std::vector<Cursor>> Items() const;
  // A map whose keys must all be in `known` (else "unknown key" with a
  // suggestion) and unique; null reads as an empty map. Keys starting with
  // "x-" are skipped: they hold anchored blocks (&name) to alias elsewhere.
  StatusOr<Fields> Map(std::span<const std::string_view> known) const;

  Cursor Child(std::string_view key, YAML::Node value) const;
  Cursor Item(size_t index, YAML::Node value) const;

 private:
  // Spends `cost` of the budget; an error once it runs out.
  Status Charge(int64_t cost) const;

  YAML::Node node_;
  std::string path_;
  YAML::Mark mark_;
  ParseContext* ctx_;
};

// Typed scalar readers. Each checks the node kind and the value's range and
// names both in its error.
StatusOr<std::string> ReadString(const Cursor& c);
StatusOr<bool> ReadBool(const Cursor& c);               // true/false, yes/no, on/off
StatusOr<double> ReadNumber(const Cursor& c, Range r);  // plain number, sign allowed
StatusOr<double> ReadCount(const Cursor& c, Range r);   // "405B", "1.5k", ...
// A whole number; count suffixes allowed ("2k"), sign allowed if r.min < 0.
StatusOr<int64_t> ReadInt(const Cursor& c, Range r);
StatusOr<uint64_t> ReadUint64(const Cursor& c);  // digits only: exact to 2^64-1
StatusOr<Duration> ReadDuration(const Cursor& c, DurationRange r);
StatusOr<double> ReadPower(const Cursor& c, Range r);
StatusOr<double> ReadBandwidth(const Cursor& c, Range r);
StatusOr<double> ReadBytes(const Cursor& c, Range r);
StatusOr<AcceleratorType> ReadAccelerator(const Cursor& c);
// A list of names, or one name standing for a one-element list.
StatusOr<std::vector<std::string>> ReadStringList(const Cursor& c);
StatusOr<std::vector<AcceleratorType>> ReadAcceleratorList(const Cursor& c);

// "unknown WHAT 'text' (did you mean 'x'? known: a, b, c)".
std::string UnknownName(std::string_view what, std::string_view text, std::span<const std::string_view> known);

// One spelling of an enum value. Matching folds case and '-' vs '_'.
template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

// Reads a scalar naming one entry of `table`; `what` ("fabric kind") names
// the enum in messages, which list the accepted names.
template <typename E>
StatusOr<E> ReadEnum(const Cursor& c, std::span<const EnumName<E>> table, std::string_view what);

// The keys of one YAML map, validated against a schema, with typed optional
// getters: each returns `fallback` when the key is absent, so a struct's
// default stays the single source of defaults.
class Fields {
 public:
  explicit Fields(Cursor map) : map_(std::move(map)) {}

  const Cursor& map() const { return map_; }
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  std::optional<Cursor> Get(std::string_view key) const;
  // "PATH.key: required key is missing", at the map.
  Status Missing(std::string_view key) const;
  // The value of a required key, or Missing(key).
  StatusOr<Cursor> Require(std::string_view key) const;

  StatusOr<std::string> String(std::string_view key, std::string fallback) const;
  StatusOr<bool> Bool(std::string_view key, bool fallback) const;
  StatusOr<double> Number(std::string_view key, double fallback, Range r) const;
  StatusOr<double> Count(std::string_view key, double fallback, Range r) const;
  StatusOr<int> Int(std::string_view key, int fallback, Range r) const;
  StatusOr<int64_t> Int64(std::string_view key, int64_t fallback, Range r) const;
  StatusOr<Duration> Dur(std::string_view key, Duration fallback, DurationRange r) const;
  StatusOr<double> Power(std::string_view key, double fallback, Range r) const;
  StatusOr<double> Bandwidth(std::string_view key, double fallback, Range r) const;
  StatusOr<std::vector<std::string>> StringList(std::string_view key, std::vector<std::string> fallback) const;
  StatusOr<std::vector<AcceleratorType>> AcceleratorList(std::string_view key,
                                                         std::vector<AcceleratorType> fallback) const;
  template <typename E>
  StatusOr<E> Enum(std::string_view key, E fallback, std::span<const EnumName<E>> table, std::string_view what) const {
    const Cursor* c = Find(key);
    if (c == nullptr) return fallback;
    return ReadEnum(*c, table, what);
  }

 private:
  friend class Cursor;
  struct Entry {
    std::string key;
    Cursor value;
  };
  const Cursor* Find(std::string_view key) const;

  Cursor map_;
  std::vector<Entry> entries_;
};

// Parses the one YAML document in `text` with `parse(root cursor)`,
// catching everything yaml-cpp throws (syntax errors and misuse) so no
// exception leaves core/: errors come back as "FILE:LINE:COL: ..." like
// the parsers' own. `what` ("scenario", "job file") names the document in
// the size-limit message; `max_bytes` bounds the text.
template <typename T, typename Parse>
StatusOr<T> ParseDocument(std::string_view text, const std::string& filename, std::string_view what, size_t max_bytes,
                          Parse parse);

// ---- template implementation ----

// The non-template part of ParseDocument: runs `body` under the catch
// blocks. Declared here so the template stays small.
Status GuardParse(ParseContext& ctx, const std::function<Status()>& body);

template <typename T, typename Parse>
StatusOr<T> ParseDocument(std::string_view text, const std::string& filename, std::string_view what, size_t max_bytes,
                          Parse parse) {
  ParseContext ctx{filename, BudgetFor(text.size())};
  if (text.size() > max_bytes) {
    return ErrorAt(ctx, YAML::Mark(), "",
                   fmt::format("{} is {} bytes; the limit is {} bytes", what, text.size(), max_bytes));
  }
  std::optional<StatusOr<T>> out;
  SG_RETURN_IF_ERROR(GuardParse(ctx, [&]() -> Status {
    SG_ASSIGN_OR_RETURN(const YAML::Node root, LoadSingleDocument(text, ctx));
    out.emplace(parse(Cursor::Root(root, &ctx)));
    return Status();
  }));
  return std::move(*out);
}

template <typename E>
StatusOr<E> ReadEnum(const Cursor& c, std::span<const EnumName<E>> table, std::string_view what) {
  SG_ASSIGN_OR_RETURN(const std::string text, c.Scalar(fmt::format("a {}", what)));
  std::vector<std::string_view> names;
  for (const EnumName<E>& e : table) {
    if (SameName(text, e.name)) return e.value;
    names.push_back(e.name);
  }
  return c.Error(UnknownName(what, text, names));
}

}  // namespace stargate::yaml_util
