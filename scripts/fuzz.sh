#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a
# bounded time on its fixture corpus: the scenario parser for half the
# time, the job file (and agent file) parser and the REST API (with bearer
# tokens) for a quarter each, and the HTTP request parser for a sixteenth.
#
#   scripts/fuzz.sh            # 60 s in all
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
CORPUS_OUT="${CORPUS_OUT:-$BUILD_DIR/corpus}"

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTARGATE_BUILD_FUZZ=ON -DSTARGATE_BUILD_TESTS=OFF -DSTARGATE_BUILD_BENCH=OFF >/dev/null
ninja -C "$BUILD_DIR" -j"${FUZZ_JOBS:-1}" scenario_fuzz job_file_fuzz rest_api_fuzz http_parse_fuzz

cd "$BUILD_DIR"
run() {  # target seconds seeds
  mkdir -p "$CORPUS_OUT/$1"
  # -timeout: any single input taking >10 s is a hang worth reporting.
  UBSAN_OPTIONS=print_stacktrace=1 "./$1" \
    -max_total_time="$2" -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
    -dict="$ROOT/tests/fuzz/scenario_fuzz.dict" -print_final_stats=1 "$CORPUS_OUT/$1" "$3"
}
QUARTER=$(( SECONDS_TO_RUN / 4 > 0 ? SECONDS_TO_RUN / 4 : 1 ))
run scenario_fuzz $(( SECONDS_TO_RUN - 2 * QUARTER > 0 ? SECONDS_TO_RUN - 2 * QUARTER : 1 )) "$ROOT/tests/fixtures/scenarios"
run job_file_fuzz "$QUARTER" "$ROOT/tests/fixtures/jobs"
run rest_api_fuzz "$QUARTER" "$ROOT/tests/fixtures/rest"
# The HTTP framing under the REST API: a few seconds reach its corners.
run http_parse_fuzz $(( QUARTER / 4 > 0 ? QUARTER / 4 : 1 )) "$ROOT/tests/fixtures/http"
