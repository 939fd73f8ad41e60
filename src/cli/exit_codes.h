// File: exit_codes.h
// The exit codes of the `stargate` client commands, one table for all
// (docs/cli.md, "Exit codes"), so a script can tell "not found" from
// "the server is down" from "the job failed" without reading stderr.
#pragma once

namespace stargate::cli::exit_code {

inline constexpr int kOk = 0;
inline constexpr int kError = 1;         // anything below does not cover: a server error (5xx), a local failure
inline constexpr int kUsage = 2;         // bad flags or arguments, an unreadable or invalid job file (HTTP 400)
inline constexpr int kTimeout = 3;       // --timeout ran out (job wait, run)
inline constexpr int kNotFound = 4;      // no such job, array, node or context (HTTP 404)
inline constexpr int kConflict = 5;      // HTTP 409: the job already ended, an idempotency key reused
inline constexpr int kDenied = 6;        // HTTP 401/403: no token, a wrong one, another tenant's job
inline constexpr int kUnreachable = 7;   // no answer from the server
inline constexpr int kJobFailed = 8;     // job wait, job logs -f, run: a job failed
inline constexpr int kJobCancelled = 9;  // job wait, job logs -f, run: a job was cancelled (none failed)
inline constexpr int kBusy = 10;         // HTTP 429 or 503 after the retries: try again later

// The code for an HTTP answer that was not a success.
inline int ForHttpStatus(int status) {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return kUsage;
    case 401:
    case 403:
      return kDenied;
    case 404:
      return kNotFound;
    case 409:
      return kConflict;
    case 429:
    case 503:
      return kBusy;
    default:
      return status >= 400 && status < 500 ? kUsage : kError;
  }
}

}  // namespace stargate::cli::exit_code
