#include "twin/report_html.h"

#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report_fixture.h"

namespace stargate::twin {
namespace {

using report_testing::BigRun;
using report_testing::SampleRun;

// Stands in for uPlot: the tests check what the page holds, not drawing
// (web/test/report.test.mjs draws it in Chromium).
constexpr ChartLibrary kLibrary{"/* uPlot stand-in */ var uPlot = {};", ".uplot{display:block}"};

std::string Render(const RunResult& r, std::span<const report::RunDigest> compared = {}) {
  return RenderHtmlReport(r, kLibrary, compared);
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The page's chart data, as its script reads it.
nlohmann::json ChartData(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const size_t begin = html.find(open) + open.size();
  return nlohmann::json::parse(html.substr(begin, html.find("</script>", begin) - begin));
}

TEST(HtmlReportTest, EveryPlaceHasItsChart) {
  const std::string html = Render(SampleRun());
  const nlohmann::json data = ChartData(html);
  // Network power, utilisation, emissions; three small multiples for each
  // of two sites; the JCT CDF.
  ASSERT_EQ(data["charts"].size(), 3u + 3 * 2 + 1);
  for (const nlohmann::json& c : data["charts"]) {
    const std::string id = c["id"];
    EXPECT_EQ(Count(html, "data-chart=\"" + id + "\""), 1u) << id;
  }
  EXPECT_EQ(Count(html, "class=\"chart small\""), 6u);
  for (const char* id : {"net-power", "net-utilisation", "net-emissions", "site-0-utilisation", "site-1-power",
                         "site-1-carbon", "jct-by-kind"}) {
    EXPECT_NE(html.find(std::string("data-chart=\"") + id + "\""), std::string::npos) << id;
  }
}

TEST(HtmlReportTest, IsSelfContainedWithTheLibraryInline) {
  const std::string html = Render(SampleRun());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(html.find("<script>/* uPlot stand-in */ var uPlot = {};</script>"), std::string::npos);
  EXPECT_NE(html.find("<style>.uplot{display:block}</style>"), std::string::npos);
}

TEST(HtmlReportTest, ALibraryCannotCloseItsElement) {
  const ChartLibrary hostile{"var s = '</script><b>x</b>';", "a{}</style><script>"};
  const std::string html = RenderHtmlReport(SampleRun(), hostile);
  EXPECT_NE(html.find("var s = '<\\/script><b>x</b>';"), std::string::npos);
  EXPECT_NE(html.find("a{}<\\/style><script>"), std::string::npos);
}

TEST(HtmlReportTest, HasHeadlineTablesAndExplanations) {
  const std::string html = Render(SampleRun());
  for (const char* text : {"JCT mean", "JCT p50", "JCT p99", "Wait p99", "Utilisation", "Goodput", "ETTR", "Energy",
                           "Peak power", "tCO\u2082", "Energy cost", "Interruptions", "<table",
                           "How to read these numbers", "north-1", "texas, east", "30.0%"}) {
    EXPECT_NE(html.find(text), std::string::npos) << text;
  }
}

// With the oracle bound solved, a section gives it and the sites furthest
// from it first; without, no such section.
TEST(HtmlReportTest, ShowsTheBoundAndWhereTheGapIs) {
  RunResult r = SampleRun();
  EXPECT_EQ(Render(r).find("id=\"bound\""), std::string::npos);
  EXPECT_EQ(Render(r).find("<dt>Oracle bound</dt>"), std::string::npos);
  r.summary.tco2 = 150;
  r.summary.bound.computed = true;
  r.summary.bound.tco2 = 100;
  r.summary.bound.proven = true;
  r.sites[0].tco2 = 40;
  r.sites[1].tco2 = 110;
  r.summary.bound.sites = {{500, 45, 0}, {200, 55, 0}};  // texas, east: 55 above
  const std::string html = Render(r);
  const size_t section = html.find("<section id=\"bound\">");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(html.find("(<b>+50.0%</b>)", section), std::string::npos);
  EXPECT_NE(html.find("proven by duality", section), std::string::npos);
  EXPECT_NE(html.find("<dt>Oracle bound</dt>"), std::string::npos);
  const size_t texas = html.find("<tr data-site=\"texas, east\">", section);
  const size_t north = html.find("<tr data-site=\"north-1\">", section);
  ASSERT_NE(texas, std::string::npos);
  ASSERT_NE(north, std::string::npos);
  EXPECT_LT(texas, north);  // 55 t apart before 5 t
  EXPECT_NE(html.find("<td>+55.0</td>", texas), std::string::npos);
}

TEST(HtmlReportTest, WarningsHeadThePage) {
  const std::string html = Render(SampleRun());
  const size_t warnings = html.find("<section class=\"warnings\"");
  ASSERT_NE(warnings, std::string::npos);
  EXPECT_LT(warnings, html.find("<section class=\"cards\">"));
  EXPECT_NE(html.find("2 jobs were rejected"), std::string::npos);
  EXPECT_NE(html.find("1 site went over its power cap: texas, east (1.12 MW on 1.00 MW)"), std::string::npos);

  RunResult calm = SampleRun();
  calm.summary.jobs_rejected = calm.summary.jobs_pending = 0;
  calm.sites[1].peak_mw = 0.9;
  EXPECT_NE(Render(calm).find("<section class=\"warnings none\" data-warnings=\"0\">No warnings"), std::string::npos);
}

TEST(HtmlReportTest, EscapesUserText) {
  const std::string html = Render(SampleRun());
  EXPECT_NE(html.find("sample &lt;two-site&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<two-site>"), std::string::npos);
}

TEST(HtmlReportTest, MarksASiteOverItsCap) {
  const std::string html = Render(SampleRun());
  EXPECT_EQ(Count(html, "<td class=\"over\">"), 1u);  // texas: 1.12 MW on a 1 MW cap
}

TEST(HtmlReportTest, SameInputSameBytes) { EXPECT_EQ(Render(SampleRun()), Render(SampleRun())); }

TEST(HtmlReportTest, ComparesPolicies) {
  report::RunDigest fifo = report::DigestOf(SampleRun());
  fifo.summary.policy = "fifo";
  fifo.summary.tco2 *= 2;
  fifo.summary.jct_h.p50 = 3.0;
  const std::vector<report::RunDigest> compared = {fifo};
  const std::string html = Render(SampleRun(), compared);
  EXPECT_NE(html.find("<h2>Policies compared</h2>"), std::string::npos);
  EXPECT_NE(html.find("<tr data-policy=\"carbon-aware\">"), std::string::npos);
  EXPECT_NE(html.find("<tr data-policy=\"fifo\">"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"delta\">+100.0%</span>"), std::string::npos);      // tCO2 doubled
  EXPECT_NE(html.find("<span class=\"delta\">\u221250.0%</span>"), std::string::npos);  // p50 6 h -> 3 h
  const nlohmann::json data = ChartData(html);
  bool policy_jct = false;
  for (const nlohmann::json& c : data["charts"]) {
    if (c["id"] == "net-power") {
      ASSERT_EQ(c["series"].size(), 3u);  // one line per policy, and the summed caps
      EXPECT_EQ(c["series"][1]["label"], "fifo");
      EXPECT_EQ(c["series"][2]["dash"], true);
    }
    policy_jct = policy_jct || c["id"] == "policy-jct";
  }
  EXPECT_TRUE(policy_jct);
  EXPECT_EQ(Render(SampleRun()).find("Policies compared"), std::string::npos);
}

TEST(HtmlReportTest, EmptyResultRendersWithNoDataPanels) {
  const std::string html = Render(RunResult{});
  EXPECT_NE(html.find("No finished jobs"), std::string::npos);
  EXPECT_NE(html.find("No sites in this run"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  for (const nlohmann::json& c : ChartData(html)["charts"]) EXPECT_EQ(c["data"][0].size(), 0u) << c["id"];
}

TEST(HtmlReportTest, NoFinishedJobsSaysSo) {
  RunResult r = SampleRun();
  for (JobRecord& j : r.jobs) {
    if (j.outcome == JobOutcome::kFinished) j.outcome = JobOutcome::kRunning;
  }
  r.summary.jobs_finished = 0;
  const std::string html = Render(r);
  EXPECT_NE(html.find("No finished jobs"), std::string::npos);
  EXPECT_NE(html.find("JCT p50</div><div class=\"v\">\u2013"), std::string::npos);
}

TEST(HtmlReportTest, NonFiniteNumbersShowADash) {
  RunResult r = SampleRun();
  r.summary.goodput = std::numeric_limits<double>::quiet_NaN();
  r.sites[0].utilisation[3] = std::numeric_limits<double>::infinity();
  const std::string html = Render(r);
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(html.find(">inf"), std::string::npos);
  EXPECT_EQ(html.find("inf%"), std::string::npos);
  EXPECT_EQ(html.find("inf<"), std::string::npos);
  EXPECT_NE(html.find("Goodput</div><div class=\"v\">\u2013"), std::string::npos);
}

// A year on 30 sites with 200k jobs: lines are downsampled, only the
// biggest sites get small multiples, and the file stays small.
TEST(HtmlReportTest, LargeRunStaysSmall) {
  const std::string html = Render(BigRun(30, 8760, 200000));
  EXPECT_LT(html.size(), 1024u * 1024);
  const nlohmann::json data = ChartData(html);
  EXPECT_EQ(data["charts"].size(), 3u + 3 * report::kMaxSitePanels + 1);
  for (const nlohmann::json& c : data["charts"]) EXPECT_LE(c["data"][0].size(), 1000u) << c["id"];
  EXPECT_NE(html.find("24 of 30 sites shown"), std::string::npos);
}

}  // namespace
}  // namespace stargate::twin
