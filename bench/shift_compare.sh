#!/usr/bin/env bash
# Carbon-aware time shifting against its oracle bound (issue 23), in the
# setting CarbonFlex (arXiv 2505.18357) measures its 2.1% in: deferrable
# work on real grids, idle capacity switched off. Three sites of 512 H100
# (64 nodes) on the real GB, DE and FR carbon series of ../shared/data/carbon
# (Wiesner et al.; 30 days from 2019-12-20), 30,000 deferrable batch jobs
# (1-8 devices, median 2 h, due 24 h after submission), power saving on
# (warm reserve 5%). Usage: bench/shift_compare.sh [SEED]; prints
# bench/policy_compare.sh's rows for FIFO and the stargate policy, each with
# its bound. Skipped (exit 77) without the series.
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-42}"
data="$(cd .. && pwd)/shared/data/carbon"
if [ ! -f "$data/gb_ci.csv" ]; then echo "no $data/gb_ci.csv: skipped" >&2; exit 77; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
{
  printf 'name: temporal-shift\nseed: %s\nduration: 30d\npolicy: fifo\nfailures: {preset: none}\nsites:\n' "$seed"
  for site in gb:UK:gb_ci de:EU:ger_ci fr:EU:fr_ci; do
    IFS=: read -r name jurisdiction file <<< "$site"
    cat <<YAML
  - name: $name
    jurisdiction: $jurisdiction
    pue: 1.2
    carbon: {kind: file, file: $data/$file.csv, column: 1}
    price: {kind: diurnal, mean: 90, daily_amplitude: 0.3, noise: 0.05}
    pools: [{accelerator: H100, nodes: 64}]
YAML
  done
  cat <<'YAML'
workload:
  generators:
    - name: batch
      kind: batch
      count: 30000
      sizes: [{accelerators: 1, weight: 6}, {accelerators: 2, weight: 2}, {accelerators: 4, weight: 1}, {accelerators: 8, weight: 1}]
      duration_median: 2h
      duration_sigma: 1.0
      tenants: 20
      checkpoint: {enabled: false}
      deferrable_fraction: 1.0
      deadline_slack: 24h
YAML
} > "$tmp/shift.yaml"
BOUND=1 bash bench/policy_compare.sh "$tmp/shift.yaml" \
  "fifo+ps:policy: fifo\nscheduler: {power_save: {}}" \
  "stargate+ps:policy: stargate\nscheduler: {power_save: {}}"
