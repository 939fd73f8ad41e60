#!/usr/bin/env bash
# The server on etcd (issue 6): state in a real etcd 3.4 (single member on
# loopback) instead of SQLite. Jobs submitted before a kill -9 of the
# server are there after it restarts on the same etcd, each exactly once,
# and run once; an array of 600 jobs (over etcd's 128 operations a
# transaction) is stored and cancelled whole. Skipped (exit 77) without
# /usr/bin/etcd.
# Usage: etcd_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
source "$(dirname "$0")/lib/etcd.bash"
need_etcd
single_etcd
CLIENT=$ETCD_CLIENT
start_server --etcd "127.0.0.1:$CLIENT"
start_agent a
wait_up 1
for i in 1 2 3; do
  printf 'name: e%s\nrun: echo "ran job %s" >> "%s/ran"\n' "$i" "$i" "$TMP" > "e$i.yaml"
  "$BIN" job submit "e$i.yaml" > /dev/null
done
for i in 1 2 3; do wait_state "$i" succeeded 20; done
SERVER_PID=${PIDS[1]}
kill -9 "$SERVER_PID"
"$BIN" server --data-dir data --listen "127.0.0.1:$REST_PORT" --agent-listen "127.0.0.1:$AGENT_PORT" \
  --heartbeat-timeout-ms 1500 --etcd "127.0.0.1:$CLIENT" >> server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do "$BIN" job list > /dev/null 2>&1 && break; sleep 0.1; done
[ "$("$BIN" job list | grep -c ' succeeded ')" = 3 ] || fail "after the restart: $("$BIN" job list)"
printf 'name: e4\nrun: echo "ran job 4" >> "%s/ran"\n' "$TMP" > e4.yaml
"$BIN" job submit e4.yaml > /dev/null
wait_state 4 succeeded 30
[ "$(sort ran | uniq | wc -l)" = 4 ] && [ "$(wc -l < ran)" = 4 ] || fail "runs: $(cat ran)"
# An array far over one etcd transaction (128 operations) is stored in
# stages and read back whole, and cancels whole.
printf 'name: wide\nresources: {accelerators: CPU:1}\nrun: sleep 600\n' > wide.yaml
ARRAY=$("$BIN" job submit --array 0-599 -q wide.yaml) || fail "a 600-job array on etcd was refused"
n=$("$BIN" job list -o json | /usr/bin/python3 -c '
import json, sys
print(sum(1 for j in json.load(sys.stdin)["jobs"] if j["name"] == "wide"))')
[ "$n" = 600 ] || fail "the array has $n jobs, not 600"
"$BIN" job cancel "$ARRAY" > /dev/null || fail "cancelling the array"
n=$("$BIN" job list -o json | /usr/bin/python3 -c '
import json, sys
print(sum(1 for j in json.load(sys.stdin)["jobs"] if j["name"] == "wide" and j["state"] != "cancelled"))')
[ "$n" = 0 ] || fail "$n of the array's jobs not cancelled"
curl -s "http://127.0.0.1:$CLIENT/v3/kv/range" -d '{"key":"c3RhcmdhdGUv","range_end":"c3RhcmdhdGUw","count_only":true}' |
  grep -q '"count"' || fail "no stargate/ keys in etcd"
echo "etcd CLI: ok"
