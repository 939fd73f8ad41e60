// File: progress_bar.h
// A one-line progress bar on stderr for long twin runs; silent when stderr is
// not a terminal (CI logs, pipes).
#pragma once

#include <cstdio>
#include <string>

#include "core/clock.h"

namespace stargate::cli {

class ProgressBar {
 public:
  // `clock` (for the elapsed time shown) must outlive the bar.
  ProgressBar(std::string label, Clock& clock);
  ~ProgressBar();
  void Update(double fraction);

 private:
  std::string label_;
  bool enabled_;
  int last_percent_ = -1;
  Clock& clock_;
  Time start_;
};

}  // namespace stargate::cli
