#!/usr/bin/env bash
# A DiLoCo job across two emulated sites (issue 5): two network namespaces
# joined by a veth pair shaped like a WAN link (tc tbf 20 Mbit/s, plus a
# 25 ms netem delay each way where the kernel has sch_netem), a server and
# one agent per site. The job (placement.spread: sites) gets one node in
# each site, trains over the slow link and finishes with a good model.
# Skipped (exit 77) without root, network namespaces, or python3-torch.
# Usage: wan_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
REPO="$(cd "$2" && pwd)"
PY=/usr/bin/python3
skip() { echo "SKIP: $*"; exit 77; }
"$PY" -c "import torch, sklearn" 2> /dev/null || skip "$PY cannot import torch and sklearn"
source "$(dirname "$0")/lib/wan.bash"
wan_test sgw
wan_link "$A" "$B" 20mbit 25ms
ip netns exec "$A" "$BIN" server --data-dir data --listen 10.231.0.1:0 --agent-listen 10.231.0.1:0 --port-file port \
  --heartbeat-timeout-ms 3000 > server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || fail "server did not start"
read -r REST_PORT AGENT_PORT < port
# Each site's agent; tasks inherit GLOO_SOCKET_IFNAME, so Gloo uses the WAN link.
ip netns exec "$A" env GLOO_SOCKET_IFNAME="v$A" "$BIN" agent --server "10.231.0.1:$AGENT_PORT" --name a1 \
  --site site-a --address 10.231.0.1 --work-dir wa > agent-a.log 2>&1 &
PIDS+=($!)
ip netns exec "$B" env GLOO_SOCKET_IFNAME="v$B" "$BIN" agent --server "10.231.0.1:$AGENT_PORT" --name b1 \
  --site site-b --address 10.231.0.2 --work-dir wb > agent-b.log 2>&1 &
PIDS+=($!)
cli() { ip netns exec "$A" env STARGATE_SERVER="http://10.231.0.1:$REST_PORT" "$BIN" "$@"; }
for _ in $(seq 100); do [ "$(cli node list | grep -c ' up ')" = 2 ] && break; sleep 0.1; done
[ "$(cli node list | grep -c ' up ')" = 2 ] || fail "two nodes should be up"
cat > diloco.yaml <<YAML
name: diloco-wan
resources: {accelerators: CPU:1, nodes: 2}
placement: {spread: sites}
run: $PY $REPO/examples/workloads/train_diloco.py --outer-steps 15 --inner-steps 20
YAML
cli job submit diloco.yaml > /dev/null
for _ in $(seq 900); do cli job list | grep -Eq "^ *1 .* (succeeded|failed) " && break; sleep 0.1; done
cli job show 1 > show.txt
grep -q "state: *succeeded" show.txt || fail "job: $(cat show.txt)"
grep -q "^nodes: *a1 b1$" show.txt || grep -q "^nodes: *b1 a1$" show.txt || fail "not one node per site: $(cat show.txt)"
cli job logs 1 | sed -n 's/^RESULT //p' > result.json
"$PY" -c "import json,sys; d=json.load(open('result.json')); sys.exit(0 if d['test_accuracy'] > 0.8 else 1)" ||
  fail "result: $(cat result.json)"
echo "WAN ($WAN_LINK): DiLoCo across site-a and site-b: $(cat result.json)"
