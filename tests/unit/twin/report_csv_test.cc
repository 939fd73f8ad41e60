#include "twin/report_csv.h"

#include <algorithm>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "report_fixture.h"
#include "twin/report_format.h"

namespace stargate::twin {
namespace {

using report_testing::BigRun;
using report_testing::SampleRun;
using Table = std::vector<std::vector<std::string>>;

constexpr char kJobsHeader[] =
    "id,name,tenant,kind,accelerator,accelerators,nodes,site,submit_h,first_start_h,end_h,"
    "wait_h,jct_h,restarts,useful_device_h,allocated_device_h,checkpoint_interval_min,energy_kwh,"
    "co2_kg,cost_usd,sla_missed,outcome,reason";

// A strict RFC 4180 reader, so the test checks what a spreadsheet would see.
Table ParseCsv(const std::string& text) {
  Table rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::string& cell = rows.back().back();
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back(1);
    } else {
      cell += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();  // final newline
  return rows;
}

std::string JobsCsv(const RunResult& r) {
  std::ostringstream out;
  WriteJobsCsv(r, out);
  return out.str();
}

std::string SeriesCsv(const RunResult& r) {
  std::ostringstream out;
  WriteSiteSeriesCsv(r, out);
  return out.str();
}

// Column index by header name.
size_t Col(const Table& t, const std::string& name) {
  const auto& h = t[0];
  return static_cast<size_t>(std::find(h.begin(), h.end(), name) - h.begin());
}

TEST(JobsCsvTest, HeaderAndOneRowPerJob) {
  const std::string text = JobsCsv(SampleRun());
  EXPECT_EQ(text.substr(0, text.find('\n')), kJobsHeader);
  const Table t = ParseCsv(text);
  ASSERT_EQ(t.size(), 11u);
  for (const auto& row : t) EXPECT_EQ(row.size(), 23u);
}

TEST(JobsCsvTest, QuotesCommasQuotesAndNewlines) {
  const std::string text = JobsCsv(SampleRun());
  EXPECT_NE(text.find(",\"pretrain, phase 1\","), std::string::npos);
  EXPECT_NE(text.find(",\"eval \"\"quick\"\"\","), std::string::npos);
  EXPECT_NE(text.find(",\"multi\nline\","), std::string::npos);
  EXPECT_NE(text.find(",\"texas, east\","), std::string::npos);
  const Table t = ParseCsv(text);
  EXPECT_EQ(t[1][Col(t, "name")], "pretrain, phase 1");
  EXPECT_EQ(t[2][Col(t, "name")], "eval \"quick\"");
  EXPECT_EQ(t[6][Col(t, "reason")], "no site in jurisdiction, EU");
}

TEST(JobsCsvTest, FinishedJobHasEveryCell) {
  const Table t = ParseCsv(JobsCsv(SampleRun()));
  const auto& row = t[1];
  EXPECT_EQ(row[Col(t, "id")], "1");
  EXPECT_EQ(row[Col(t, "kind")], "training");
  EXPECT_EQ(row[Col(t, "accelerator")], "H100");
  EXPECT_EQ(row[Col(t, "site")], "north-1");
  EXPECT_EQ(row[Col(t, "submit_h")], "0.0000");
  EXPECT_EQ(row[Col(t, "first_start_h")], "0.5000");
  EXPECT_EQ(row[Col(t, "end_h")], "30.2500");
  EXPECT_EQ(row[Col(t, "wait_h")], "0.5000");
  EXPECT_EQ(row[Col(t, "jct_h")], "30.2500");
  EXPECT_EQ(row[Col(t, "restarts")], "1");
  EXPECT_EQ(row[Col(t, "allocated_device_h")], "7616.0000");  // 256 x 29.75 h
  EXPECT_EQ(row[Col(t, "checkpoint_interval_min")], "30.00");
  EXPECT_EQ(row[Col(t, "outcome")], "finished");
  EXPECT_EQ(row[Col(t, "reason")], "");
}

TEST(JobsCsvTest, NeverStartedJobHasEmptyCells) {
  const Table t = ParseCsv(JobsCsv(SampleRun()));
  const auto& row = t[5];  // job 5: pending, never placed
  EXPECT_EQ(row[Col(t, "site")], "");
  EXPECT_EQ(row[Col(t, "accelerator")], "");
  EXPECT_EQ(row[Col(t, "first_start_h")], "");
  EXPECT_EQ(row[Col(t, "end_h")], "");
  EXPECT_EQ(row[Col(t, "jct_h")], "");
  EXPECT_EQ(row[Col(t, "checkpoint_interval_min")], "");
  EXPECT_EQ(row[Col(t, "submit_h")], "40.0000");
  EXPECT_EQ(row[Col(t, "wait_h")], "8.0000");
  EXPECT_EQ(row[Col(t, "outcome")], "pending");
}

TEST(JobsCsvTest, RunningJobHasNoEndAndNoJct) {
  const Table t = ParseCsv(JobsCsv(SampleRun()));
  const auto& row = t[4];  // job 4: still running
  EXPECT_EQ(row[Col(t, "first_start_h")], "0.1000");
  EXPECT_EQ(row[Col(t, "end_h")], "");
  EXPECT_EQ(row[Col(t, "jct_h")], "");
  EXPECT_EQ(row[Col(t, "outcome")], "running");
}

TEST(JobsCsvTest, SiteOutOfRangeIsEmpty) {
  RunResult r = SampleRun();
  r.jobs[0].site = 7;
  const Table t = ParseCsv(JobsCsv(r));
  EXPECT_EQ(t[1][Col(t, "site")], "");
}

TEST(JobsCsvTest, EmptyResultIsJustTheHeader) { EXPECT_EQ(JobsCsv(RunResult{}), std::string(kJobsHeader) + "\n"); }

TEST(JobsCsvTest, SameInputSameBytes) { EXPECT_EQ(JobsCsv(SampleRun()), JobsCsv(SampleRun())); }

// Records the largest single write, to show the writer streams in chunks.
class ChunkCounter : public std::streambuf {
 public:
  size_t total = 0;
  size_t largest = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    total += static_cast<size_t>(n);
    largest = std::max(largest, static_cast<size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    ++total;
    return c;
  }
};

TEST(JobsCsvTest, StreamsManyJobsInBoundedChunks) {
  const RunResult r = BigRun(2, 24, 200000);
  ChunkCounter counter;
  std::ostream out(&counter);
  WriteJobsCsv(r, out);
  EXPECT_GT(counter.total, 200000u * 60);
  EXPECT_LT(counter.largest, 80u * 1024);
}

TEST(SiteSeriesCsvTest, OneRowPerHourAndSite) {
  const std::string text = SeriesCsv(SampleRun());
  const Table t = ParseCsv(text);
  ASSERT_EQ(t.size(), 1u + 2 * 48);
  EXPECT_EQ(text.substr(0, text.find('\n')), "hour,site,utilisation,facility_mw,carbon_g_per_kwh,price_usd_per_mwh");
  EXPECT_EQ(t[1][0], "0");
  EXPECT_EQ(t[1][1], "north-1");
  EXPECT_EQ(t[2][1], "texas, east");
  EXPECT_EQ(t[96][0], "47");
  EXPECT_EQ(t[1][2], "0.550000");  // sin(0) = 0
  EXPECT_EQ(t[1][4], "30.000");
}

TEST(SiteSeriesCsvTest, ShortSeriesLeaveEmptyCells) {
  RunResult r = SampleRun();
  std::vector<double> price = r.sites[1].price.ToVector();
  price.resize(10);
  r.sites[1].price = std::move(price);
  const Table t = ParseCsv(SeriesCsv(r));
  ASSERT_EQ(t.size(), 97u);
  EXPECT_EQ(t[2 * 20 + 2][5], "");  // hour 20, texas
  EXPECT_NE(t[2 * 20 + 1][5], "");  // hour 20, north
}

// A site's name and first two fields are written again from what its last
// row held while their bits stay the same: every cell must still be what
// the figure prints as, through idle stretches, changes, a negative zero
// (printed as a zero), a name too long to keep, and a series that ends.
TEST(SiteSeriesCsvTest, RepeatedFiguresPrintAsTheirValues) {
  RunResult r;
  const std::vector<std::string> names = {"idle", std::string(70, 'l'), "busy", "short"};
  for (size_t i = 0; i < names.size(); ++i) {
    SiteSeries s;
    s.name = names[i];
    for (int h = 0; h < 100; ++h) {
      const bool changes = i == 2 || h % 17 == 0;
      s.utilisation.push_back(changes ? 0.001 * h : 0.0);
      s.facility_mw.push_back(h == 40 ? -0.0 : (changes ? 1.5 + 0.25 * h : 0.039936));
    }
    std::vector<double> carbon(100, 200.0), price(100, 60.0);
    if (i == 3) {
      s.utilisation.resize(50);
      s.facility_mw.resize(60);
    }
    s.carbon = std::move(carbon);
    s.price = std::move(price);
    r.sites.push_back(std::move(s));
  }
  const Table t = ParseCsv(SeriesCsv(r));
  ASSERT_EQ(t.size(), 1u + 100 * names.size());
  for (int h = 0; h < 100; ++h) {
    for (size_t i = 0; i < names.size(); ++i) {
      const std::vector<std::string>& row = t[1 + h * names.size() + i];
      const SiteSeries& s = r.sites[i];
      ASSERT_EQ(row.size(), 6u);
      EXPECT_EQ(row[1], names[i]);
      const auto cell = [&](const std::vector<double>& v, int decimals) {
        return static_cast<size_t>(h) < v.size() ? report::Fixed(v[h], decimals) : "";
      };
      EXPECT_EQ(row[2], cell(s.utilisation, 6)) << "hour " << h << " site " << i;
      EXPECT_EQ(row[3], cell(s.facility_mw, 6)) << "hour " << h << " site " << i;
      EXPECT_EQ(row[4], "200.000");
    }
  }
  EXPECT_EQ(t[1 + 40 * 4][3], "0.000000");  // the negative zero
}

TEST(SiteSeriesCsvTest, EmptyResultIsJustTheHeader) {
  EXPECT_EQ(SeriesCsv(RunResult{}), "hour,site,utilisation,facility_mw,carbon_g_per_kwh,price_usd_per_mwh\n");
}

}  // namespace
}  // namespace stargate::twin
