// libFuzzer target for the scenario parser and the unit parsers it exports.
// The property under test: any byte string yields a value or a Status, never
// a crash, hang, exception, sanitizer report or unbounded memory use. An OK
// result must also satisfy the documented invariants.
//
// Build and run with scripts/fuzz.sh (seed corpus: tests/fixtures/scenarios/).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/scenario_parser.h"

namespace {

// abort() so libFuzzer records the input; the parser promised these.
void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckInvariants(const stargate::ScenarioSpec& s) {
  Check(!s.sites.empty());
  Check(s.duration > stargate::Duration::Zero());
  for (const stargate::SiteSpec& site : s.sites) {
    Check(!site.name.empty() && site.pue >= 1 && !site.pools.empty());
    for (const stargate::PoolSpec& p : site.pools) {
      Check(p.nodes >= 1 && p.accels_per_node >= 1 && p.nodes_per_rack >= 1 && p.domain_nodes >= 1);
    }
  }
  for (const stargate::GeneratorSpec& g : s.workload.generators) {
    Check(!g.sizes.empty() && g.end > g.start);
    for (const auto& c : g.sizes) Check(c.accelerators >= 1 && c.weight > 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const stargate::StatusOr<stargate::ScenarioSpec> s = stargate::ParseScenario(text, "fuzz.yaml");
  if (s.ok()) {
    CheckInvariants(*s);
  } else {
    Check(s.status().code() == absl::StatusCode::kInvalidArgument ||
          s.status().code() == absl::StatusCode::kResourceExhausted);
    Check(std::string(s.status().message()).starts_with("fuzz.yaml"));
  }
  // The unit parsers see the raw bytes too (they are public API on their own).
  if (size <= 256) {
    (void)stargate::ParseDuration(text);
    (void)stargate::ParsePower(text);
    (void)stargate::ParseBandwidth(text);
    (void)stargate::ParseBytes(text);
    (void)stargate::ParseCount(text);
    (void)stargate::ParseNumber(text);
  }
  return 0;
}
