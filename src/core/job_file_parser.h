// File: job_file_parser.h
// Parses a job file (job_file.h) from YAML text. Unknown keys, wrong types
// and out-of-range values are InvalidArgument "FILE:LINE:COL: field.path:
// problem", so the CLI can print them and the REST API can return them in
// a 400 body. Never throws; bounded work for any input.
#pragma once

#include <string>
#include <string_view>

#include "core/job_file.h"
#include "core/status.h"

namespace stargate {

StatusOr<JobFile> ParseJobFile(std::string_view yaml_text, const std::string& filename);

}  // namespace stargate
