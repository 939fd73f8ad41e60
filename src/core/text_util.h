// File: text_util.h
// Small string helpers for parser error messages: quoting untrusted text,
// "did you mean" suggestions and lists of accepted names. Pure functions;
// thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace stargate {

// `s` in single quotes, safe to embed in a one-line message: bytes outside
// printable ASCII become '?', and text past 60 bytes is cut with "...".
// Error messages echo user input, which may be binary garbage or megabytes.
std::string Quoted(std::string_view s);

// Levenshtein distance, capped: returns `cap` + 1 as soon as the distance is
// known to exceed `cap`, so comparing long garbage keys stays cheap.
int EditDistance(std::string_view a, std::string_view b, int cap);

// The candidate closest to `word` if it is plausibly a typo of it (equal
// ignoring case and '-'/'_', or within one edit per three characters of
// `word`; names under 3 characters get no fuzzy match); empty if none.
std::string_view ClosestMatch(std::string_view word, std::span<const std::string_view> candidates);

// Equal ignoring ASCII case and '-' vs '_' ("Fat-Tree" == "fat_tree").
bool SameName(std::string_view a, std::string_view b);

// "a, b, c".
std::string JoinNames(std::span<const std::string_view> names);

// " (did you mean 'x'?)" when ClosestMatch finds one, else "".
std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace stargate
