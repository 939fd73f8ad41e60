#!/usr/bin/env bash
# The server on etcd (issue 6): state in a real etcd 3.4 (single member on
# loopback) instead of SQLite. Jobs submitted before a kill -9 of the
# server are there after it restarts on the same etcd, each exactly once,
# and run once. Skipped (exit 77) without /usr/bin/etcd.
# Usage: etcd_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
[ -x /usr/bin/etcd ] || { echo "SKIP: /usr/bin/etcd is missing (Debian: apt-get install etcd-server)"; exit 77; }
source "$(dirname "$0")/lib/cluster.bash"
read -r CLIENT PEER < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
/usr/bin/etcd --name t --data-dir etcd-data --listen-client-urls "http://127.0.0.1:$CLIENT" \
  --advertise-client-urls "http://127.0.0.1:$CLIENT" --listen-peer-urls "http://127.0.0.1:$PEER" \
  --initial-advertise-peer-urls "http://127.0.0.1:$PEER" --initial-cluster "t=http://127.0.0.1:$PEER" > etcd.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$CLIENT/health" | grep -q true && break; sleep 0.1; done
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
curl -s "http://127.0.0.1:$CLIENT/v3/kv/range" -d '{"key":"c3RhcmdhdGUv","range_end":"c3RhcmdhdGUw","count_only":true}' |
  grep -q '"count"' || fail "no stargate/ keys in etcd"
echo "etcd CLI: ok"
