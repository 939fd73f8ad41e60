// File: status.h
// Error handling across module boundaries: absl::Status / absl::StatusOr plus
// the two macros Debian's abseil 20220623 does not ship yet.
//
// Expected domain outcomes (a job that does not fit) are values, not errors;
// a Status says that an input or an operation was bad.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace stargate {

using absl::Status;
using absl::StatusOr;

}  // namespace stargate

#define SG_CONCAT_INNER_(a, b) a##b
#define SG_CONCAT_(a, b) SG_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` yields a non-OK Status.
#define SG_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status sg_status_ = (expr);      \
    if (!sg_status_.ok()) return sg_status_; \
  } while (0)

// `SG_ASSIGN_OR_RETURN(auto x, Foo());` binds the value or returns the error.
#define SG_ASSIGN_OR_RETURN(lhs, expr) SG_ASSIGN_OR_RETURN_IMPL_(SG_CONCAT_(sg_statusor_, __LINE__), lhs, expr)
#define SG_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
