#include "core/job_array.h"

#include <charconv>

#include <fmt/format.h>

namespace stargate {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A whole decimal number within [0, kMaxIndex].
StatusOr<uint32_t> Number(std::string_view text, std::string_view what) {
  text = Trim(text);
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > JobArray::kMaxIndex) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not {} (a whole number from 0 to {})", text, what, JobArray::kMaxIndex));
  }
  return static_cast<uint32_t>(v);
}

}  // namespace

StatusOr<JobArray> JobArray::Parse(std::string_view text) {
  text = Trim(text);
  JobArray out;
  out.text_ = std::string(text);
  if (text.empty()) return absl::InvalidArgumentError("an empty array; write a count (100) or ranges (0-99,200)");
  const bool lone = text.find_first_of(",-:") == std::string_view::npos;
  if (lone) {  // a count
    SG_ASSIGN_OR_RETURN(const uint32_t n, Number(text, "a count"));
    if (n < 1 || n > kMaxSize) {
      return absl::InvalidArgumentError(fmt::format("a count of {} jobs; an array has 1 to {}", n, kMaxSize));
    }
    out.ranges_.push_back(Range{0, n - 1, 1});
    out.size_ = n;
    return out;
  }
  uint64_t size = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = Trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    Range r;
    std::string_view span = item;
    if (const size_t colon = item.find(':'); colon != std::string_view::npos) {
      span = item.substr(0, colon);
      SG_ASSIGN_OR_RETURN(r.step, Number(item.substr(colon + 1), "a step"));
      if (r.step == 0) return absl::InvalidArgumentError(fmt::format("'{}': a step must be at least 1", item));
    }
    if (const size_t dash = span.find('-'); dash != std::string_view::npos) {
      SG_ASSIGN_OR_RETURN(r.first, Number(span.substr(0, dash), "an index"));
      SG_ASSIGN_OR_RETURN(r.last, Number(span.substr(dash + 1), "an index"));
      if (r.last < r.first) return absl::InvalidArgumentError(fmt::format("'{}': a range goes up", item));
    } else {
      if (r.step != 1) return absl::InvalidArgumentError(fmt::format("'{}': a step needs a range (0-99:2)", item));
      SG_ASSIGN_OR_RETURN(r.first, Number(span, "an index"));
      r.last = r.first;
    }
    r.last = r.first + (r.last - r.first) / r.step * r.step;  // the last index the step reaches
    if (!out.ranges_.empty() && r.first <= out.ranges_.back().last) {
      return absl::InvalidArgumentError(
          fmt::format("'{}' starts at or before index {}, where the part before it ends: list ranges going up, "
                      "without overlap",
                      item, out.ranges_.back().last));
    }
    size += (r.last - r.first) / r.step + 1;
    if (size > kMaxSize) return absl::InvalidArgumentError(fmt::format("more than {} jobs in one array", kMaxSize));
    out.ranges_.push_back(r);
  }
  out.size_ = static_cast<uint32_t>(size);
  return out;
}

std::vector<uint32_t> JobArray::Indices() const {
  std::vector<uint32_t> out;
  out.reserve(size_);
  for (const Range& r : ranges_) {
    for (uint64_t i = r.first; i <= r.last; i += r.step) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

}  // namespace stargate
