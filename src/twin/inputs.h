// File: inputs.h
// Everything one twin run needs, fully materialised: the parsed scenario,
// hourly carbon and price series per site, the whole job list, and the
// expanded failure components. Built by LoadScenario (loader.h) from files,
// or by hand in tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/job_spec.h"
#include "core/scenario.h"
#include "core/series.h"
#include "workload/trace_reader.h"

namespace stargate::twin {

// A job already running when the run begins (a live forecast's snapshot
// of the server, control/server/forecast.h): it holds `nodes` from time 0,
// `per_node` devices on each, and has `remaining` of its work (a fraction
// of its whole) to do, under `power_cap` (a fraction of TDP; 0 = none).
// `nodes` are global node ids as ClusterState numbers them (the sites in
// order, each one's pools in order), all in one pool. `since_checkpoint`:
// compute it has done since its last durable checkpoint, lost if it is
// interrupted before the next (Segment::head; at most its checkpoint
// interval, all it has done when it keeps none).
struct RunningAtStart {
  uint32_t job = 0;  // index into `jobs`
  std::vector<uint32_t> nodes;
  int per_node = 0;
  double remaining = 1.0;
  double power_cap = 0;
  Duration since_checkpoint;
  // A share of one device (its JobSpec::share_milli): the slot of its one
  // node it is in (sched::Start::share_slot); -1 for whole devices.
  int share_slot = -1;
};

// A node taken out of service at `at`: it takes no new work from then,
// and what runs on it runs to its end (an operator's drain; a live
// forecast's what-if). `node` is a global node id, as for RunningAtStart.
struct NodeDrain {
  Duration at;
  uint32_t node = 0;
};

// What one of the scenario's traces gave (`twin run` says so).
struct TraceRead {
  std::string path;  // as the scenario names it
  TraceStats stats;
  int64_t past_horizon = 0;  // jobs submitted after the run's end, left out
};

struct TwinInputs {
  ScenarioSpec spec;
  std::vector<HourlySeries> carbon;        // per site, gCO2/kWh
  std::vector<HourlySeries> price;         // per site, USD/MWh
  std::vector<JobSpec> jobs;               // sorted by submit time
  std::vector<FailureComponent> failures;  // empty when failures are off
  std::vector<RunningAtStart> running;     // started before time 0; none in a scenario file
  std::vector<NodeDrain> drains;           // none in a scenario file
  std::vector<TraceRead> traces;           // per workload.traces entry
};

}  // namespace stargate::twin
