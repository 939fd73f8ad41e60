#!/usr/bin/env bash
# The twin's report end to end (issue 21): the default scenario runs under
# fifo and, from its `compare:`, under stargate; report.html compares them
# and compare.json holds both summaries; the report is drawn by the uPlot
# built into the binary, so a copy of the binary anywhere writes it; in
# headless Chromium every chart draws, offline (web/test/report.test.mjs).
# The browser part is skipped without /usr/bin/chromium or web/node_modules.
# Usage: twin_report_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
REPO="$(cd "$2" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Installed elsewhere: the front and stargate-full copied, no web/ beside them.
mkdir -p "$TMP/opt/bin"
cp "$BIN" "$(dirname "$BIN")/stargate-full" "$TMP/opt/bin/"
cd "$TMP"
"$TMP/opt/bin/stargate" twin run "$REPO/examples/scenarios/decentralized.yaml" --out out > run.txt ||
  fail "twin run: $(cat run.txt)"
D=out/decentralized
grep -Eq "^ +fifo +[0-9]+" run.txt || fail "no fifo row in the printed comparison: $(cat run.txt)"
grep -Eq "^ +stargate +[0-9]+" run.txt || fail "no stargate row in the printed comparison"
python3 - "$D/compare.json" <<'PY' || fail "compare.json"
import json, sys
runs = json.load(open(sys.argv[1]))
assert [r["policy"] for r in runs] == ["fifo", "stargate"], [r["policy"] for r in runs]
assert runs[0]["jobs"]["total"] == runs[1]["jobs"]["total"] > 0, "the same workload under both"
assert len(runs[1]["sites"]) == len(runs[0]["sites"]) == 10
PY
grep -q '<h2>Policies compared</h2>' "$D/report.html" || fail "the report does not compare the policies"
grep -q '<tr data-policy="stargate">' "$D/report.html" || fail "no stargate row in the report"
grep -q 'uPlot' "$D/report.html" || fail "uPlot is not inlined"
grep -q '<script src' "$D/report.html" && fail "the report loads a script from elsewhere"

# --no-compare: one policy, no comparison; --compare overrides the file.
"$TMP/opt/bin/stargate" twin run "$REPO/examples/scenarios/decentralized.yaml" --out one -q --no-compare
[ -e one/decentralized/compare.json ] && fail "--no-compare wrote compare.json"
grep -q 'Policies compared' one/decentralized/report.html && fail "--no-compare still compared"
# Same scenario, same bytes, comparison included.
"$TMP/opt/bin/stargate" twin run "$REPO/examples/scenarios/decentralized.yaml" --out again -q
cmp -s "$D/report.html" again/decentralized/report.html || fail "report.html differs between identical runs"
# An unknown policy to compare with is an error that names it.
if "$TMP/opt/bin/stargate" twin run "$REPO/examples/scenarios/decentralized.yaml" --out bad -q --compare nosuch 2> bad.txt; then
  fail "--compare nosuch succeeded"
fi
grep -q "nosuch" bad.txt || fail "the error does not name the policy: $(cat bad.txt)"

if [ -x /usr/bin/chromium ] && [ -d "$REPO/web/node_modules/playwright-core" ]; then
  node "$REPO/web/test/report.test.mjs" "$TMP/$D/report.html" fifo stargate || fail "the report's browser test failed"
else
  echo "browser part skipped: no /usr/bin/chromium or web/node_modules"
fi
echo "twin report CLI: ok"
