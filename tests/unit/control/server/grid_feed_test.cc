// A site's grid from an HTTP source: the documented JSON shape is parsed
// strictly, the poller fetches on the server's clock and hands the points
// to the control plane, and a source that stops answering keeps its last
// values until they go stale (then the site's mean stands in).
#include "control/server/grid_feed.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "control/net/http_server.h"
#include "control/server/control_plane.h"
#include "control/store/memory_store.h"
#include "runtime/manual_clock.h"

namespace stargate::control {
namespace {

constexpr Time kT0 = Time::FromMillis(1'796'256'000'000);  // 2026-12-03 00:00 UTC

TEST(ParseGridFeed, ReadsValuesAndForecastInTimeOrder) {
  const auto points = ParseGridFeed(R"({"values": [{"at": "2026-12-03T01:00:00Z", "value": 300},
                                                   {"at": 1796256000, "value": 420}],
                                        "forecast": [{"at": "2026-12-03 02:00:00", "value": 90}]})")
                          .value();
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0], (std::pair{kT0, 420.0}));
  EXPECT_EQ(points[1], (std::pair{kT0 + Duration::Hours(1), 300.0}));
  EXPECT_EQ(points[2], (std::pair{kT0 + Duration::Hours(2), 90.0}));
}

TEST(ParseGridFeed, RefusesAnythingElseNamingTheEntry) {
  auto error = [](const char* text) { return std::string(ParseGridFeed(text).status().message()); };
  EXPECT_EQ(error("[1]"), "not a JSON object");
  EXPECT_EQ(error("{}"), "expected \"values\" and/or \"forecast\" lists");
  EXPECT_EQ(error(R"({"values": 3})"), "values: expected a list");
  EXPECT_NE(error(R"({"values": [{"at": "soon", "value": 1}]})").find("values[0].at"), std::string::npos);
  EXPECT_NE(error(R"({"forecast": [{"at": 1, "value": "x"}]})").find("forecast[0]"), std::string::npos);
  EXPECT_NE(error("{\"values\": [").find("not a JSON"), std::string::npos);
  EXPECT_NE(std::string(ParseGridFeed(R"({"values": [{"at": 1, "value": 5000}]})", kCarbonRange).status().message())
                .find("outside [0, 2000]"),
            std::string::npos);
}

// A reload keeps what a source already answered when it still feeds the
// same signal from the same URL; a changed URL starts afresh.
TEST(SiteBook, AReloadKeepsTheFetchedPointsOfAnUnchangedSource) {
  SiteInfo ie;
  ie.name = "ie";
  ie.carbon.mean = 350;
  ie.carbon.url = "http://127.0.0.1:9/c";
  const auto old = SiteBook::FromSites({ie}).value()->WithPoints("ie", "carbon", ie.carbon.url, {{kT0, 120.0}});
  ASSERT_NE(old, nullptr);
  const auto same = SiteBook::FromSites({ie}).value()->WithFeedsOf(*old);
  EXPECT_EQ(same->GridAt("ie", kT0).signals.carbon, 120);
  ie.carbon.url = "http://127.0.0.1:9/other";
  const auto moved = SiteBook::FromSites({ie}).value()->WithFeedsOf(*old);
  EXPECT_TRUE(moved->GridAt("ie", kT0).signals.carbon_stale);
  EXPECT_EQ(old->WithPoints("ie", "carbon", "http://elsewhere/", {}), nullptr);
}

TEST(GridPoller, FetchesOnTheClockAndKeepsTheLastValuesUntilStale) {
  // The source: answers with 120 g/kWh now and 60 in two hours, until told
  // to fail.
  std::atomic<bool> fail{false};
  std::atomic<int> calls{0};
  ManualClock clock(kT0);
  HttpServer source(
      [&](const HttpRequest& req) {
        ++calls;
        EXPECT_EQ(req.headers.count("authorization"), 0u);  // no credentials of the server go out
        if (fail.load()) return HttpResponse{503, "{}"};
        return HttpResponse{200, R"({"values": [{"at": 1796256000, "value": 120}],
                                     "forecast": [{"at": 1796263200, "value": 60}]})"};
      },
      &clock);
  const int port = source.Bind("127.0.0.1", 0).value();
  std::thread serving([&] { source.Serve().IgnoreError(); });

  SiteInfo ie;
  ie.name = "ie";
  ie.carbon.mean = 350;
  ie.carbon.url = fmt::format("http://127.0.0.1:{}/carbon/ie", port);
  ie.carbon.poll = Duration::Minutes(5);
  ie.carbon.stale_after = Duration::Hours(1);
  MemoryStore store;
  ControlPlaneOptions o;
  o.sites = SiteBook::FromSites({ie}).value();
  ControlPlane cp(&store, &clock, sched::MakeScheduler("stargate").value(), o);
  // Before the first answer: stale, the mean.
  EXPECT_TRUE(cp.Sites().book->GridAt("ie", kT0).signals.carbon_stale);
  EXPECT_EQ(cp.Sites().book->GridAt("ie", kT0).signals.carbon, 350);

  std::vector<std::string> warnings;
  GridPoller poller(&cp, &clock, [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(poller.PollDue(), 1);
  SiteGridNow g = cp.Sites().book->GridAt("ie", kT0);
  EXPECT_FALSE(g.signals.carbon_stale);
  EXPECT_EQ(g.signals.carbon, 120);
  EXPECT_EQ(g.signals.carbon_min_ahead, 60);  // the forecast
  EXPECT_EQ(g.signals.carbon_min_at, kT0 + Duration::Hours(2));
  EXPECT_EQ(poller.PollDue(), 0);  // not due again for 5 minutes
  clock.Advance(Duration::Minutes(5));
  fail = true;
  EXPECT_EQ(poller.PollDue(), 1);
  EXPECT_EQ(poller.failures(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("HTTP 503"), std::string::npos) << warnings[0];
  EXPECT_EQ(cp.Sites().book->GridAt("ie", clock.Now()).signals.carbon, 120);  // the last answer stands
  // Over an hour past its last point (and before the forecast's): stale.
  EXPECT_TRUE(cp.Sites().book->GridAt("ie", kT0 + Duration::Minutes(90)).signals.carbon_stale);
  EXPECT_EQ(cp.Sites().book->GridAt("ie", kT0 + Duration::Minutes(90)).signals.carbon, 350);
  EXPECT_EQ(calls.load(), 2);
  // A feed for a source the sites no longer name is refused.
  EXPECT_EQ(cp.SetFeed("ie", "carbon", "http://elsewhere/", {}).code(), absl::StatusCode::kNotFound);

  // Run() stops when told, even waiting on the manual clock.
  std::thread run([&] { poller.Run(); });
  poller.Stop();
  run.join();
  source.Stop();
  serving.join();
}

}  // namespace
}  // namespace stargate::control
