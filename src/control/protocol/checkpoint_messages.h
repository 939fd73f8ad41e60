// File: checkpoint_messages.h
// Checkpoints between sites (issue 22), as plain values of the agent API
// (proto/agent.proto). The server picks one agent per site to speak for
// the site's checkpoint store: it lists the job areas that agent should
// report (CheckpointWatch) and the copies it should make from a peer
// site's agent (CheckpointPull); the agent answers in each heartbeat with
// the newest complete checkpoint of each area (CheckpointHeld) and where
// each copy stands (CheckpointCopyReport). Level-triggered like the tasks:
// each reply replaces the lists of the last one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stargate::control {

struct CheckpointWatch {
  uint64_t job = 0;
  std::string dir;  // the job's area in this node's store
  auto operator<=>(const CheckpointWatch&) const = default;
};

struct CheckpointHeld {
  uint64_t job = 0;
  int64_t step = 0;
  uint64_t bytes = 0;  // the files its manifest lists
  auto operator<=>(const CheckpointHeld&) const = default;
};

struct CheckpointPull {
  uint64_t job = 0;
  int64_t step = 0;
  std::string dir;         // the job's area here: the copy becomes dir/step-<12 digits>
  std::string source_url;  // http://HOST:PORT: the peer agent's log server
  std::string source_dir;  // the checkpoint's directory there
  // The bearer that reads that one directory there: HMAC-SHA256 of the
  // peer's log token over "checkpoint:" + source_dir (CheckpointTicket).
  std::string ticket;
  int64_t rate_bytes_per_s = 0;  // 0 = no limit
  int keep = 2;                  // complete checkpoints kept in `dir` after the copy
  // The job's placement.jurisdictions (empty: anywhere): an agent whose
  // node is outside them refuses the copy.
  std::vector<std::string> jurisdictions;
  auto operator<=>(const CheckpointPull&) const = default;
};

struct CheckpointCopyReport {
  uint64_t job = 0;
  int64_t step = 0;
  enum class State : uint8_t { kCopying = 0, kDone = 1, kFailed = 2, kRefused = 3 };
  State state = State::kCopying;
  uint64_t bytes_done = 0, bytes_total = 0;
  std::string error;  // kFailed, kRefused: why
  auto operator<=>(const CheckpointCopyReport&) const = default;
};

const char* Name(CheckpointCopyReport::State s);

// A checkpoint's directory in a job's area: "step-000000000150"; and back
// (nullopt for any other name).
std::string CheckpointDirName(int64_t step);
std::optional<int64_t> StepOfDirName(std::string_view name);

}  // namespace stargate::control
