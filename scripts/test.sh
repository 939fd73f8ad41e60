#!/usr/bin/env bash
# Installs, builds, and runs every test (unit, CLI end to end, bounded fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
