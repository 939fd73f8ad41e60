// File: checkpoint_store.h
// Checkpoints as a site's store keeps them (issue 22): a checkpoint is a
// directory `step-<12 digits>` in a job's checkpoint area
// (STARGATE_CHECKPOINT_DIR) holding the job's files and MANIFEST.json:
//
//   {"format": "stargate-checkpoint/1", "step": 150,
//    "time_unix_ms": 1796400000000,
//    "files": [{"path": "ckpt.pt", "size": 53211, "sha256": "9f2c..."}]}
//
// A checkpoint is complete when its manifest exists, parses, and every
// file it names has that size and that SHA-256; anything else (no
// manifest yet: a write cut short; a truncated or corrupted file; a
// manifest naming a file that is not there) is incomplete and never
// restored. Writers make the files in a hidden temporary directory, seal
// it (SealCheckpoint: the manifest written atomically) and rename it into
// place; examples/workloads/stargate_checkpoint.py does the same in
// Python, and `stargate checkpoint seal|verify|latest` does it for any
// job script. Replication between sites copies complete checkpoints only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/net/digest.h"
#include "control/protocol/checkpoint_messages.h"
#include "core/status.h"

namespace stargate::control {

inline constexpr char kManifestName[] = "MANIFEST.json";
inline constexpr char kCheckpointFormat[] = "stargate-checkpoint/1";

struct CheckpointFile {
  std::string path;  // relative to the checkpoint's directory, '/'-separated, no ".."
  uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

struct CheckpointManifest {
  int64_t step = 0;
  int64_t time_unix_ms = 0;
  std::vector<CheckpointFile> files;  // sorted by path
};

std::string ManifestJson(const CheckpointManifest& m);
// InvalidArgument naming `where` and the field for anything off.
StatusOr<CheckpointManifest> ParseManifest(std::string_view json, std::string_view where);

// A path a manifest may name: relative, '/'-separated, no empty, "." or
// ".." part, no NUL: it stays inside the checkpoint's directory.
bool SafeRelative(std::string_view p);

// Feeds the first `limit` bytes of a file (all of it by default) to `sha`,
// read in chunks; returns how many there were.
StatusOr<uint64_t> HashInto(const std::filesystem::path& path, Sha256Stream* sha, uint64_t limit = UINT64_MAX);
// fsync of a file or a directory (its entries).
Status FsyncPath(const std::filesystem::path& path, bool directory);

// OK when `dir` holds a complete checkpoint (its manifest in *manifest);
// else why not, naming the file.
Status VerifyCheckpoint(const std::filesystem::path& dir, CheckpointManifest* manifest = nullptr);

// Writes `dir`'s manifest for every regular file in it (subdirectories
// too), atomically: a temporary file, fsynced, renamed, the directory
// fsynced. The files themselves are fsynced first.
StatusOr<CheckpointManifest> SealCheckpoint(const std::filesystem::path& dir, int64_t step, int64_t time_unix_ms);

struct CheckpointScan {
  std::optional<std::filesystem::path> newest;  // the newest complete checkpoint
  CheckpointManifest manifest;                  // its manifest
  std::vector<std::string> skipped;             // "step-...: why", newer ones that were not complete
};
// The newest complete checkpoint in `area`, checking newer ones first.
CheckpointScan NewestComplete(const std::filesystem::path& area);

}  // namespace stargate::control
