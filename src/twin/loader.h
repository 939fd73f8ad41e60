// File: loader.h
// Turns a scenario file into TwinInputs: reads the YAML, the CSV series and
// trace files it names (paths relative to the scenario file), generates the
// synthetic workload from the seed and expands failure presets. This is the
// twin's only file reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "twin/inputs.h"

namespace stargate::twin {

// Errors name the file (and line/field where the parser knows them).
// `seed`, when given, replaces the scenario's before anything random is
// drawn (series noise, workload, failures).
StatusOr<TwinInputs> LoadScenario(const std::string& path, std::optional<uint64_t> seed = {});

// The same from YAML text already in memory; `base_dir` resolves relative
// paths inside it.
StatusOr<TwinInputs> LoadScenarioText(const std::string& yaml, const std::string& filename, const std::string& base_dir,
                                      std::optional<uint64_t> seed = {});

// Reads a whole file; NotFound / PermissionDenied name the path.
StatusOr<std::string> ReadFile(const std::string& path);

// Parses a "timestamp,value" CSV (header allowed; timestamps as
// "YYYY-MM-DD HH:MM[:SS]" UTC or unix seconds) into hourly means starting at
// the first row's hour. `column` picks the value column.
StatusOr<HourlySeries> ParseSeriesCsv(const std::string& text, const std::string& filename, int column, double scale);

}  // namespace stargate::twin
