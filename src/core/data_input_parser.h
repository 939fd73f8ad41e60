// File: data_input_parser.h
// `inputs:` as job files and scenario jobs write it (core/job_spec.h
// DataInput):
//
//   inputs:
//     - {name: corpus, size: 2TB, sites: [site-b]}
//
// Errors name the line, column and field, as the files' other keys do.
#pragma once

#include <vector>

#include "core/job_spec.h"
#include "core/status.h"
#include "core/yaml_util.h"

namespace stargate {

inline constexpr int kMaxDataInputs = 64;

StatusOr<std::vector<DataInput>> ParseDataInputs(const yaml_util::Cursor& c);

}  // namespace stargate
