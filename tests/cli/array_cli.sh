#!/usr/bin/env bash
# Job arrays through the binary: `stargate job submit --array` (and an
# `array:` in the file), each job told its index; `job wait`, `show`,
# `logs` and `cancel` on an array's id (the whole array) and on ID_INDEX
# (one job), as squeue and scancel name them; a bulk submit over REST.
# Usage: array_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$2/tests/cli/lib/cluster.bash"

start_server
start_agent a --accelerators CPU:4
wait_up 1

cat > idx.yaml <<'YAML'
name: idx
run: echo "index $STARGATE_ARRAY_INDEX slurm $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT in $STARGATE_ARRAY_ID"
YAML
out=$("$BIN" job submit --array 3-7:2 idx.yaml)
echo "$out" | grep -q "array 1 submitted: 3 jobs (indices 3-7:2, ids 1-3)" || fail "submit: $out"
out=$("$BIN" job wait 1 --timeout 60) || fail "wait: $out"
[ "$out" = "array 1: succeeded 3" ] || fail "wait said: $out"
[ "$("$BIN" job logs 1_5)" = "index 5 slurm 5 of 3 in 1" ] || fail "logs 1_5: $("$BIN" job logs 1_5 2>&1)"
"$BIN" job show 1_7 | grep -q "^array:     1_7 (index 7 of 3)" || fail "show 1_7: $("$BIN" job show 1_7)"
"$BIN" job show 1 | grep -q "^states:    succeeded 3" || fail "show of the array: $("$BIN" job show 1)"
[ "$("$BIN" job list --array 1 | tail -n +2 | wc -l)" = 3 ] || fail "list --array: $("$BIN" job list --array 1)"
"$BIN" job list --array 1 | grep -Eq "^ +2  1_5 " || fail "list shows ARRAY_INDEX: $("$BIN" job list --array 1)"
if "$BIN" job show 1_4 2> err.txt; then fail "an index not in the array was shown"; fi
grep -q "array 1 has no index 4" err.txt || fail "no index 4: $(cat err.txt)"
if "$BIN" job show 1_x 2> err.txt; then fail "a bad reference was accepted"; fi
if "$BIN" job submit --array 5-1 idx.yaml 2> err.txt; then fail "a bad --array was accepted"; fi
grep -q "a range goes up" err.txt || fail "bad --array: $(cat err.txt)"

# From the file, long enough to cancel: one job alone, then the rest.
cat > sleepy.yaml <<'YAML'
name: sleepy
array: 6
run: sleep 300
YAML
"$BIN" job submit sleepy.yaml | grep -q "array 4 submitted: 6 jobs (indices 6, ids 4-9)" || fail "file array"
wait_state 4 running 20
"$BIN" job cancel 4_2 | grep -q "job 4_2 cancelled" || fail "cancel one"
[ "$(curl -s "$STARGATE_SERVER/v1/jobs/6" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["state"])')" = cancelled ] ||
  fail "4_2 is job 6"
out=$("$BIN" job cancel 4)
[ "$out" = "array 4: cancelled 6" ] || fail "cancel the array: $out"
if "$BIN" job wait 4 --timeout 30 > out.txt; then fail "a cancelled array waited as succeeded"; fi
grep -q "array 4: cancelled 6" out.txt || fail "wait on a cancelled array: $(cat out.txt)"

# Bulk: two files in one request, one of them an array.
/usr/bin/python3 - "$STARGATE_SERVER" <<'PY' || fail "bulk submit"
import json, sys, urllib.request
body = json.dumps({"jobs": [{"file": "name: one\nrun: 'true'\n"},
                            {"file": "name: two\nrun: 'true'\n", "array": "2"}]}).encode()
req = urllib.request.Request(sys.argv[1] + "/v1/jobs/bulk", data=body, method="POST")
r = json.load(urllib.request.urlopen(req))["results"]
assert [x["job"]["id"] for x in r] == [10, 11], r
assert r[1]["array"]["size"] == 2, r
PY
"$BIN" job wait 10 11 --timeout 60 > /dev/null || fail "bulk jobs: $("$BIN" job list)"
echo "PASS"
