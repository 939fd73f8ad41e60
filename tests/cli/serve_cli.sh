#!/usr/bin/env bash
# `stargate serve` end to end on loopback (issue 7): a control plane with two
# sites (us: Ashburn, region us-east; eu: Dublin, region eu-west; three CPU
# agents), a service of 2-3 replicas near us-east and eu-west, and its
# router. Checks: each replica is placed at the site of its region; a caller
# from each region is routed to its own region's replica; kill -9 of the eu
# agent under load loses no request (retried on the us replica), and the
# control plane's restart of the eu replica on another node is followed;
# load above the target adds a replica and a lull drains it again; SIGTERM
# cancels the replica jobs; a bad serve file is exit 2 naming file:line.
# Usage: serve_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
ROOT="$(cd "$2" && pwd)"
source "$(dirname "$0")/lib/cluster.bash"

cat > sites.yaml <<'YAML'
sites:
  - {name: us, latitude: 39.04, longitude: -77.49}
  - {name: eu, latitude: 53.35, longitude: -6.26}
YAML
start_server --sites sites.yaml --site-partition-grace-s 2
agent() {  # agent NAME SITE REGION
  "$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name "$1" --site "$2" --region "$3" --accelerators CPU:2 \
    --work-dir "w$1" --stop-grace-ms 1000 >> "agent-$1.log" 2>&1 &
  AGENT[$1]=$!
  PIDS+=($!)
}
agent us1 us us-east
agent us2 us us-east
agent eu1 eu eu-west
wait_up 3

BASE=$(free_port_run 3)  # the replicas listen on BASE, BASE+1, BASE+2
cat > svc.yaml <<YAML
name: echo
resources: {accelerators: CPU:1}
run: exec /usr/bin/python3 $ROOT/tests/cli/lib/echo_replica.py
serve:
  replicas: {min: 2, max: 3}
  regions: [us-east, eu-west]
  port: $BASE
  health: {path: /health, interval: 300ms, timeout: 500ms, failures: 2}
  autoscale: {target_inflight: 2, up_after: 2s, down_after: 4s}
YAML

# A bad file: exit 2, naming the file and line.
printf 'name: echo\nrun: x\nserve:\n  replicas: {min: 3, max: 2}\n' > bad.yaml
set +e
"$BIN" serve bad.yaml > bad.out 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "bad.yaml:4:" bad.out || fail "bad serve file: rc=$rc $(cat bad.out)"

"$BIN" serve svc.yaml --listen 127.0.0.1:0 --port-file router-port --region us-east > serve.log 2>&1 &
SERVE=$!
PIDS+=($!)
for _ in $(seq 100); do [ -s router-port ] && break; sleep 0.05; done
[ -s router-port ] || fail "router did not start"
ROUTER="http://127.0.0.1:$(cat router-port)"

routable() { curl -s "$ROUTER/_stargate/replicas" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin)["replicas"] if r["routable"]))'; }
wait_routable() {  # wait_routable N SECONDS
  for _ in $(seq $(( $2 * 10 ))); do [ "$(routable)" = "$1" ] && return 0; sleep 0.1; done
  fail "$1 replicas should be routable: $(curl -s "$ROUTER/_stargate/replicas")"
}
wait_routable 2 30
site_of() { curl -s "$ROUTER/_stargate/replicas" | /usr/bin/python3 -c '
import json, sys
print([r["site"] for r in json.load(sys.stdin)["replicas"] if r["name"] == sys.argv[1]][0])' "$1"; }
[ "$(site_of echo-r0)" = us ] || fail "echo-r0 (near us-east) should run at site us: $(site_of echo-r0)"
[ "$(site_of echo-r1)" = eu ] || fail "echo-r1 (near eu-west) should run at site eu: $(site_of echo-r1)"

# Each region's callers reach their own region's replica.
out=$(/usr/bin/python3 "$ROOT/tests/cli/lib/serve_load.py" "$ROUTER/predict" 20 1 us-east)
[ "$out" = "ok=20 failed=0 by=echo-r0:20" ] || fail "us-east callers: $out"
out=$(/usr/bin/python3 "$ROOT/tests/cli/lib/serve_load.py" "$ROUTER/predict" 20 1 eu-west)
[ "$out" = "ok=20 failed=0 by=echo-r1:20" ] || fail "eu-west callers: $out"
# Without the header: the router's own region.
out=$(/usr/bin/python3 "$ROOT/tests/cli/lib/serve_load.py" "$ROUTER/predict" 5 1)
[ "$out" = "ok=5 failed=0 by=echo-r0:5" ] || fail "callers without a region should reach the router's (us-east): $out"

# kill -9 of the eu agent (and with it its replica) under load: nothing lost.
/usr/bin/python3 "$ROOT/tests/cli/lib/serve_load.py" "$ROUTER/predict?ms=10" 400 4 eu-west > failover.out &
LOAD=$!
sleep 0.4
kill -9 "${AGENT[eu1]}"
wait "$LOAD"
grep -q "^ok=400 failed=0 " failover.out || fail "requests lost in the replica kill: $(cat failover.out)"
grep -q "echo-r1:" failover.out && grep -q "echo-r0:" failover.out ||
  fail "the eu replica should have served before the kill and the us one after: $(cat failover.out)"
echo "failover: $(cat failover.out)"
# The control plane restarts echo-r1 on a us node; the router follows it.
for _ in $(seq 300); do [ "$(site_of echo-r1)" = us ] && [ "$(routable)" = 2 ] && break; sleep 0.1; done
[ "$(site_of echo-r1)" = us ] && [ "$(routable)" = 2 ] ||
  fail "echo-r1 should be back on a us node: $(curl -s "$ROUTER/_stargate/replicas")"

# Load above the target (2 in flight per replica): a third replica; then a lull drains one.
/usr/bin/python3 "$ROOT/tests/cli/lib/serve_load.py" "$ROUTER/predict?ms=300" 200 8 > scale.out &
LOAD=$!
for _ in $(seq 200); do grep -q "scaling 2 -> 3" serve.log && break; sleep 0.1; done
grep -q "scaling 2 -> 3" serve.log || fail "no scale-up under load"
wait "$LOAD"
grep -q "^ok=200 failed=0 " scale.out || fail "requests lost while scaling: $(cat scale.out)"
for _ in $(seq 300); do grep -q "drained and cancelled" serve.log && break; sleep 0.1; done
grep -q "scaling 3 -> 2" serve.log && grep -q "drained and cancelled" serve.log || fail "no scale-down after the load"

# The router's metrics count what it answered; nothing was given up.
curl -s "$ROUTER/_stargate/metrics" > router-metrics.txt
grep -q '^stargate_serve_unanswered_total 0$' router-metrics.txt || fail "router metrics: $(cat router-metrics.txt)"

# SIGTERM: the replica jobs are cancelled, the router exits 0.
kill -TERM "$SERVE"
wait "$SERVE" || fail "serve exited non-zero"
grep -q "cancelled 2 replica jobs" serve.log || fail "serve did not cancel its replicas"
[ "$("$BIN" job list --state running | grep -c ' echo-r')" = 0 ] || fail "replica jobs left running: $("$BIN" job list)"
cat serve.log
echo "PASS"
