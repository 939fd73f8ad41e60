// File: start_reason.h
// The audit text of a start: "<site> <type>: best score 0.812 (est. 1.50 h,
// 12.3 kgCO2, $40, grid 310 g/kWh, 85 $/MWh)", with "; backfilled" and
// the stale-signal notes when they apply.
//
// Why its own code: a busy pass over 10,000 sites formats one per start
// (8,389 in BM_PassWarm), and fmt's fixed-precision floats made the text
// 11% of the pass (2026-12-06). The figures are printed by
// core/fixed_text.h: the same digits (StartReason.SameTextAsTheFormatString
// checks the whole text against the old format string).
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

}  // namespace stargate::sched
