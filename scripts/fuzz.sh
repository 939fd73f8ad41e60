#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs the scenario
# parser fuzzer for a bounded time on the fixture corpus.
#
#   scripts/fuzz.sh            # 60 s
#   scripts/fuzz.sh 600        # 10 min
#   FUZZ_JOBS=1 BUILD_DIR=build-fuzz scripts/fuzz.sh 60
#
# New interesting inputs go to $CORPUS_OUT (default build-fuzz/corpus), not
# into the checked-in seed corpus; crashes are written as crash-* files in the
# build dir and make the script exit non-zero.
set -euo pipefail
# STARGATE_BUILD_FUZZ instruments every library (see CMakeLists.txt), so the
# parser itself gets coverage feedback and sanitizer checks.

SECONDS_TO_RUN="${1:-60}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-fuzz}"
SEEDS="$ROOT/tests/fixtures/scenarios"
CORPUS_OUT="${CORPUS_OUT:-$BUILD_DIR/corpus}"

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTARGATE_BUILD_FUZZ=ON -DSTARGATE_BUILD_TESTS=OFF -DSTARGATE_BUILD_BENCH=OFF >/dev/null
ninja -C "$BUILD_DIR" -j"${FUZZ_JOBS:-1}" scenario_fuzz

mkdir -p "$CORPUS_OUT"
cd "$BUILD_DIR"
# -timeout: any single input taking >10 s is a hang worth reporting.
UBSAN_OPTIONS=print_stacktrace=1 ./scenario_fuzz \
  -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
  -dict="$ROOT/tests/fuzz/scenario_fuzz.dict" -print_final_stats=1 "$CORPUS_OUT" "$SEEDS"
