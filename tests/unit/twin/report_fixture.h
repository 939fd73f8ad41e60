// Hand-built RunResults for the report writer tests; defined in
// report_fixture_test.cc.
#pragma once

#include "twin/run_result.h"

namespace stargate::twin::report_testing {

// Two sites over 48 hours and a handful of jobs, every outcome represented.
RunResult SampleRun();
// `sites` sites x `hours` hours and `jobs` jobs, for size and speed checks.
RunResult BigRun(int sites, int hours, int jobs);

}  // namespace stargate::twin::report_testing
