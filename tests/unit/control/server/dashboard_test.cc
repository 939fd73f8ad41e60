#include "control/server/dashboard.h"

#include <gtest/gtest.h>

#include <string>

namespace stargate::control {
namespace {

const std::string kWeb = std::string(STARGATE_SOURCE_DIR) + "/web";

// The copy built into the binary is the tree's, byte for byte: a server
// installed anywhere serves what web/ holds at build time.
TEST(Dashboard, TheBuiltInFilesAreTheTreesOwn) {
  StatusOr<std::map<std::string, StaticFile>> built_in = LoadDashboard(EmbeddedWebReader());
  ASSERT_TRUE(built_in.ok()) << built_in.status();
  StatusOr<std::map<std::string, StaticFile>> on_disk = LoadDashboard(WebDirReader(kWeb));
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  ASSERT_EQ(built_in->size(), on_disk->size());
  for (const auto& [url, file] : *on_disk) {
    SCOPED_TRACE(url);
    ASSERT_TRUE(built_in->contains(url));
    EXPECT_EQ(built_in->at(url).body, file.body);
    EXPECT_EQ(built_in->at(url).content_type, file.content_type);
  }
  EXPECT_NE(built_in->at("/ui/").body.find("<div id=\"app\">"), std::string::npos);
  EXPECT_EQ(built_in->at("/ui/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(built_in->at("/ui/vendor/world-atlas/land-110m.json").content_type, "application/json");
}

TEST(Dashboard, AMissingFileIsNamed) {
  StatusOr<std::map<std::string, StaticFile>> files = LoadDashboard(WebDirReader("/nonexistent/web"));
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(files.status().message().find("/nonexistent/web/index.html"), std::string::npos) << files.status();
}

}  // namespace
}  // namespace stargate::control
