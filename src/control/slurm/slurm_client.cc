#include "control/slurm/slurm_client.h"

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>

#include <fmt/format.h>

#include "runtime/subprocess.h"

namespace stargate::control {
namespace {

class SlurmCommands : public SlurmClient {
 public:
  explicit SlurmCommands(Duration timeout) : timeout_(timeout) {}

  StatusOr<uint64_t> Submit(const std::vector<std::string>& args, const std::string& script) override {
    std::vector<std::string> argv = {"sbatch", "--parsable"};
    argv.insert(argv.end(), args.begin(), args.end());
    SG_ASSIGN_OR_RETURN(const std::string out, Run(argv, script));
    // "ID" or "ID;CLUSTER"
    uint64_t id = 0;
    const std::string first(absl::StripAsciiWhitespace(out.substr(0, out.find(';'))));
    if (!absl::SimpleAtoi(first, &id) || id == 0) {
      return absl::InternalError(fmt::format("sbatch printed no job id: '{}'", out));
    }
    return id;
  }

  StatusOr<std::vector<SlurmJob>> Jobs() override {
    SG_ASSIGN_OR_RETURN(const std::string out, Run({"scontrol", "--oneliner", "show", "job"}, ""));
    return ParseSlurmJobs(out);
  }

  Status Cancel(uint64_t id, bool kill) override {
    std::vector<std::string> argv = {"scancel"};
    if (kill) argv.insert(argv.end(), {"--signal=KILL", "--full"});
    argv.push_back(std::to_string(id));
    return Run(argv, "").status();
  }

  StatusOr<std::vector<SlurmNode>> Nodes() override {
    SG_ASSIGN_OR_RETURN(const std::string out, Run({"scontrol", "--oneliner", "show", "node"}, ""));
    return ParseSlurmNodes(out);
  }

 private:
  // The tool's stdout; its stderr in the error when it exits non-zero.
  StatusOr<std::string> Run(const std::vector<std::string>& argv, const std::string& in) {
    SG_ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv, in, timeout_));
    if (r.exit_code != 0) {
      return absl::UnavailableError(
          fmt::format("{} exited with {}: {}", argv[0], r.exit_code, std::string(absl::StripAsciiWhitespace(r.err))));
    }
    return r.out;
  }

  Duration timeout_;
};

}  // namespace

std::unique_ptr<SlurmClient> NewSlurmCommands(Duration timeout) { return std::make_unique<SlurmCommands>(timeout); }

}  // namespace stargate::control
