#!/usr/bin/env bash
# The main job: install, build, run the orchestrator demo (a server and
# local agents on loopback: jobs run, a node is killed, its gang resumes
# from its checkpoint; it finishes by itself), then the twin on the default
# scenario. Twin output lands in ./out/<scenario>/ (summary.json, jobs.csv,
# sites.csv, report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
./build/stargate demo
./build/stargate twin run examples/scenarios/decentralized.yaml --out out "$@"
