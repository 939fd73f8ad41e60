// File: start_reason.h
// The audit text of a start: "<site> <type>: best score 0.812 (est. 1.50 h,
// 12.3 kgCO2, $40, grid 310 g/kWh, 85 $/MWh)", with "; backfilled" and
// the stale-signal notes when they apply.
//
// Why its own code: a busy pass over 10,000 sites formats one per start
// (8,389 in BM_PassWarm), and fmt's fixed-precision floats made the text
// 11% of the pass (2026-12-06). The digits are the same (the exact binary
// value rounded to nearest, ties to even, as printf): from the figure
// times 10^precision rounded to an integer, or, when that product is a
// half-integer, from std::to_chars (start_reason.cc says why that is
// exact; checked against fmt on ties, near-ties and -0:
// StartReason.SameTextAsTheFormatString, FixedFiguresNearTiesAsFmt).
#pragma once

#include <string>
#include <string_view>

namespace stargate::sched {

struct StartFigures {
  std::string_view site;
  std::string_view type;
  double score = 0;
  double runtime_s = 0;
  double co2_g = 0;
  double cost_usd = 0;
  double carbon = 0;  // g/kWh
  double price = 0;   // $/MWh
  bool carbon_stale = false;
  bool price_stale = false;
  bool backfilled = false;
};

std::string StartReasonText(const StartFigures& f);

// Appends `v` with `precision` digits after the point, as fmt's "{:.Nf}".
void AppendFixed(std::string* out, double v, int precision);

}  // namespace stargate::sched
