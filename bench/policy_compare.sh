#!/usr/bin/env bash
# Policy comparison in the twin (issue 3): the same scenario, workload and
# seed under different policy sets; prints one row per run. Usage:
#   bench/policy_compare.sh SCENARIO.yaml "label:override-yaml" ...
# Each override is YAML merged over the scenario's top level by replacing
# the keys it names (policy, scheduler, failures). With no overrides:
# fifo vs stargate. BOUND=1 also solves each run's oracle bound (`twin run
# --bound`) and adds the bound's tCO2 and the run's gap to it, and the
# bound with each job finished no later than the run finished it (ends_t).
# KEEP=DIR keeps each run's summary.json as DIR/LABEL.json (with --bound,
# its sites' split of the bound: where the gap is).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
scenario="$1"; shift
if [ $# -eq 0 ]; then set -- "fifo:policy: fifo" "stargate:policy: stargate"; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bound=(); [ "${BOUND:-0}" = 1 ] && bound=(--bound)
printf "%-22s %9s %9s %8s %6s %9s %10s %9s %9s %9s %12s %6s %9s %9s %7s %12s %7s %9s %7s\n" policy jct_mean_h wait_p99_h goodput ettr train_jct train_wait tco2 g_per_dh wl_tco2 cost_usd sla finished bound_t gap bound_usd gap ends_t gap
for run in "$@"; do
  label="${run%%:*}"; override="${run#*:}"
  /usr/bin/python3 - "$scenario" "$override" "$tmp/$label.yaml" <<'PY'
import sys, re
src, override, dst = sys.argv[1], sys.argv[2].replace('\\n', '\n'), sys.argv[3]
text = open(src).read()
keys = re.findall(r'^([a-z_]+):', override, re.M)
lines, skip = [], False
for line in text.splitlines():
    m = re.match(r'^([a-z_]+):', line)
    if m: skip = m.group(1) in keys
    elif line and not line.startswith((' ', '#', '-')): skip = False
    if not skip: lines.append(line)
open(dst, 'w').write('\n'.join(lines) + '\n' + override + '\n')
PY
  ./build/stargate twin run "$tmp/$label.yaml" -o "$tmp/$label" -q --no-jobs-csv "${bound[@]}"
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$tmp/$label"/*/summary.json "$KEEP/$label.json"; fi
  /usr/bin/python3 - "$label" "$tmp/$label"/*/summary.json <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
t = d.get('by_kind', {}).get('training', {})
# g_per_dh: facility gCO2 per useful device-hour, so runs that get
# different amounts of work done compare fairly.
per_dh = d['tco2'] * 1e6 / d['useful_device_hours'] if d['useful_device_hours'] > 0 else 0
b = d.get('bound')
tail = ("%9.0f %6.1f%% %12.0f %6.1f%%" % (b['tco2'], 100 * b['tco2_gap'], b['cost_usd'], 100 * b['cost_gap'])
        if b else "%9s %7s %12s %7s" % ("-", "-", "-", "-"))
e = d.get('bound_at_run_ends')
if e:
    tail += " %9.0f %6.1f%%" % (e['tco2'], 100 * e['tco2_gap'])
print("%-22s %9.2f %9.2f %8.3f %6.3f %9.1f %10.1f %9.0f %9.1f %9.0f %12.0f %6d %9d " % (
    sys.argv[1], d['jct_hours']['mean'], d['wait_hours']['p99'], d['goodput'],
    d['effective_training_time_ratio'], t.get('jct_mean_h', 0), t.get('wait_mean_h', 0), d['tco2'],
    per_dh, d['workload']['tco2'], d['cost_usd'], d['sla_misses'], d['jobs']['finished']) + tail)
PY
done
