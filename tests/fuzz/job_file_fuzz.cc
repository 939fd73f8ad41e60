// libFuzzer target for the job file parser (what `stargate job submit` and
// POST /v1/jobs accept from users) and the agent, site and token files: any byte
// string yields a value or a Status naming the file, never a crash, hang,
// exception or sanitizer report; an accepted job satisfies its invariants,
// and an accepted serve file's replica job file is itself a valid job file.
// Run by scripts/fuzz.sh (seeds: examples/jobs/ and tests/fixtures/jobs/).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/agent_file.h"
#include "core/job_file_parser.h"
#include "core/serve_file.h"
#include "core/site_file.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const stargate::StatusOr<stargate::JobFile> j = stargate::ParseJobFile(text, "fuzz.yaml");
  if (j.ok()) {
    Check(!j->run.empty());
    Check(j->nodes >= 1 && j->spec.per_node >= 1);
    Check(j->spec.accelerator_count == j->nodes * j->spec.per_node);
    Check(j->max_restarts >= 0 && j->checkpoint_cost > stargate::Duration::Zero());
  } else {
    Check(std::string(j.status().message()).starts_with("fuzz.yaml"));
  }
  const auto a = stargate::ParseAgentFile(text, "fuzz.yaml");
  if (!a.ok()) Check(std::string(a.status().message()).starts_with("fuzz.yaml"));
  const auto s = stargate::ParseSiteFile(text, "fuzz.yaml");
  if (s.ok()) {
    for (const stargate::SiteInfo& site : *s) Check(!site.name.empty() && site.pue >= 1);
  } else {
    Check(std::string(s.status().message()).starts_with("fuzz.yaml"));
  }
  const auto v = stargate::ParseServeFile(text, "fuzz.yaml");
  if (v.ok()) {
    Check(v->serve.min_replicas >= 1 && v->serve.min_replicas <= v->serve.max_replicas);
    Check(v->serve.max_replicas <= stargate::kMaxReplicaPorts && v->job.nodes == 1);
    Check(!v->serve.health_path.empty() && v->serve.health_path[0] == '/');
    const auto replica = stargate::ReplicaJobText(*v, 3, "region-x", v->serve.port + 3);
    Check(replica.ok());
    const auto job = stargate::ParseJobFile(*replica, "replica.yaml");
    Check(job.ok() && job->spec.name == v->job.spec.name + "-r3" &&
          job->env.at("PORT") == std::to_string(v->serve.port + 3));
    Check(job->spec.near == "region-x" && job->run == v->job.run);
  } else {
    Check(std::string(v.status().message()).starts_with("fuzz.yaml"));
  }
  return 0;
}
