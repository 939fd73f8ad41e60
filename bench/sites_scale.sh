#!/usr/bin/env bash
# The twin's time against the number of sites at fixed work (issue 24).
# Usage: bench/sites_scale.sh SITES [JOBS] [DAYS] [POLICY]
# A network of SITES generated sites (site_sets: 16 H100 nodes each, in six
# regions of four jurisdictions) runs JOBS jobs (default 12,500) for DAYS
# days (default 14) under POLICY (default stargate): inference near three
# regions with a 30 ms round-trip limit, deferrable batch, EU-only
# fine-tunes and some training, as in the issue's measurement. Pinned to
# one core; prints wall time, peak RSS and scheduler passes. The run writes
# summary.json, report.html and sites.csv (every site's hourly series: 4.3
# GB at 10,000 sites and a year); NO_SITES_CSV=1 skips sites.csv
# (`twin run --no-sites-csv`), as jobs.csv and decisions.csv always are.
# NOISE (default 0.05) is the series' hourly noise; NOISE=0 gives every
# site of a region the same carbon series and every site the same price
# series (a network where thousands of sites tie on a grid key).
set -euo pipefail
cd "$(dirname "$0")/.."
sites="${1:?usage: bench/sites_scale.sh SITES [JOBS] [DAYS] [POLICY]}"
jobs="${2:-12500}"
days="${3:-14}"
policy="${4:-stargate}"
noise="${NOISE:-0.05}"
bash scripts/build.sh > /dev/null
out="${SITES_OUT:-$(mktemp -d)}"
[ -n "${SITES_OUT:-}" ] || trap 'rm -rf "$out"' EXIT
# Shares of the jobs: 40% inference, 40% batch, 12% EU fine-tunes, 8% training.
inf=$((jobs * 40 / 100)); batch=$((jobs * 40 / 100)); ft=$((jobs * 12 / 100)); train=$((jobs - inf - batch - ft))
cat > "$out/sites.yaml" <<YAML
name: sites-${sites}
seed: 24
duration: ${days}d
policy: ${policy}
failures: {preset: none}
site_sets:
  - name: edge
    count: ${sites}
    nodes: 16
    pool: {accelerator: H100}
    regions:
      - {name: us-east, jurisdiction: US, latitude: [33, 43], longitude: [-85, -72], weight: 3, carbon: {kind: diurnal, mean: 380, daily_amplitude: 0.15, noise: ${noise}, utc_offset_hours: -5}}
      - {name: us-west, jurisdiction: US, latitude: [33, 47], longitude: [-123, -112], weight: 2, carbon: {kind: diurnal, mean: 250, daily_amplitude: 0.3, noise: ${noise}, utc_offset_hours: -8}}
      - {name: eu-west, jurisdiction: EU, latitude: [43, 53], longitude: [-5, 10], weight: 2, carbon: {kind: diurnal, mean: 200, daily_amplitude: 0.25, noise: ${noise}, utc_offset_hours: 1}}
      - {name: eu-north, jurisdiction: EU, latitude: [58, 66], longitude: [10, 28], weight: 1, carbon: {kind: diurnal, mean: 40, daily_amplitude: 0.1, noise: ${noise}, utc_offset_hours: 1}}
      - {name: ap-south, jurisdiction: IN, latitude: [10, 28], longitude: [72, 88], weight: 2, carbon: {kind: diurnal, mean: 650, daily_amplitude: 0.1, noise: ${noise}, utc_offset_hours: 5}}
      - {name: sa-east, jurisdiction: BR, latitude: [-30, -15], longitude: [-55, -40], weight: 1, carbon: {kind: diurnal, mean: 100, daily_amplitude: 0.1, noise: ${noise}, utc_offset_hours: -3}}
    price: {kind: diurnal, mean: 60, daily_amplitude: 0.3, noise: ${noise}}
workload:
  generators:
    - {name: inference, kind: inference, count: ${inf}, sizes: [1, 8], duration_median: 4h, near: [us-east, eu-west, ap-south], max_rtt: 30ms, tenants: 20, checkpoint: {enabled: false}}
    - {name: batch, kind: batch, count: ${batch}, sizes: [1, 2, 8], duration_median: 2h, deferrable_fraction: 0.6, deadline_slack: 24h, tenants: 40, checkpoint: {enabled: false}}
    - {name: eu-finetune, kind: finetune, count: ${ft}, sizes: [8, 16, 64], duration_median: 3h, jurisdictions: [EU], tenants: 10}
    - {name: training, kind: training, count: ${train}, sizes: [64, 128], params_min: 1B, params_max: 8B, tenants: 5}
YAML
skip_sites=()
[ "${NO_SITES_CSV:-0}" = 1 ] && skip_sites=(--no-sites-csv)
/usr/bin/time -v -o "$out/time.txt" taskset -c 0 \
  ./build/stargate twin run "$out/sites.yaml" -o "$out" --no-jobs-csv -q --no-audit ${skip_sites[@]+"${skip_sites[@]}"}
summary="$(ls "$out"/*/summary.json)"
field() { grep -m1 "\"$1\":" "$summary" | sed 's/.*: *//; s/,$//'; }
wall="$(grep 'Elapsed (wall clock)' "$out/time.txt" | awk '{print $NF}')"
rss_kb="$(grep 'Maximum resident set size' "$out/time.txt" | awk '{print $NF}')"
written="$([ "${NO_SITES_CSV:-0}" = 1 ] && echo "no sites.csv" || echo "sites.csv written")"
echo "sites ${sites}, jobs ${jobs}, ${days} days, ${policy} (${written}): wall ${wall}, peak RSS $((rss_kb / 1024)) MiB," \
  "$(field scheduler_passes) passes, $(field finished) of $(field total) finished"
