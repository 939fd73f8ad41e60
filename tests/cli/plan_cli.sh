#!/usr/bin/env bash
# `stargate plan` (issue 7): Llama 3 405B on H100 in 54 days lands near the
# 30.84M H100-hours Meta reports; --simulate checks the plan in the twin
# (finishes within 10% of the planned wall time); --json is machine
# readable; bad input exits 2 with the flag named.
# Usage: plan_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$BIN" plan --params 405B --tokens 15.6T --accelerator H100 --mfu 0.41 --deadline 54d --simulate --json > "$TMP/p.json"
/usr/bin/python3 - "$TMP/p.json" <<'PY' || fail "plan: $(cat "$TMP/p.json")"
import json, sys
p = json.load(open(sys.argv[1]))
hours = p["accelerator_hours"]
assert abs(hours / 30.84e6 - 1) < 0.12, hours
assert 16384 <= p["accelerators"] <= 30000, p["accelerators"]
assert p["fabric"]["tiers"] == 3 and p["fabric"]["switches"] > 0
assert p["facility_mw"] > p["it_mw"] > 0 and p["tco2"] > 0 and p["capex_usd"]["total"] > 0
s = p["simulated"]
assert s["finished"], s
assert abs(s["wall_days"] / p["wall_days"] - 1) < 0.10, (s["wall_days"], p["wall_days"])
assert s["interruptions"] > 100, s
print(f'plan: {hours/1e6:.2f}M H100-hours, {p["accelerators"]} GPUs, {p["wall_days"]:.1f} d; '
      f'twin: {s["wall_days"]:.1f} d, {s["interruptions"]} interruptions')
PY
"$BIN" plan --params 405B --tokens 15.6T --budget '$500M' | grep -q '^total  *[$]' || fail "budget plan"
if "$BIN" plan --params 405B --tokens 15.6T --mfu 0.4 2> "$TMP/err"; then fail "a plan without a size"; fi
grep -q "exactly one of a deadline, a budget or an accelerator count" "$TMP/err" || fail "message: $(cat "$TMP/err")"
if "$BIN" plan --params lots --tokens 1T --deadline 1d 2> "$TMP/err"; then fail "bad --params accepted"; fi
grep -q -- "--params" "$TMP/err" || fail "message: $(cat "$TMP/err")"
# Implausible inputs are warned of (a unit or a B left off), and the
# parameters print as model cards write them.
"$BIN" plan --params 70 --tokens 1.4T --accelerators 64 --json > "$TMP/tiny.json" 2> "$TMP/err" || fail "70 parameters"
grep -q "warning: --params 70: .*did you mean 70B" "$TMP/err" || fail "no warning for 70 parameters: $(cat "$TMP/err")"
grep -q "did you mean 70B" "$TMP/tiny.json" || fail "the JSON has no warnings: $(head -c 300 "$TMP/tiny.json")"
code=0; "$BIN" plan --params 70B --tokens 1.4T --deadline 30 > /dev/null 2> "$TMP/err" || code=$?
[ "$code" = 2 ] && grep -q "invalid duration '30': a number needs its unit" "$TMP/err" ||
  fail "a deadline without its unit: exit $code: $(cat "$TMP/err")"
"$BIN" plan --params 70B --tokens 1.4T --deadline 30s > /dev/null 2> "$TMP/err" || true
grep -q "warning: --deadline of 30 s" "$TMP/err" || fail "no warning for a 30-second deadline: $(cat "$TMP/err")"
"$BIN" plan --params 405B --tokens 15.6T --budget 20M > "$TMP/out" 2> "$TMP/err" || fail "a small budget"
grep -q "warning: the run takes [0-9]* days .*the budget buys too few" "$TMP/err" || fail "no warning for years: $(cat "$TMP/err")"
grep -q "^Plan: 405B parameters x 15.6T tokens" "$TMP/out" || fail "parameters as 405B: $(head -1 "$TMP/out")"
echo "plan CLI: ok"
