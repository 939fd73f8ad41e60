#!/usr/bin/env bash
# Screenshots of the dashboard (the map, each chart panel, the page) into
# docs/images/, taken by the browser test itself (web/test/dashboard.test.mjs
# through tests/cli/dashboard_cli.sh) on a fresh server: its charts hold
# the minutes that server has lived.
# Usage: bench/dashboard_screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="$(cd "${1:-build}" && pwd)"
STARGATE_SCREENSHOTS="$PWD/docs/images" bash tests/cli/dashboard_cli.sh "$BUILD/stargate" "$PWD"
ls -l docs/images/dashboard*.png
