#!/usr/bin/env bash
# Forecast error in the twin (issue 23): the same scenario and seed with the
# scheduler deciding on perfect foresight, on persistence and on a day-ago
# forecast of the grid (scheduler.forecast_model, core/grid_forecast.h);
# the bill is the actual series in every run. Usage:
#   bench/forecast_compare.sh SCENARIO.yaml SEED [real]
# `real`: the scenario's Frankfurt and Paris sites take the real DE and FR
# series from ../shared/data/carbon (Wiesner et al., ENTSO-E; 2019-12-20 on)
# instead of their synthetic ones; skipped (exit 77) when those are absent.
# Prints one row per model (bench/policy_compare.sh's columns).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="$1"; seed="$2"; real="${3:-}"
full="policy: stargate\nseed: $seed\nscheduler: {weights: {time: 1, carbon: 3, cost: 0.5}, wait_budget: 1, power_save: {}, carbon_cap: {}"
if [ "$real" = real ]; then
  data="$(cd .. && pwd)/shared/data/carbon"
  if [ ! -f "$data/ger_ci.csv" ]; then echo "no $data/ger_ci.csv: skipped" >&2; exit 77; fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  /usr/bin/python3 - "$scenario" "$data" "$tmp/real.yaml" <<'PY'
import re, sys
src, data, dst = sys.argv[1:]
files = {"de-frankfurt": "ger_ci.csv", "fr-paris": "fr_ci.csv"}
out, site = [], None
for line in open(src).read().splitlines():
    m = re.match(r"\s*- name: (\S+)", line)
    if m:
        site = m.group(1)
    if site in files and re.match(r"\s+carbon:", line):
        indent = line[: len(line) - len(line.lstrip())]
        line = f"{indent}carbon: {{kind: file, file: {data}/{files[site]}, column: 1}}"
    out.append(line)
open(dst, "w").write("\n".join(out) + "\n")
PY
  scenario="$tmp/real.yaml"
fi
bash bench/policy_compare.sh "$scenario" \
  "perfect:$full, forecast_model: perfect}" \
  "persistence:$full, forecast_model: persistence}" \
  "day_ago:$full, forecast_model: day_ago}"
