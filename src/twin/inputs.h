// File: inputs.h
// Everything one twin run needs, fully materialised: the parsed scenario,
// hourly carbon and price series per site, the whole job list, and the
// expanded failure components. Built by LoadScenario (loader.h) from files,
// or by hand in tests.
#pragma once

#include <vector>

#include "core/job_spec.h"
#include "core/scenario.h"
#include "core/series.h"

namespace stargate::twin {

struct TwinInputs {
  ScenarioSpec spec;
  std::vector<HourlySeries> carbon;        // per site, gCO2/kWh
  std::vector<HourlySeries> price;         // per site, USD/MWh
  std::vector<JobSpec> jobs;               // sorted by submit time
  std::vector<FailureComponent> failures;  // empty when failures are off
};

}  // namespace stargate::twin
