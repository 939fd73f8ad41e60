// A start's audit text, assembled with core/fixed_text.h, is the text the
// format string it replaced gives, figure for figure (ties to even, -0,
// the stale notes and the backfill note included).
#include "sched/start_reason.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace stargate::sched {
namespace {

std::string WithFormatString(const StartFigures& f) {
  return fmt::format(
      "{} {}: best score {:.3f} (est. {:.2f} h, {:.1f} kgCO2, ${:.0f}, grid {:.0f} g/kWh{}, {:.0f} "
      "$/MWh{}){}",
      f.site, f.type, f.score, f.runtime_s / 3600.0, f.co2_g / 1e3, f.cost_usd, f.carbon,
      f.carbon_stale ? " (stale: the site's mean)" : "", f.price, f.price_stale ? " (stale: the site's mean)" : "",
      f.backfilled ? "; backfilled" : "");
}

TEST(StartReason, SameTextAsTheFormatString) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  auto figure = [&](int i) {
    switch (i % 5) {
      case 0:
        return u(rng) * 10;
      case 1:
        return std::round(u(rng) * 80'000) / 16;  // exact binary ties at every precision used
      case 2:
        return std::ldexp(u(rng), static_cast<int>(rng() % 80) - 40);
      case 3:
        return -u(rng) * 1e3;
      default:
        return u(rng) * 1e9;
    }
  };
  for (int i = 0; i < 200'000; ++i) {
    StartFigures f{"abilene-tx",  "H100",        figure(i),  figure(i + 1) * 3600, figure(i + 2) * 1e3, figure(i + 3),
                   figure(i + 4), figure(i + 1), i % 3 == 0, i % 5 == 0,           i % 2 == 0};
    ASSERT_EQ(StartReasonText(f), WithFormatString(f)) << i;
  }
  for (double v : {0.0, -0.0, 0.5, 1.5, 2.5, 0.125, 0.0005, -0.0004, 1e15, 123456789.5, 1e70, -3e200}) {
    const StartFigures f{"s", "CPU", v, v * 3600, v * 1e3, v, v, v, false, true, true};
    EXPECT_EQ(StartReasonText(f), WithFormatString(f)) << v;
  }
}

}  // namespace
}  // namespace stargate::sched
