// File: subprocess.h
// Runs a program (no shell) to completion: its stdout and stderr
// captured, text fed to its stdin, killed (SIGKILL) past a time limit.
// For the command-line tools Stargate drives (sbatch, scontrol, scancel).
// Thread-safe: each call owns its child and pipes.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"

namespace stargate {

struct CommandResult {
  int exit_code = 0;  // 128 + N when killed by signal N
  std::string out, err;
};

// Unavailable when it cannot start or overruns `timeout` (real time: the
// program runs in it, whatever clock the caller is on); otherwise the
// result, whatever the exit code.
StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text,
                                   Duration timeout);

}  // namespace stargate
