#!/usr/bin/env bash
# The main job: install, build, and run the twin on the default scenario.
# Output lands in ./out/<scenario>/ (summary.json, jobs.csv, sites.csv, report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
./build/stargate twin run examples/scenarios/decentralized.yaml --out out "$@"
