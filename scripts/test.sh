#!/usr/bin/env bash
# Installs, builds, and runs every test: unit and CLI end-to-end tests
# (ctest), then a bounded libFuzzer run of the scenario and job file
# parsers under ASan/UBSan (FUZZ_SECONDS in all, default 30; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
if [ "${FUZZ_SECONDS:-30}" != 0 ]; then
  FUZZ_JOBS="$(nproc)" bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}" > build/fuzz.log 2>&1 ||
    { tail -60 build/fuzz.log; echo "fuzz: a parser crashed or hung (log above)"; exit 1; }
  grep -E "^Done" build/fuzz.log
fi
