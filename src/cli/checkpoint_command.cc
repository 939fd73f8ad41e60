// `stargate checkpoint seal|verify|latest`: the checkpoint format of
// control/agent/checkpoint_store.h for job scripts in any language. A
// script writes its files into a directory, seals it (the manifest is the
// mark of a complete checkpoint) and renames it to step-N; on restart it
// asks for the newest complete one, and a truncated or half-written
// checkpoint is never handed back.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "control/agent/checkpoint_store.h"
#include "core/clock.h"

namespace stargate::cli {

void AddCheckpointCommands(CLI::App& app, Clock& clock, int* exit_code) {
  CLI::App* cmd =
      app.add_subcommand("checkpoint", "Seal, verify and find checkpoints (step-N directories with a manifest)");
  cmd->require_subcommand(1);

  auto dir = std::make_shared<std::string>();
  auto step = std::make_shared<int64_t>(-1);
  CLI::App* seal = cmd->add_subcommand(
      "seal",
      "Write DIR's MANIFEST.json (every file's size and SHA-256), atomically: DIR is then a complete checkpoint");
  seal->add_option("dir", *dir, "The checkpoint's directory, its files written and closed")->required();
  seal->add_option("--step", *step, "The training step it holds")->required()->check(CLI::NonNegativeNumber);
  seal->callback([dir, step, &clock, exit_code] {
    StatusOr<control::CheckpointManifest> m = control::SealCheckpoint(*dir, *step, clock.Now().millis());
    if (!m.ok()) {
      std::cerr << "error: " << m.status().message() << "\n";
      *exit_code = m.status().code() == absl::StatusCode::kNotFound ? exit_code::kNotFound : exit_code::kError;
      return;
    }
    uint64_t bytes = 0;
    for (const control::CheckpointFile& f : m->files) bytes += f.size;
    fmt::print("sealed {}: step {}, {} files, {} bytes\n", *dir, m->step, m->files.size(), bytes);
    *exit_code = exit_code::kOk;
  });

  auto vdir = std::make_shared<std::string>();
  CLI::App* verify = cmd->add_subcommand("verify", "Check DIR against its manifest: exit 0 when complete, 1 when not");
  verify->add_option("dir", *vdir, "A checkpoint's directory")->required();
  verify->callback([vdir, exit_code] {
    control::CheckpointManifest m;
    if (Status st = control::VerifyCheckpoint(*vdir, &m); !st.ok()) {
      std::cerr << "incomplete: " << st.message() << "\n";
      *exit_code = exit_code::kError;
      return;
    }
    fmt::print("complete: {}: step {}, {} files\n", *vdir, m.step, m.files.size());
    *exit_code = exit_code::kOk;
  });

  auto area = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* latest = cmd->add_subcommand(
      "latest", "Print the newest complete checkpoint in AREA ($STARGATE_CHECKPOINT_DIR); exit 4 when there is none");
  latest->add_option("area", *area, "The job's checkpoint area")->required();
  latest->add_flag("-q,--quiet", *quiet, "Do not name the newer checkpoints skipped as incomplete");
  latest->callback([area, quiet, exit_code] {
    const control::CheckpointScan scan = control::NewestComplete(*area);
    if (!*quiet) {
      for (const std::string& why : scan.skipped) std::cerr << "skipped " << why << "\n";
    }
    if (!scan.newest) {
      std::cerr << "no complete checkpoint in " << *area << "\n";
      *exit_code = exit_code::kNotFound;
      return;
    }
    fmt::print("{}\n", scan.newest->string());
    *exit_code = exit_code::kOk;
  });
}

}  // namespace stargate::cli
