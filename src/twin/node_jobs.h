// File: node_jobs.h
// Which running jobs hold devices on each node, for failure injection. Most
// busy nodes hold exactly one job (gangs take whole nodes), stored inline in
// a flat array; nodes shared by several small jobs spill the others to a side
// map. Add/Remove are O(1) for whole-node gangs with no allocation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

namespace stargate::twin {

class NodeJobs {
 public:
  explicit NodeJobs(size_t nodes) : first_(nodes, kNone), shared_(nodes, 0) {}

  void Add(uint32_t node, uint32_t job) {
    if (first_[node] == kNone) {
      first_[node] = job;
    } else {
      more_[node].push_back(job);
      shared_[node] = 1;
    }
  }

  void Remove(uint32_t node, uint32_t job) {
    if (!shared_[node]) {  // the common case: one job, no hash lookup
      if (first_[node] == job) first_[node] = kNone;
      return;
    }
    auto it = more_.find(node);
    if (first_[node] == job) {
      if (it == more_.end()) {
        first_[node] = kNone;
        return;
      }
      first_[node] = it->second.back();
      it->second.pop_back();
    } else if (it != more_.end()) {
      auto& v = it->second;
      v.erase(std::find(v.begin(), v.end(), job));
    }
    if (it != more_.end() && it->second.empty()) {
      more_.erase(it);
      shared_[node] = 0;
    }
  }

  bool Has(uint32_t node, uint32_t job) const {
    if (first_[node] == job) return true;
    if (!shared_[node]) return false;
    auto it = more_.find(node);
    return it != more_.end() && std::find(it->second.begin(), it->second.end(), job) != it->second.end();
  }

  // The jobs on `node`, copied (callers interrupt them, which edits the index).
  std::vector<uint32_t> On(uint32_t node) const {
    std::vector<uint32_t> out;
    if (first_[node] == kNone) return out;
    out.push_back(first_[node]);
    if (!shared_[node]) return out;
    auto it = more_.find(node);
    if (it != more_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    return out;
  }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> first_;
  std::vector<uint8_t> shared_;  // 1 while more_ has an entry for the node
  std::unordered_map<uint32_t, std::vector<uint32_t>> more_;
};

}  // namespace stargate::twin
