// File: job_array.h
// The indices of a job array (`array:` in a job file, `stargate job submit
// --array`): one job per index, each told its index (STARGATE_ARRAY_INDEX,
// and Slurm's SLURM_ARRAY_TASK_ID), as a Slurm job array.
//
//   array: 100            # a lone number is a count: indices 0-99
//   array: 0-999          # a range, both ends included
//   array: "1-99:2,200"   # ranges with a step, and single indices, by commas
//
// Unlike sbatch's --array, a lone number is a count (sbatch reads `--array
// 5` as the one index 5; write 5-5 for that). Ranges go up without overlap
// (each starts after the one before ended), so the size and the checks
// need no list of the indices: a stored array of 100,000 jobs is read back
// per job without expanding it. Plain data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stargate {

class JobArray {
 public:
  // Most jobs one array makes, and the largest index (as Slurm's
  // MaxArraySize bounds both).
  static constexpr uint32_t kMaxSize = 100'000;
  static constexpr uint32_t kMaxIndex = 9'999'999;

  struct Range {
    uint32_t first = 0;
    uint32_t last = 0;  // included; first + k * step for some k
    uint32_t step = 1;
  };

  // InvalidArgument naming what is wrong (the caller says where).
  static StatusOr<JobArray> Parse(std::string_view text);

  bool empty() const { return ranges_.empty(); }
  uint32_t size() const { return size_; }
  uint32_t min() const { return ranges_.empty() ? 0 : ranges_.front().first; }
  uint32_t max() const { return ranges_.empty() ? 0 : ranges_.back().last; }
  // In increasing order.
  std::vector<uint32_t> Indices() const;
  // As written (trimmed); "" for no array.
  const std::string& text() const { return text_; }

 private:
  std::vector<Range> ranges_;
  uint32_t size_ = 0;
  std::string text_;
};

}  // namespace stargate
