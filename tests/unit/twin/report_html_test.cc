#include "twin/report_html.h"

#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "report_fixture.h"

namespace stargate::twin {
namespace {

using report_testing::BigRun;
using report_testing::SampleRun;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

std::string WithoutSvgNamespace(std::string html) {
  const std::string xmlns = "xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t at = html.find(xmlns); at != std::string::npos; at = html.find(xmlns, at)) {
    html.erase(at, xmlns.size());
  }
  return html;
}

TEST(HtmlReportTest, OneSvgPerChart) {
  const std::string html = RenderHtmlReport(SampleRun());
  EXPECT_EQ(Count(html, "<svg"), 4u);
  EXPECT_EQ(Count(html, "</svg>"), 4u);
  for (const char* id : {"chart-utilisation", "chart-power", "chart-carbon", "chart-jct"}) {
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
}

TEST(HtmlReportTest, IsSelfContained) {
  const std::string html = WithoutSvgNamespace(RenderHtmlReport(SampleRun()));
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(HtmlReportTest, HasHeadlineTablesAndExplanations) {
  const std::string html = RenderHtmlReport(SampleRun());
  for (const char* text : {"JCT mean", "JCT p50", "JCT p99", "Wait p99", "Utilisation", "Goodput", "ETTR", "Energy",
                           "Peak power", "tCO\u2082", "Energy cost", "Interruptions", "<table",
                           "How to read these numbers", "north-1", "texas, east", "30.0%"}) {
    EXPECT_NE(html.find(text), std::string::npos) << text;
  }
}

TEST(HtmlReportTest, EscapesUserText) {
  const std::string html = RenderHtmlReport(SampleRun());
  EXPECT_NE(html.find("sample &lt;two-site&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<two-site>"), std::string::npos);
}

TEST(HtmlReportTest, MarksASiteOverItsCap) {
  const std::string html = RenderHtmlReport(SampleRun());
  EXPECT_EQ(Count(html, "<td class=\"over\">"), 1u);  // texas: 1.12 MW on a 1 MW cap
}

TEST(HtmlReportTest, SameInputSameBytes) { EXPECT_EQ(RenderHtmlReport(SampleRun()), RenderHtmlReport(SampleRun())); }

TEST(HtmlReportTest, EmptyResultRendersWithNoDataPanels) {
  const std::string html = RenderHtmlReport(RunResult{});
  EXPECT_EQ(Count(html, "<svg"), 4u);
  EXPECT_NE(html.find("No finished jobs"), std::string::npos);
  EXPECT_NE(html.find("No sites in this run"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(HtmlReportTest, NoFinishedJobsSaysSo) {
  RunResult r = SampleRun();
  for (JobRecord& j : r.jobs) {
    if (j.outcome == JobOutcome::kFinished) j.outcome = JobOutcome::kRunning;
  }
  r.summary.jobs_finished = 0;
  const std::string html = RenderHtmlReport(r);
  EXPECT_NE(html.find("No finished jobs"), std::string::npos);
  EXPECT_NE(html.find("JCT p50</div><div class=\"v\">\u2013"), std::string::npos);
}

TEST(HtmlReportTest, NonFiniteNumbersShowADash) {
  RunResult r = SampleRun();
  r.summary.goodput = std::numeric_limits<double>::quiet_NaN();
  const std::string html = RenderHtmlReport(r);
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(html.find("inf<"), std::string::npos);
  EXPECT_NE(html.find("Goodput</div><div class=\"v\">\u2013"), std::string::npos);
}

// A year on 30 sites with 200k jobs: every line is downsampled and the file
// stays small.
TEST(HtmlReportTest, LargeRunStaysSmall) {
  const std::string html = RenderHtmlReport(BigRun(30, 8760, 200000));
  EXPECT_LT(html.size(), 2u * 1024 * 1024);
  size_t paths = 0;
  for (size_t at = html.find(" d=\""); at != std::string::npos; at = html.find(" d=\"", at + 1)) {
    const size_t begin = at + 4;
    const std::string d = html.substr(begin, html.find('"', begin) - begin);
    // Every point starts with M, L or (staircase) H.
    EXPECT_LE(Count(d, "M") + Count(d, "L") + Count(d, "H"), 1000u);
    ++paths;
  }
  EXPECT_GT(paths, 60u);  // 30 utilisation + 30 power + 30 caps + ...
}

}  // namespace
}  // namespace stargate::twin
