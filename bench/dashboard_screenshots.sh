#!/usr/bin/env bash
# Screenshots of the dashboard (the map and each chart panel on fixed data,
# the job page and the whole page live) and of the twin's report (its top,
# the network charts, the small multiples) into docs/images/, taken by the
# browser tests themselves (web/test/dashboard.test.mjs through
# tests/cli/dashboard_cli.sh, web/test/report.test.mjs through
# tests/cli/twin_report_cli.sh). The map, the panels and the report's
# pictures are the references those tests compare against afterwards.
# Usage: bench/dashboard_screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="$(cd "${1:-build}" && pwd)"
export STARGATE_SCREENSHOTS="$PWD/docs/images"
bash tests/cli/dashboard_cli.sh "$BUILD/stargate" "$PWD"
bash tests/cli/twin_report_cli.sh "$BUILD/stargate" "$PWD"
ls -l docs/images/dashboard*.png docs/images/report*.png
