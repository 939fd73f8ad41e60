#!/usr/bin/env bash
# Two servers on one etcd (issue 6): one leads, the other stands by without
# serving. kill -9 of the leader: the standby takes over within the lease
# TTL (3 s here) plus a second, the agent (given both servers) moves to it,
# the job that was running keeps running and finishes once, and new jobs
# run. Skipped (exit 77) without /usr/bin/etcd.
# Usage: ha_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
source "$(dirname "$0")/lib/etcd.bash"
need_etcd
single_etcd
CLIENT=$ETCD_CLIENT
read -r RA AA RB AB < <(free_ports 4)
server() {  # name REST_PORT AGENT_PORT
  "$BIN" server --data-dir "data-$1" --listen "127.0.0.1:$2" --agent-listen "127.0.0.1:$3" --etcd "127.0.0.1:$CLIENT" \
    --lease-ttl-s 3 --heartbeat-timeout-ms 3000 > "server-$1.log" 2>&1 &
  PIDS+=($!)
}
server A "$RA" "$AA"
LEADER=${PIDS[-1]}
export STARGATE_SERVER="http://127.0.0.1:$RA"
for _ in $(seq 100); do "$BIN" job list > /dev/null 2>&1 && break; sleep 0.1; done
server B "$RB" "$AB"
for _ in $(seq 50); do grep -q "standby; leader: 127.0.0.1:$RA" server-B.log && break; sleep 0.1; done
grep -q "standby; leader: 127.0.0.1:$RA" server-B.log || fail "B is not standing by: $(cat server-B.log)"
if curl -s "http://127.0.0.1:$RB/v1/health" > /dev/null; then fail "the standby serves"; fi
"$BIN" agent --server "127.0.0.1:$AA,127.0.0.1:$AB" --name a --site lab --work-dir wa > agent-a.log 2>&1 &
PIDS+=($!)
wait_up 1
printf 'name: long\nrun: echo start >> "%s/starts"; sleep 8\n' "$TMP" > long.yaml
"$BIN" job submit long.yaml > /dev/null
wait_state 1 running 10
kill -9 "$LEADER"
T0=$(date +%s.%N)
export STARGATE_SERVER="http://127.0.0.1:$RB"
for _ in $(seq 150); do "$BIN" job list > /dev/null 2>&1 && break; sleep 0.1; done
TAKEOVER=$(/usr/bin/python3 -c "print(f'{$(date +%s.%N) - $T0:.1f}')")
"$BIN" job list | grep -Eq "^ *1 .* running " || fail "after the takeover: $("$BIN" job list 2>&1)"
/usr/bin/python3 -c "import sys; sys.exit(0 if $TAKEOVER < 10 else 1)" || fail "takeover took $TAKEOVER s"
wait_state 1 succeeded 30
[ "$(wc -l < starts)" = 1 ] || fail "job 1 started $(wc -l < starts) times"
"$BIN" job show 1 | grep -q "restarts: *0" || fail "job 1 was restarted: $("$BIN" job show 1)"
printf 'name: after\nrun: echo after >> "%s/starts"\n' "$TMP" > after.yaml
"$BIN" job submit after.yaml > /dev/null
wait_state 2 succeeded 20
echo "HA CLI: ok (standby serving $TAKEOVER s after the leader's kill -9; the running job finished once)"
