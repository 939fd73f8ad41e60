// File: report_warnings.h
// What a planner should not miss in a run, in plain words, for the top of
// the report and the end of `twin run`'s summary: deadlines missed, sites
// that stood idle, starts slowed by a carbon-aware power cap, sites over
// their power cap, and work the run never finished or could never place.
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "twin/run_result.h"

namespace stargate::twin::report {

// A site whose mean utilisation over the run is below this stood idle.
inline constexpr double kIdleSiteUtilisation = 0.05;

// The warnings, most serious first; empty when there is nothing to say.
std::vector<std::string> RunWarnings(const RunResult& result);

}  // namespace stargate::twin::report
