// File: scenario_parser.h
// Turns twin scenario YAML text into a validated ScenarioSpec. The schema,
// defaults and unit syntax are documented key by key in
// docs/scenario-reference.md.
//
// Pure: parses text it is given (the twin's loader reads the file), keeps no
// state between calls, reads no clock, and never throws: every problem,
// including YAML syntax errors and yaml-cpp exceptions, comes back as a
// Status. Thread-safe.
//
// Example:
//   StatusOr<ScenarioSpec> s = ParseScenario(text, "scenarios/abilene.yaml");
//   if (!s.ok()) { std::cerr << s.status().message() << "\n"; return 1; }
#pragma once

#include <string>
#include <string_view>

#include "core/grid_forecast.h"
#include "core/scenario.h"
#include "core/status.h"
#include "core/unit_parser.h"  // ParseDuration, ParsePower, ParseBandwidth, ParseBytes, ParseCount

namespace stargate {

namespace yaml_util {
class Cursor;
}  // namespace yaml_util

// One `fabric:` map, as a scenario's site has it (a --sites file's site
// too, core/site_file.h); errors as below.
StatusOr<FabricSpec> ParseFabricMap(const yaml_util::Cursor& c);
// One `power_ramp:` map (mw_per_s, mw_per_min; at least one, each > 0),
// as both files take it.
StatusOr<PowerRampLimit> ParsePowerRamp(const yaml_util::Cursor& c);
// One forecast model name (core/grid_forecast.h), as both files take it.
StatusOr<ForecastModel> ParseForecastModel(const yaml_util::Cursor& c);

// Parses one YAML document. `filename` is only used in messages.
//
// On success every field is in range and cross-references hold: at least one
// site; unique site names; WAN links name known, distinct sites; pools have
// nodes and a known accelerator; totals fit the id types (<= 65534 sites and
// pools per site, <= 1e9 accelerators and nodes overall). Keys left out take
// the struct defaults in scenario.h / topology.h / job_spec.h / series.h,
// except `accels_per_node` and `domain_nodes`, which default to the pool
// accelerator's catalog values (e.g. 4 and 18 for GB200).
//
// On failure: InvalidArgument with one message
//   "FILE:LINE:COL: FIELD.PATH: what is wrong"
// (1-based line and column of the offending value or key), e.g.
//   "x.yaml:14:7: sites[2].pools[0].accelerator: unknown accelerator 'H1000'
//    (known: CPU, A100, ...)".
// Syntax errors have no field path: "x.yaml:3:9: YAML syntax error: ...".
StatusOr<ScenarioSpec> ParseScenario(std::string_view yaml_text, const std::string& filename);

}  // namespace stargate
