// File: job_file_root.h
// The job-file reader at the level of a parsed YAML map, for documents that
// are a job file plus keys of their own (a serve file is one with a `serve`
// block). Include only from .cc files: it pulls in yaml-cpp.
#pragma once

#include <span>
#include <string_view>

#include "core/job_file.h"
#include "core/status.h"
#include "core/yaml_util.h"

namespace stargate {

// Reads the job keys of `root`; keys in `extra_keys` are allowed and left
// for the caller. Errors as ParseJobFile's.
StatusOr<JobFile> ParseJobRoot(const yaml_util::Cursor& root, std::span<const std::string_view> extra_keys);

}  // namespace stargate
