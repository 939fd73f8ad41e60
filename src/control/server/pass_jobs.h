// File: pass_jobs.h
// The jobs one control-loop pass looks at, read in place from the job
// registry's records; a record the pass changes is copied first (copy on
// write) and written back through JobRegistry::Update as before.
//
// Why: a pass with work to place looks at every live job, and copying
// each record (its parsed job file: strings, vectors, maps) cost more than
// the scheduling itself. With 10,000 pending trivial jobs the passes spent
// ~15 ms each copying and freeing records, 50 times a second (2026-12-06,
// bench/throughput_vs_slurm.sh); a pass changes only the jobs it places,
// stops or explains.
//
// The registry's records stay where they are while it keeps them (it
// replaces a record's value in place on Update; only Forget, after a pass,
// drops them), so a record read here may show a change the pass itself
// wrote through Update: the current one, which is what the pass wants.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iterator>
#include <utility>
#include <vector>

#include "control/server/job_registry.h"

namespace stargate::control {

class PassJobs {
 public:
  // A record the registry keeps: read in place.
  void Add(const JobRecord& r) {
    view_.push_back(&r);
    sorted_.clear();
  }
  // One the pass made or copied itself (kept here).
  void AddCopy(JobRecord r) {
    owned_.push_back(std::move(r));
    view_.push_back(&owned_.back());
    sorted_.clear();
  }

  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  const JobRecord& operator[](size_t i) const { return *view_[i]; }

  // The record to change: the registry's is copied on the first call, so
  // it changes only when the pass writes it (JobRegistry::Update).
  JobRecord& Mut(size_t i) {
    if (mutable_.size() < view_.size()) mutable_.resize(view_.size(), nullptr);
    if (mutable_[i] == nullptr) {
      owned_.push_back(*view_[i]);
      mutable_[i] = &owned_.back();
      view_[i] = mutable_[i];
    }
    return *mutable_[i];
  }
  // The index of job `id`, or size() when it is not here.
  size_t IndexOf(uint64_t id) const {
    if (sorted_.size() != view_.size()) {
      sorted_.clear();
      sorted_.reserve(view_.size());
      for (size_t i = 0; i < view_.size(); ++i) sorted_.emplace_back(view_[i]->id, i);
      std::sort(sorted_.begin(), sorted_.end());
    }
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::make_pair(id, size_t{0}));
    return it != sorted_.end() && it->first == id ? it->second : view_.size();
  }
  // Job `id`, which must be here (a decision names only jobs it was given).
  JobRecord& MutId(uint64_t id) {
    const size_t i = IndexOf(id);
    if (i == view_.size()) std::abort();  // as map::at's throw did, never undefined
    return Mut(i);
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = JobRecord;
    using difference_type = std::ptrdiff_t;
    using pointer = const JobRecord*;
    using reference = const JobRecord&;
    const_iterator() = default;
    const_iterator(const PassJobs* jobs, size_t i) : jobs_(jobs), i_(i) {}
    const JobRecord& operator*() const { return (*jobs_)[i_]; }
    const JobRecord* operator->() const { return &(*jobs_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) { return {jobs_, i_++}; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const PassJobs* jobs_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, view_.size()}; }

 private:
  std::vector<const JobRecord*> view_;
  std::vector<JobRecord*> mutable_;                          // per index: its copy, once changed
  std::deque<JobRecord> owned_;                              // stable addresses
  mutable std::vector<std::pair<uint64_t, size_t>> sorted_;  // (id, index), built on the first look-up
};

}  // namespace stargate::control
