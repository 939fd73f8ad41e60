#!/usr/bin/env bash
# End to end through the binary: `stargate twin run|validate` on good and bad
# scenarios. Usage: twin_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
ROOT="$2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A good run writes all four outputs and prints the summary.
"$BIN" twin run "$ROOT/examples/scenarios/llama3-405b.yaml" --out "$TMP/a" > "$TMP/a.txt"
for f in summary.json jobs.csv sites.csv decisions.csv report.html; do
  [ -s "$TMP/a/llama3-405b/$f" ] || fail "missing $f"
done
grep -q "job interruptions" "$TMP/a.txt" || fail "no summary printed"

# Same seed, same bytes; another seed, other bytes.
"$BIN" twin run "$ROOT/examples/scenarios/llama3-405b.yaml" --out "$TMP/b" -q
for f in summary.json jobs.csv sites.csv decisions.csv report.html; do
  cmp -s "$TMP/a/llama3-405b/$f" "$TMP/b/llama3-405b/$f" || fail "$f differs between identical runs"
done
"$BIN" twin run "$ROOT/examples/scenarios/llama3-405b.yaml" --out "$TMP/c" -q --seed 7
cmp -s "$TMP/a/llama3-405b/summary.json" "$TMP/c/llama3-405b/summary.json" && fail "--seed had no effect"
# The large-run switches skip their files and nothing else.
"$BIN" twin run "$ROOT/examples/scenarios/llama3-405b.yaml" --out "$TMP/e" -q --no-jobs-csv --no-audit --no-sites-csv
for f in jobs.csv sites.csv decisions.csv; do [ ! -e "$TMP/e/llama3-405b/$f" ] || fail "$f written though skipped"; done
cmp -s "$TMP/a/llama3-405b/summary.json" "$TMP/e/llama3-405b/summary.json" || fail "skipping files changed the summary"
[ -s "$TMP/e/llama3-405b/report.html" ] || fail "no report without the CSVs"
# --seed redraws the workload too, not just failures: the same as writing the seed in the file.
sed 's/^seed: .*/seed: 7/' "$ROOT/examples/scenarios/llama3-405b.yaml" > "$TMP/seed7.yaml"
"$BIN" twin run "$TMP/seed7.yaml" --out "$TMP/d" -q
cmp -s "$TMP/c/llama3-405b/jobs.csv" "$TMP/d/llama3-405b/jobs.csv" || fail "--seed 7 differs from seed: 7 in the file"

# --bound: the oracle bound beside the run, never above it, the same bytes
# on a second run; under a forecast model the run still bills actuals.
cat > "$TMP/two.yaml" <<'YAML'
name: two
duration: 3d
sites:
  - name: dirty
    jurisdiction: US
    carbon: {kind: diurnal, mean: 500, daily_amplitude: 0.3, noise: 0.1}
    price: {kind: diurnal, mean: 60, daily_amplitude: 0.4, noise: 0.1}
    pools: [{accelerator: H100, nodes: 8}]
  - name: clean
    jurisdiction: EU
    carbon: {kind: diurnal, mean: 120, daily_amplitude: 0.4, noise: 0.1}
    price: 80
    pools: [{accelerator: A100, nodes: 8}]
workload:
  generators:
    - {kind: batch, count: 200, end: 2d, sizes: [8, 16], duration_median: 2h, deferrable_fraction: 0.5, deadline_slack: 12h}
    - {kind: fine_tune, count: 40, end: 2d, sizes: [8], jurisdictions: EU}
YAML
for run in e f; do
  "$BIN" twin run "$TMP/two.yaml" --out "$TMP/$run" --bound --no-compare --policy stargate > "$TMP/$run.txt"
done
grep -q "no schedule of this work emits under" "$TMP/e.txt" || { cat "$TMP/e.txt"; fail "no bound line"; }
grep -q "by site     .*busy device-hours in this run, .* at the bound" "$TMP/e.txt" || { cat "$TMP/e.txt"; fail "no bound by site"; }
cmp -s "$TMP/e/two/summary.json" "$TMP/f/two/summary.json" || fail "the bound is not the same twice"
/usr/bin/python3 - "$TMP/e/two/summary.json" <<'PY' || fail "bound not below the run"
import json, sys
d = json.load(open(sys.argv[1]))
b = d["bound"]
assert 0 < b["tco2"] <= d["tco2"] and 0 < b["cost_usd"] <= d["cost_usd"], (b, d["tco2"], d["cost_usd"])
assert abs(b["tco2_gap"] - (d["tco2"] / b["tco2"] - 1)) < 1e-4 and b["lp"]["columns"] > 0 and b["proven"]
# Per site: the bound's split adds up to it; the run's busy hours to its utilisation.
assert abs(sum(s["bound"]["tco2"] for s in d["sites"]) - b["tco2"]) <= 1e-4 * b["tco2"], d["sites"]
busy = sum(s["busy_device_hours"] for s in d["sites"])
assert abs(busy - d["utilisation"] * d["accelerators"] * 72) <= 1e-4 * busy and busy > 0, (busy, d["utilisation"])
PY
sed 's/^duration: 3d/duration: 3d\nscheduler: {forecast_model: persistence}/' "$TMP/two.yaml" > "$TMP/persist.yaml"
"$BIN" twin run "$TMP/persist.yaml" --out "$TMP/g" -q --no-compare --policy stargate
cmp -s "$TMP/e/two/jobs.csv" "$TMP/g/two/jobs.csv" && fail "forecast_model: persistence changed no decision"

# A power ramp limit on every site: starts ramped and held within it, the
# same bytes twice; a limit of zero is refused, and --no-power-ramp goes
# with neither.
for run in h i; do
  "$BIN" twin run "$TMP/two.yaml" --out "$TMP/$run" --no-compare --policy stargate --power-ramp-mw-per-min 0.02 \
    > "$TMP/$run.txt"
done
grep -q "starts ramped" "$TMP/h.txt" || { cat "$TMP/h.txt"; fail "no power ramp line"; }
cmp -s "$TMP/h/two/summary.json" "$TMP/i/two/summary.json" || fail "a ramped run is not the same twice"
/usr/bin/python3 - "$TMP/h/two/summary.json" "$TMP/e/two/summary.json" <<'PY' || fail "ramp limit not kept"
import json, sys
ramped, free = (json.load(open(p))["power_swings"] for p in sys.argv[1:3])
assert ramped["ramped_starts"] > 0 and ramped["holding_mwh"] > 0, ramped
assert ramped["largest_ramp_mw_per_min"] <= 0.02 + 1e-9 and free["ramped_starts"] == 0, (ramped, free)
PY
if "$BIN" twin run "$TMP/two.yaml" --out "$TMP/j" -q --power-ramp-mw-per-min 0 2> "$TMP/j.err"; then
  fail "a zero ramp limit was taken"
fi
grep -q "power-ramp-mw-per-min" "$TMP/j.err" || { cat "$TMP/j.err"; fail "the refusal does not name the flag"; }
if "$BIN" twin run "$TMP/two.yaml" --out "$TMP/j" -q --no-power-ramp --power-ramp-mw-per-s 1 2> "$TMP/j.err"; then
  fail "--no-power-ramp with a limit was taken"
fi

# Every shipped scenario validates.
for s in "$ROOT"/examples/scenarios/*.yaml; do
  "$BIN" twin validate "$s" > /dev/null || fail "$s does not validate"
done

# A bad scenario: non-zero exit, and the message names file, line and field.
cat > "$TMP/bad.yaml" <<'YAML'
name: bad
duration: 1d
sites:
  - name: a
    jurisdiction: US
    pools:
      - {accelerator: H1000, nodes: 4}
YAML
set +e
"$BIN" twin run "$TMP/bad.yaml" --out "$TMP/bad" 2> "$TMP/bad.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "bad scenario exited 0"
grep -q "bad.yaml:7:.*sites\[0\].pools\[0\].accelerator.*H1000" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "error does not name file:line and field"; }

# A missing file and an unknown policy are clear errors too.
if "$BIN" twin run "$TMP/nope.yaml" 2> /dev/null; then fail "missing file exited 0"; fi
if "$BIN" twin run "$ROOT/examples/scenarios/llama3-405b.yaml" --out "$TMP/p" --policy nonsense 2> "$TMP/p.err"; then
  fail "unknown policy exited 0"
fi
grep -q "unknown scheduler policy" "$TMP/p.err" || fail "unknown policy message"
# The audit trail answers "where did job 0 go and why", by job and action.
"$BIN" twin audit "$TMP/a/llama3-405b" --job 0 > "$TMP/audit.txt"
grep -q "^ *[0-9.]* *0 .*start" "$TMP/audit.txt" || { cat "$TMP/audit.txt"; fail "audit shows no start for job 0"; }
grep -q "matching decisions shown" "$TMP/audit.txt" || fail "audit footer"
"$BIN" twin audit "$TMP/a/llama3-405b/decisions.csv" --action reject --csv > "$TMP/rej.txt"
[ ! -s "$TMP/rej.txt" ] || fail "llama run has no rejections, audit printed some"
if "$BIN" twin audit "$TMP/a/llama3-405b" --action explode 2> "$TMP/act.err"; then fail "bad --action exited 0"; fi
grep -q "unknown action 'explode'" "$TMP/act.err" || fail "bad --action message"
if "$BIN" twin audit "$TMP/a/llama3-405b/jobs.csv" 2> "$TMP/notrail.err"; then fail "jobs.csv read as a trail"; fi
grep -q "not an audit trail" "$TMP/notrail.err" || fail "not-a-trail message"
if "$BIN" twin audit "$TMP/none" 2> /dev/null; then fail "missing trail exited 0"; fi

echo "twin CLI: ok"
