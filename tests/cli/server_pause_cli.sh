#!/usr/bin/env bash
# End to end on loopback: the server is frozen (SIGSTOP, as a suspended VM
# or a long disk stall would) for over three heartbeat timeouts (longer than an agent's poll waits) while a job
# runs, then resumes. It could not hear heartbeats meanwhile, so it must
# not take its own deafness for the node's silence: the job is not
# restarted, the server says it stalled, the stall is counted in
# /metrics. Then a node that really dies is still found out. (No site
# partition grace: it would also hold back a restart when every node of a
# site falls silent at once, which is how a server stall looks unless a
# heartbeat slips in before the control loop's first pass.)
# Usage: server_pause_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
start_server --site-partition-grace-s 0
start_agent a
start_agent b
wait_up 2

printf 'name: steady\nrun: echo "start attempt $STARGATE_ATTEMPT" >> "$STARGATE_WORK_DIR/starts"; sleep 6\n' > steady.yaml
"$BIN" job submit steady.yaml > /dev/null
wait_state 1 running 10
for _ in $(seq 50); do ls w?/tenants/default/jobs/1/starts > /dev/null 2>&1 && break; sleep 0.1; done
SERVER_PID=${PIDS[0]}
kill -STOP "$SERVER_PID"
sleep 5
kill -CONT "$SERVER_PID"
wait_state 1 succeeded 20
[ "$(cat w?/tenants/default/jobs/1/starts | wc -l)" = 1 ] || fail "job 1 started $(cat w?/tenants/default/jobs/1/starts | wc -l) times after the pause"
"$BIN" job show 1 | grep -q "restarts: *0" || fail "the pause restarted the job: $("$BIN" job show 1)"
grep -q "the control loop stalled for [0-9]* ms" server.log || fail "the server did not say it stalled"
# Read whole before grep -q, which stops reading early: under pipefail the
# writer's SIGPIPE would fail the check.
METRICS=$(curl -s "$STARGATE_SERVER/metrics")
grep -q "^stargate_server_stalls_total [1-9]" <<< "$METRICS" || fail "stall not counted in /metrics"

# A node that really dies is still found out (its job moves to the other).
printf 'name: victim\nrun: sleep 30\n' > victim.yaml
"$BIN" job submit victim.yaml > /dev/null
wait_state 2 running 10
NODE=$("$BIN" job show 2 | sed -n 's/^ *nodes: *\([ab]\).*/\1/p')
[ -n "$NODE" ] || fail "job 2 placement: $("$BIN" job show 2)"
kill -9 "${AGENT[$NODE]}"
for _ in $(seq 100); do "$BIN" job show 2 | grep -q "restarts: *1" && break; sleep 0.1; done
"$BIN" job show 2 | grep -q "restarts: *1" || fail "a dead node's job was not restarted: $("$BIN" job show 2)"
"$BIN" job cancel 2 > /dev/null
echo "server pause CLI: ok ($(grep -o 'stalled for [0-9]* ms' server.log | head -n 1))"
