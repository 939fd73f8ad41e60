#include "assets/embedded_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace stargate::assets {
namespace {

std::string ReadTree(const std::string& rel) {
  std::ifstream in(std::string(STARGATE_SOURCE_DIR) + "/web/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(EmbeddedFiles, HoldTheTreesBytes) {
  for (const char* rel :
       {"app.js", "node_modules/uplot/dist/uPlot.iife.min.js", "node_modules/uplot/dist/uPlot.min.css"}) {
    SCOPED_TRACE(rel);
    const std::optional<std::string_view> bytes = EmbeddedFile(rel);
    ASSERT_TRUE(bytes.has_value());
    const std::string tree = ReadTree(rel);
    ASSERT_FALSE(tree.empty());
    EXPECT_EQ(*bytes, tree);
  }
}

TEST(EmbeddedFiles, UnknownPathsAreNotFound) {
  EXPECT_FALSE(EmbeddedFile("").has_value());
  EXPECT_FALSE(EmbeddedFile("../CMakeLists.txt").has_value());
  EXPECT_FALSE(EmbeddedFile("app.js ").has_value());
  const std::vector<std::string_view> paths = EmbeddedPaths();
  EXPECT_NE(std::find(paths.begin(), paths.end(), "index.html"), paths.end());
  EXPECT_EQ(std::find(paths.begin(), paths.end(), "test/dashboard.test.mjs"), paths.end());
}

}  // namespace
}  // namespace stargate::assets
