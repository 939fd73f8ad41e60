#!/usr/bin/env bash
# The twin's scale benchmark (issue 2): the 10 GW Stargate network, 5.14M
# accelerators and 1M jobs over one simulated year with failures on, pinned
# to one core. Prints wall time, peak RSS and events/s; targets are <= 60 s
# and <= 4 GiB. Usage: bench/twin_scale.sh [scenario.yaml]; the audit trail is
# off unless STARGATE_TWIN_FLAGS overrides "--no-audit" (e.g. with " ").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
scenario="${1:-examples/scenarios/stargate-10gw.yaml}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v -o "$out/time.txt" taskset -c 0 \
  ./build/stargate twin run "$scenario" -o "$out" --no-jobs-csv -q ${STARGATE_TWIN_FLAGS:---no-audit}
summary="$(ls "$out"/*/summary.json)"
field() { grep -m1 "\"$1\":" "$summary" | sed 's/.*: *//; s/,$//'; }
wall="$(grep 'Elapsed (wall clock)' "$out/time.txt" | awk '{print $NF}')"
user="$(grep 'User time' "$out/time.txt" | awk '{print $NF}')"
rss_kb="$(grep 'Maximum resident set size' "$out/time.txt" | awk '{print $NF}')"
events="$(field events)"
echo "scenario:       $scenario"
echo "accelerators:   $(field accelerators) on $(field nodes) nodes"
echo "jobs:           $(field total) ($(field finished) finished)"
echo "failures:       $(field failures), interruptions $(field interruptions), gang repairs $(field gang_repairs)"
echo "events:         $events in $(field scheduler_passes) scheduler passes"
echo "wall:           $wall (user ${user}s)"
echo "peak RSS:       $((rss_kb / 1024)) MiB"
awk -v e="$events" -v u="$user" 'BEGIN { printf "events/s:       %.0f (per CPU second)\n", e / u }'
