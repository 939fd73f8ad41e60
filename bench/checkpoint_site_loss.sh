#!/usr/bin/env bash
# What a second checkpoint site buys when a whole site goes down (issue
# 22): the twin runs examples/scenarios/llama3-405b-two-sites.yaml (Llama 3
# 405B, 54 days, its campus down 12 h on day 30) with its checkpoints in
# one site and in two (`replicas: {sites: 2, every: 30m}`), same seed, and
# prints effective training time, useful device-hours and what the outage
# cost each, for outages of each length in OUTAGES.
# Usage: bench/checkpoint_site_loss.sh [OUTAGES="12h 72h"] [SCENARIO]
set -euo pipefail
cd "$(dirname "$0")/.."
OUTAGES="${1:-12h 72h}"
SCENARIO="${2:-examples/scenarios/llama3-405b-two-sites.yaml}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
printf '%-7s %-9s %8s %16s %10s %10s %10s %14s\n' outage replicas ETTR useful_dev_h wait_h redone_h restarts \
  replicated_TB
for outage in $OUTAGES; do
for n in 1 2; do
  sed -E "s/replicas: \{sites: [0-9]+/replicas: {sites: $n/; s/(node: all, repair:) [0-9a-z]+/\1 $outage/" "$SCENARIO" \
    > "$TMP/s$n.yaml"
  rm -rf "$TMP/out$n"
  build/stargate twin run "$TMP/s$n.yaml" -o "$TMP/out$n" > "$TMP/run$n.txt"
  /usr/bin/python3 - "$TMP"/out$n/*/summary.json "$n" "$outage" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c = s.get("checkpoints", {})
print(f"{sys.argv[3]:<7} {sys.argv[2]:<9} {100 * s['effective_training_time_ratio']:7.2f}% {s['useful_device_hours']:16,.0f} "
      f"{c.get('waited_hours', 0):10.2f} {c.get('redone_hours', 0):10.2f} "
      f"{c.get('restarted_from_replica', 0) + c.get('restarted_from_start', 0) + c.get('waited_for_site', 0):10d} "
      f"{c.get('replication_tb', 0):14,.0f}")
PY
done
done
