// File: data_input_parser.h
// `inputs:` as job files and scenario jobs write it (core/job_spec.h
// DataInput):
//
//   inputs:
//     - {name: corpus, size: 2TB, sites: [site-b]}
//     - corpus-v2          # a dataset registered with the server
//
// A bare name (DataInput::registered) is allowed only where `names` is
// true: job files, which the server resolves; not scenarios, which have no
// registry.
// Errors name the line, column and field, as the files' other keys do.
#pragma once

#include <vector>

#include "core/job_spec.h"
#include "core/status.h"
#include "core/yaml_util.h"

namespace stargate {

inline constexpr int kMaxDataInputs = 64;

StatusOr<std::vector<DataInput>> ParseDataInputs(const yaml_util::Cursor& c, bool names);

// A registered dataset's name: 1-128 letters, digits, '.', '_' or '-',
// not starting with '.' (it is part of a URL and a store key). The error
// says what is wrong.
Status CheckDatasetName(std::string_view name);

}  // namespace stargate
