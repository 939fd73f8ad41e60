#!/usr/bin/env bash
# The web dashboard end to end (issue 7): `stargate server` serves it at
# /ui/; headless Chromium (Debian's) driven by Playwright (playwright-core
# from npm, web/node_modules) loads it, sees the sites and nodes, sees a
# submitted job go from running to succeeded, opens its log and finds the
# placement in the audit trail, and a queued job's predicted start from the
# standing forecast. Skipped (exit 77) without /usr/bin/chromium
# or without web/node_modules (scripts/install-deps.sh installs both).
# Usage: dashboard_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
REPO="$(cd "$2" && pwd)"
[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium is missing (Debian: apt-get install chromium)"; exit 77; }
[ -d "$REPO/web/node_modules/playwright-core" ] || { echo "SKIP: web/node_modules is missing (npm ci --prefix web)"; exit 77; }
source "$(dirname "$0")/lib/cluster.bash"
cat > sites.yaml <<'YAML'
sites:
  - {name: lab, latitude: 48.86, longitude: 2.35, power_cap: 1MW, pue: 1.2, carbon: 56}
YAML
start_server --sites sites.yaml --forecast-interval 10s
start_agent a --accelerators CPU:1
wait_up 1
grep -q '<div id="app">' <<< "$(curl -s "$STARGATE_SERVER/ui/")" || fail "no dashboard at /ui/"
# It runs until the page has seen it running and the test touches the
# release file (at most 120 s), so a slow browser start cannot miss it.
printf 'name: shown\nrun: for i in $(seq 1200); do [ -e %s ] && break; sleep 0.1; done; echo "hello from the dashboard job"\n' \
  "$TMP/release" > j.yaml
"$BIN" job submit j.yaml > /dev/null
# Two more that queue on the one CPU: the third waits an hour behind the second.
printf 'name: next\nestimate: 1h\nrun: sleep 300\n' > k.yaml
"$BIN" job submit k.yaml > /dev/null
"$BIN" job submit k.yaml > /dev/null
node "$REPO/web/test/dashboard.test.mjs" "$STARGATE_SERVER/ui/" 1 "hello from the dashboard job" 3 "$TMP/release" ||
  fail "the dashboard test failed"
echo "dashboard CLI: ok"
