// The docs' examples are checked against the parsers: every ```yaml block
// of docs/job-reference.md and docs/quickstart.md is a valid job file, and
// every ```yaml block of docs/scenario-reference.md that is a whole
// scenario (has `sites:`) is a valid scenario, and the same as the fixture
// the parser tests read; the serve reference's blocks and examples/serve
// are valid serve files.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/job_file_parser.h"
#include "core/scenario_parser.h"
#include "core/serve_file.h"
#include "core/site_file.h"

namespace stargate {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(std::string(STARGATE_SOURCE_DIR) + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The bodies of the ```yaml fences in `markdown`.
std::vector<std::string> YamlBlocks(const std::string& markdown) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = markdown.find("```yaml\n", at)) != std::string::npos) {
    const size_t begin = at + 8;
    const size_t end = markdown.find("```", begin);
    if (end == std::string::npos) break;
    out.push_back(markdown.substr(begin, end - begin));
    at = end + 3;
  }
  return out;
}

TEST(DocsExamples, JobFilesParse) {
  int checked = 0;
  for (const char* doc : {"docs/job-reference.md", "docs/quickstart.md"}) {
    const std::string text = Read(doc);
    ASSERT_FALSE(text.empty()) << doc;
    for (const std::string& yaml : YamlBlocks(text)) {
      auto parsed = ParseJobFile(yaml, doc);
      EXPECT_TRUE(parsed.ok()) << doc << ": " << parsed.status() << "\n" << yaml;
      ++checked;
    }
  }
  EXPECT_GE(checked, 2);
}

TEST(DocsExamples, ServeFilesParse) {
  const std::string text = Read("docs/serve-reference.md");
  int checked = 0;
  for (const std::string& yaml : YamlBlocks(text)) {
    auto parsed = ParseServeFile(yaml, "docs/serve-reference.md");
    EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << yaml;
    ++checked;
  }
  EXPECT_GE(checked, 1);
  auto example = ParseServeFile(Read("examples/serve/digits.yaml"), "examples/serve/digits.yaml");
  EXPECT_TRUE(example.ok()) << example.status();
}

TEST(DocsExamples, TheSitesReferenceExampleParses) {
  const std::string text = Read("docs/sites-reference.md");
  int checked = 0;
  for (const std::string& yaml : YamlBlocks(text)) {
    auto parsed = ParseSiteFile(yaml, "docs/sites-reference.md");
    EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << yaml;
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

TEST(DocsExamples, TheScenarioReferenceExampleParsesAndMatchesTheFixture) {
  const std::string text = Read("docs/scenario-reference.md");
  int checked = 0;
  for (const std::string& yaml : YamlBlocks(text)) {
    if (yaml.find("\nsites:") == std::string::npos) continue;  // a fragment
    auto parsed = ParseScenario(yaml, "docs/scenario-reference.md");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const std::string fixture = Read("tests/fixtures/scenarios/reference_example.yaml");
    // The fixture is the block with a first comment line saying where it is from.
    EXPECT_NE(fixture.find(yaml), std::string::npos) << "docs/scenario-reference.md and "
                                                        "tests/fixtures/scenarios/reference_example.yaml differ";
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

}  // namespace
}  // namespace stargate
