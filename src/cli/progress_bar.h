// File: progress_bar.h
// A one-line progress bar on stderr for long twin runs; silent when stderr is
// not a terminal (CI logs, pipes).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace stargate::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void Update(double fraction);

 private:
  std::string label_;
  bool enabled_;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace stargate::cli
