#!/usr/bin/env bash
# Instructions the twin executes on a 1/18 slice of the 10 GW scenario
# (examples/scenarios/stargate-10gw.yaml with 20 days and every generator's
# count divided by 18: 55k jobs), counted by valgrind's callgrind. Unlike
# wall time on a shared VM, the count repeats exactly for the same binary
# and input, so it shows small changes in the twin's cost.
# Usage: bench/twin_instructions.sh [BINARY ...]  (default ./build/stargate)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind > /dev/null || { echo "valgrind is missing (apt-get install valgrind)"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed -e 's/^duration: 365d/duration: 20d/' examples/scenarios/stargate-10gw.yaml |
  awk '/^ *count: [0-9]+$/ { n = $2; sub(/count: [0-9]+/, "count: " int(n / 18)) } { print }' > "$tmp/slice.yaml"
for bin in "${@:-./build/stargate}"; do
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
    "$bin" twin run "$tmp/slice.yaml" -o "$tmp/out" -q --no-audit --no-jobs-csv 2> "$tmp/vg.txt"
  refs="$(grep -o 'refs: *[0-9,]*' "$tmp/vg.txt" | awk '{print $2}')"
  echo "$bin: $refs instructions; summary md5 $(md5sum "$tmp"/out/*/summary.json | cut -c1-8)"
  rm -rf "$tmp/out"
done
