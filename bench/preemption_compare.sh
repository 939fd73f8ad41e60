#!/usr/bin/env bash
# Priorities, preemption and fair share in the twin (issue 3), on
# examples/scenarios/priority-preemption.yaml: per run, mean and p99 wait of
# the urgent (priority 10), research and batch jobs, preemptions, goodput,
# mean JCT, and tenant-1's mean research wait over the other teams' (tenant-1
# weighs 2 under fair share; tenant-0 also owns the urgent jobs, so it is
# not the one compared). Usage:
#   bench/preemption_compare.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
seed="${1:-3}"
scenario=examples/scenarios/priority-preemption.yaml
tmp="$(mktemp -d)"
chmod 1777 "$tmp"  # agents as root run tasks as their tenant's user
trap 'rm -rf "$tmp"' EXIT
run() {  # label, scheduler override (YAML flow map) or "fifo"
  local label="$1" override="$2" file="$tmp/$1.yaml"
  if [ "$override" = fifo ]; then
    sed 's/^policy: stargate/policy: fifo/' "$scenario" > "$file"
  else
    sed "/^scheduler:/,/^workload:/{/^workload:/!d}" "$scenario" | sed "s/^workload:/scheduler: $override\nworkload:/" > "$file"
  fi
  ./build/stargate twin run "$file" -o "$tmp/$label" --seed "$seed" -q --no-audit
  /usr/bin/python3 - "$label" "$tmp/$label/priority-preemption" <<'PY'
import csv, json, sys, collections
label, out = sys.argv[1], sys.argv[2]
d = json.load(open(out + "/summary.json"))
waits, tenant_wait = collections.defaultdict(list), collections.defaultdict(list)
for r in csv.DictReader(open(out + "/jobs.csv")):
    gen = r["name"].rsplit("-", 1)[0]
    if r["wait_h"] and r["first_start_h"]:
        waits[gen].append(float(r["wait_h"]))
    if gen == "research" and r["wait_h"] and r["first_start_h"]:
        tenant_wait[r["tenant"] == "tenant-1"].append(float(r["wait_h"]))
def stat(v):
    v = sorted(v)
    return "%6.2f %6.2f" % (sum(v) / len(v), v[max(0, int(0.99 * len(v)) - 1)]) if v else "     -      -"
mean = lambda v: sum(v) / len(v) if v else 0
t0, others = mean(tenant_wait[True]), mean(tenant_wait[False])
print("%-14s %s  %s  %s  %6d %7.3f %9.2f %7.2f" % (label, stat(waits["urgent"]), stat(waits["research"]),
      stat(waits["batch"]), d["preemptions"], d["goodput"], d["jct_hours"]["mean"],
      t0 / others if others > 0 else 0))
PY
}
printf "%-14s %13s  %13s  %13s  %6s %7s %9s %7s\n" run "urgent mean/p99 h" "research" "batch" preempt goodput jct_mean "t1_wait/others"
run fifo fifo
run no-preemption "{fair_share: true, tenants: [{name: tenant-1, weight: 2}], preemption: false}"
run preemption "{fair_share: true, tenants: [{name: tenant-1, weight: 2}]}"
run no-fair-share "{fair_share: false}"
