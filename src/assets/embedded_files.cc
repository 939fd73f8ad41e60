#include "assets/embedded_files.h"

#include <cstdint>

namespace {

// Laid out by the generated assembly (cmake/EmbedFiles.cmake): a name
// (NUL-terminated) and the bytes' first and one-past-last addresses.
struct Entry {
  const char* name;
  const char* begin;
  const char* end;
};

}  // namespace

extern "C" const Entry stargate_embedded_files[];
extern "C" const uint64_t stargate_embedded_file_count;

namespace stargate::assets {

std::optional<std::string_view> EmbeddedFile(std::string_view path) {
  for (uint64_t i = 0; i < stargate_embedded_file_count; ++i) {
    const Entry& e = stargate_embedded_files[i];
    if (path == e.name) return std::string_view(e.begin, static_cast<size_t>(e.end - e.begin));
  }
  return std::nullopt;
}

std::vector<std::string_view> EmbeddedPaths() {
  std::vector<std::string_view> paths;
  for (uint64_t i = 0; i < stargate_embedded_file_count; ++i) paths.emplace_back(stargate_embedded_files[i].name);
  return paths;
}

}  // namespace stargate::assets
