// File: scenario_export.h
// Twin inputs written back as a scenario file that LoadScenario reads into
// the same inputs: a live forecast (control/server/forecast.h) exported by
// `stargate forecast --export`, so any forecast can be rerun with `stargate
// twin run` and inspected. Everything is explicit: grid series hour by
// hour (`kind: hourly`), every job (names must be unique), the failure
// components expanded, the jobs running and the nodes drained from the
// start (`running:`, `drains:`); numbers in their shortest exact form, so
// a run of the file gives the same results as a run of the inputs.
#pragma once

#include <string>

#include "core/status.h"
#include "twin/inputs.h"

namespace stargate::twin {

// InvalidArgument when two jobs share a name, or a running job's or a
// drain's node is not in the sites.
StatusOr<std::string> ExportScenario(const TwinInputs& in);

}  // namespace stargate::twin
