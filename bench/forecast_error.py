#!/usr/bin/env python3
"""Forecast error of the scheduler's forecast models on real carbon series.

Reads the grid carbon-intensity series in ../shared/data/carbon (DE every
15 min, GB and FR every 30 min, 2019-12-20 to 2021-01-10), averages them to
hours, and prints the mean absolute percentage error of each model
(core/grid_forecast.h) at several horizons:
  persistence: the value at t for every hour ahead;
  day_ago:     hour t+h as the same hour of the latest day already seen
               (t+h - 24 * ceil(h / 24)).
Usage: bench/forecast_error.py [DATA_DIR]
"""
import csv
import datetime
import os
import statistics
import sys

HORIZONS = (1, 3, 6, 12, 24)


def hourly(path):
    by_hour = {}
    with open(path) as f:
        rows = csv.reader(f)
        next(rows)
        for t, v in rows:
            hour = datetime.datetime.strptime(t[:13], "%Y-%m-%d %H")
            by_hour.setdefault(hour, []).append(float(v))
    return [statistics.mean(by_hour[h]) for h in sorted(by_hour)]


def mape(values, horizon, model):
    errors = []
    for t in range(24, len(values) - horizon):
        actual = values[t + horizon]
        if actual <= 0:
            continue
        if model == "persistence":
            guess = values[t]
        else:
            guess = values[t + horizon - 24 * ((horizon + 23) // 24)]
        errors.append(abs(guess - actual) / actual)
    return 100 * statistics.mean(errors)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "data", "carbon")
    if not os.path.isdir(data):
        print(f"no carbon series at {data} (../shared/data/carbon): nothing to measure", file=sys.stderr)
        return 77
    print("| grid | hours | model | " + " | ".join(f"{h} h" for h in HORIZONS) + " |")
    print("|---|---|---|" + "---|" * len(HORIZONS))
    for name, label in (("ger", "DE"), ("gb", "GB"), ("fr", "FR")):
        values = hourly(os.path.join(data, f"{name}_ci.csv"))
        for model in ("persistence", "day_ago"):
            cells = " | ".join(f"{mape(values, h, model):.1f}%" for h in HORIZONS)
            print(f"| {label} | {len(values)} | {model} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
