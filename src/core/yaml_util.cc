#include "core/yaml_util.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#include "core/unit_parser.h"

namespace stargate::yaml_util {
namespace {

// Prints 1e7 as "10000000" and 0.25 as "0.25" in range messages.
std::string FormatNumber(double v) {
  if (std::isfinite(v) && std::floor(v) == v && std::abs(v) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(v));
  }
  return fmt::format("{:g}", v);
}

std::string DescribeRange(const Range& r) {
  const bool no_max = r.max >= 1e300;
  if (no_max) return fmt::format("{} {}", r.min_open ? ">" : ">=", FormatNumber(r.min));
  return fmt::format("in {}{}, {}]", r.min_open ? "(" : "[", FormatNumber(r.min), FormatNumber(r.max));
}

Status CheckRange(const Cursor& c, double v, const Range& r) {
  const bool low = r.min_open ? !(v > r.min) : !(v >= r.min);
  if (low || !(v <= r.max)) {
    return c.Error(fmt::format("must be {} (got {})", DescribeRange(r), FormatNumber(v)));
  }
  return absl::OkStatus();
}

// Wraps a unit parser: reads the scalar, prefixes errors with the position
// and checks the range.
template <typename Parse>
StatusOr<double> ReadUnit(const Cursor& c, Range r, std::string_view expected, Parse parse) {
  SG_ASSIGN_OR_RETURN(const std::string text, c.Scalar(expected));
  StatusOr<double> v = parse(text);
  if (!v.ok()) return c.Error(std::string(v.status().message()));
  SG_RETURN_IF_ERROR(CheckRange(c, *v, r));
  return *v;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Records where the next document starts; ignores its content.
class DocumentStart : public YAML::EventHandler {
 public:
  YAML::Mark mark;
  void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

StatusOr<YAML::Node> LoadSingleDocument(std::string_view text, const ParseContext& ctx) {
  const std::string owned(text);
  YAML::Node root = YAML::Load(owned);
  // Not YAML::LoadAll: in yaml-cpp 0.7 it loops forever, allocating, when a
  // token is left unconsumed (a stray ',' at document level; upstream
  // jbeder/yaml-cpp#1040, fixed after 0.8). Instead, a second event pass asks
  // for at most one more document.
  std::istringstream in(owned);
  YAML::Parser parser(in);
  DocumentStart first, second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second)) return root;
  const size_t pos = second.mark.pos < 0 ? 0 : static_cast<size_t>(second.mark.pos);
  if (text.substr(std::min(pos, text.size())).starts_with("---")) {
    return ErrorAt(ctx, second.mark, "", "expected one YAML document, found a second one ('---')");
  }
  const std::string_view rest = text.substr(std::min(pos, text.size()), 1);
  return ErrorAt(ctx, second.mark, "", fmt::format("YAML syntax error: unexpected {}", Quoted(rest)));
}

int64_t BudgetFor(size_t text_bytes) {
  return 4096 + 8 * static_cast<int64_t>(std::min<size_t>(text_bytes, size_t{1} << 40));
}

std::string Where(const ParseContext& ctx, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return fmt::format("{}:1:1: ", ctx.filename);
  return fmt::format("{}:{}:{}: ", ctx.filename, mark.line + 1, mark.column + 1);
}

Status ErrorAt(const ParseContext& ctx, const YAML::Mark& mark, std::string_view path, std::string_view what) {
  std::string msg = Where(ctx, mark);
  if (!path.empty()) {
    msg += path;
    msg += ": ";
  }
  msg += what;
  return absl::InvalidArgumentError(msg);
}

std::string UnknownName(std::string_view what, std::string_view text, std::span<const std::string_view> known) {
  const std::string_view m = ClosestMatch(text, known);
  const std::string hint = m.empty() ? "" : fmt::format("did you mean '{}'? ", m);
  return fmt::format("unknown {} {} ({}known: {})", what, Quoted(text), hint, JoinNames(known));
}

// ---- Cursor ----

Cursor::Cursor(YAML::Node node, std::string path, YAML::Mark fallback, ParseContext* ctx)
    : node_(std::move(node)), path_(std::move(path)), mark_(fallback), ctx_(ctx) {
  const YAML::Mark own = node_.Mark();
  if (!own.is_null() && own.line >= 0) mark_ = own;
}

Cursor Cursor::Root(YAML::Node node, ParseContext* ctx) {
  YAML::Mark start;  // line 0, column 0
  return Cursor(std::move(node), "", start, ctx);
}

std::string Cursor::Describe() const {
  if (IsMap()) return "a map";
  if (IsSequence()) return "a list";
  if (IsScalar()) return fmt::format("the value {}", Quoted(node_.Scalar()));
  return "nothing (null)";
}

Status Cursor::Error(std::string_view what) const { return ErrorAt(*ctx_, mark_, path_, what); }

Status Cursor::Charge(int64_t cost) const {
  ctx_->budget -= cost;
  if (ctx_->budget < 0) {
    return Error("document too large after expanding aliases (*name); refusing to read on");
  }
  return absl::OkStatus();
}

StatusOr<std::string> Cursor::Scalar(std::string_view expected) const {
  if (!IsScalar()) return Error(fmt::format("expected {}, got {}", expected, Describe()));
  SG_RETURN_IF_ERROR(Charge(1 + static_cast<int64_t>(node_.Scalar().size())));
  return node_.Scalar();
}

StatusOr<std::vector<Cursor>> Cursor::Items() const {
  std::vector<Cursor> out;
  if (IsNull()) return out;
  if (!IsSequence()) return Error(fmt::format("expected a list, got {}", Describe()));
  SG_RETURN_IF_ERROR(Charge(1 + static_cast<int64_t>(node_.size())));
  out.reserve(node_.size());
  size_t i = 0;
  for (const YAML::Node& item : node_) out.push_back(Item(i++, item));
  return out;
}

StatusOr<Fields> Cursor::Map(std::span<const std::string_view> known) const {
  Fields fields(*this);
  if (IsNull()) return fields;
  if (!IsMap()) return Error(fmt::format("expected a map, got {}", Describe()));
  SG_RETURN_IF_ERROR(Charge(1 + static_cast<int64_t>(node_.size())));
  for (const auto& kv : node_) {
    const Cursor key(kv.first, path_, mark_, ctx_);
    if (!key.IsScalar()) return key.Error(fmt::format("expected a key name, got {}", key.Describe()));
    const std::string& name = kv.first.Scalar();
    // "x-" keys are free for the user, e.g. to hold blocks to alias later.
    if (name.starts_with("x-")) continue;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string_view m = ClosestMatch(name, known);
      const std::string hint =
          m.empty() ? fmt::format("known keys: {}", JoinNames(known)) : fmt::format("did you mean '{}'?", m);
      return key.Error(fmt::format("unknown key {} ({})", Quoted(name), hint));
    }
    if (fields.Find(name) != nullptr) {
      return key.Error(fmt::format("duplicate key {}", Quoted(name)));
    }
    fields.entries_.push_back({name, Child(name, kv.second)});
  }
  return fields;
}

Cursor Cursor::Child(std::string_view key, YAML::Node value) const {
  std::string path = path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  return Cursor(std::move(value), std::move(path), mark_, ctx_);
}

Cursor Cursor::Item(size_t index, YAML::Node value) const {
  return Cursor(std::move(value), fmt::format("{}[{}]", path_, index), mark_, ctx_);
}

// ---- scalar readers ----

StatusOr<std::string> ReadString(const Cursor& c) { return c.Scalar("a string"); }

StatusOr<bool> ReadBool(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const std::string text, c.Scalar("true or false"));
  const std::string v = Lower(text);
  if (v == "true" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "no" || v == "off") return false;
  return c.Error(fmt::format("expected true or false, got {}", Quoted(text)));
}

StatusOr<double> ReadNumber(const Cursor& c, Range r) { return ReadUnit(c, r, "a number", ParseNumber); }

StatusOr<double> ReadCount(const Cursor& c, Range r) { return ReadUnit(c, r, "a number", ParseCount); }

StatusOr<int64_t> ReadInt(const Cursor& c, Range r) {
  auto parse = r.min < 0 ? ParseNumber : ParseCount;
  SG_ASSIGN_OR_RETURN(const double v, ReadUnit(c, r, "a whole number", parse));
  // The range check ran first, so v is finite and, for every range we use,
  // well inside int64.
  if (std::floor(v) != v || std::abs(v) > 9e15) {
    return c.Error(fmt::format("expected a whole number, got {}", FormatNumber(v)));
  }
  return static_cast<int64_t>(v);
}

StatusOr<uint64_t> ReadUint64(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const std::string text, c.Scalar("a whole number"));
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec == std::errc::result_out_of_range) {
    return c.Error(fmt::format("{} does not fit in 64 bits", Quoted(text)));
  }
  if (ec != std::errc() || ptr != end) {
    return c.Error(fmt::format("expected a whole number >= 0, got {}", Quoted(text)));
  }
  return v;
}

StatusOr<Duration> ReadDuration(const Cursor& c, DurationRange r) {
  SG_ASSIGN_OR_RETURN(const std::string text, c.Scalar("a duration"));
  StatusOr<Duration> d = ParseDuration(text);
  if (!d.ok()) return c.Error(std::string(d.status().message()));
  if (r.min_open ? !(*d > r.min) : !(*d >= r.min)) {
    const std::string bound = r.min == Duration::Zero() ? "0" : fmt::format("{}s", FormatNumber(r.min.seconds()));
    return c.Error(fmt::format("must be {} {} (got {})", r.min_open ? ">" : ">=", bound, Quoted(text)));
  }
  if (*d > r.max) {
    return c.Error(fmt::format("must be <= {} days (got {})", FormatNumber(r.max.hours() / 24), Quoted(text)));
  }
  return *d;
}

StatusOr<double> ReadPower(const Cursor& c, Range r) { return ReadUnit(c, r, "a power like 10.2kW", ParsePower); }

StatusOr<double> ReadBandwidth(const Cursor& c, Range r) {
  return ReadUnit(c, r, "a bandwidth like 400Gbps", ParseBandwidth);
}

StatusOr<double> ReadBytes(const Cursor& c, Range r) { return ReadUnit(c, r, "a size like 80GB", ParseBytes); }

StatusOr<AcceleratorType> ReadAccelerator(const Cursor& c) {
  SG_ASSIGN_OR_RETURN(const std::string text, c.Scalar("an accelerator name"));
  StatusOr<AcceleratorType> t = ParseAcceleratorType(text);
  if (!t.ok()) return c.Error(std::string(t.status().message()));
  return *t;
}

StatusOr<std::vector<std::string>> ReadStringList(const Cursor& c) {
  if (c.IsScalar()) {
    SG_ASSIGN_OR_RETURN(std::string one, ReadString(c));
    return std::vector<std::string>{std::move(one)};
  }
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c.Items());
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(std::string s, ReadString(item));
    out.push_back(std::move(s));
  }
  return out;
}

StatusOr<std::vector<AcceleratorType>> ReadAcceleratorList(const Cursor& c) {
  if (c.IsScalar()) {
    SG_ASSIGN_OR_RETURN(const AcceleratorType t, ReadAccelerator(c));
    return std::vector<AcceleratorType>{t};
  }
  SG_ASSIGN_OR_RETURN(const std::vector<Cursor> items, c.Items());
  std::vector<AcceleratorType> out;
  for (const Cursor& item : items) {
    SG_ASSIGN_OR_RETURN(const AcceleratorType t, ReadAccelerator(item));
    // A repeated type adds nothing; keep the list a set in input order.
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

// ---- Fields ----

const Cursor* Fields::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

std::optional<Cursor> Fields::Get(std::string_view key) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return std::nullopt;
  return *c;
}

Status Fields::Missing(std::string_view key) const {
  const std::string path = map_.path().empty() ? std::string(key) : fmt::format("{}.{}", map_.path(), key);
  return ErrorAt(map_.ctx(), map_.mark(), path, "required key is missing");
}

StatusOr<Cursor> Fields::Require(std::string_view key) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return Missing(key);
  return *c;
}

StatusOr<std::string> Fields::String(std::string_view key, std::string fallback) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadString(*c);
}

StatusOr<bool> Fields::Bool(std::string_view key, bool fallback) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadBool(*c);
}

StatusOr<double> Fields::Number(std::string_view key, double fallback, Range r) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadNumber(*c, r);
}

StatusOr<double> Fields::Count(std::string_view key, double fallback, Range r) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadCount(*c, r);
}

StatusOr<int> Fields::Int(std::string_view key, int fallback, Range r) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  r.min = std::max<double>(r.min, std::numeric_limits<int>::min());
  r.max = std::min<double>(r.max, std::numeric_limits<int>::max());
  SG_ASSIGN_OR_RETURN(const int64_t v, ReadInt(*c, r));
  return static_cast<int>(v);
}

StatusOr<int64_t> Fields::Int64(std::string_view key, int64_t fallback, Range r) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadInt(*c, r);
}

StatusOr<Duration> Fields::Dur(std::string_view key, Duration fallback, DurationRange r) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadDuration(*c, r);
}

StatusOr<double> Fields::Power(std::string_view key, double fallback, Range r) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadPower(*c, r);
}

StatusOr<double> Fields::Bandwidth(std::string_view key, double fallback, Range r) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadBandwidth(*c, r);
}

StatusOr<std::vector<std::string>> Fields::StringList(std::string_view key, std::vector<std::string> fallback) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadStringList(*c);
}

StatusOr<std::vector<AcceleratorType>> Fields::AcceleratorList(std::string_view key,
                                                               std::vector<AcceleratorType> fallback) const {
  const Cursor* c = Find(key);
  if (c == nullptr) return fallback;
  return ReadAcceleratorList(*c);
}

}  // namespace stargate::yaml_util

namespace stargate::yaml_util {

Status GuardParse(ParseContext& ctx, const std::function<Status()>& body) {
  const YAML::Mark start;
  try {
    return body();
  } catch (const YAML::ParserException& e) {
    return ErrorAt(ctx, e.mark, "", fmt::format("YAML syntax error: {}", e.msg));
  } catch (const YAML::Exception& e) {
    return ErrorAt(ctx, e.mark, "", fmt::format("cannot read YAML: {}", e.msg));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(fmt::format("{}: out of memory while parsing", ctx.filename));
  } catch (const std::exception& e) {
    return ErrorAt(ctx, start, "", fmt::format("cannot read YAML: {}", e.what()));
  } catch (...) {
    return ErrorAt(ctx, start, "", "cannot read YAML: unknown error");
  }
}

}  // namespace stargate::yaml_util
