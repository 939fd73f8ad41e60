#!/usr/bin/env bash
# Checkpoint copies between two sites over an emulated WAN (issue 22): two
# network namespaces joined by a veth pair shaped to RATE (tc tbf; DELAY
# each way where the kernel has sch_netem), a server and one agent per
# site, each with its own checkpoint store. For each SIZE (MB) a job at
# site-a (checkpoint.replicas: {sites: 2}) seals one checkpoint of that
# size; the agents copy it to site-b. Prints, per size, the copy's time
# from when the server first asked for it to when site-b held it complete
# (what a restart at site-b waits for as "staging": the same copy), and
# its throughput against the link's rate.
# Needs root. Usage: bench/checkpoint_wan.sh [RATE=100mbit] [DELAY=25ms] [SIZES="16 64 256"]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/build/stargate"
RATE="${1:-100mbit}"; DELAY="${2:-25ms}"; SIZES="${3:-16 64 256}"
source tests/cli/lib/wan.bash
wan_test sgcb
wan_link "$A" "$B" "$RATE" "$DELAY"
mkdir -p store-a store-b && chmod 0755 store-a store-b
ip netns exec "$A" "$BIN" server --data-dir data --listen 10.231.0.1:0 --agent-listen 10.231.0.1:0 --port-file port \
  > server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
read -r REST_PORT AGENT_PORT < port
ip netns exec "$A" "$BIN" agent --server "10.231.0.1:$AGENT_PORT" --name a1 --site site-a --address 10.231.0.1 \
  --checkpoint-root "$TMP/store-a" --work-dir wa > agent-a.log 2>&1 &
PIDS+=($!)
ip netns exec "$B" "$BIN" agent --server "10.231.0.1:$AGENT_PORT" --name b1 --site site-b --address 10.231.0.2 \
  --checkpoint-root "$TMP/store-b" --work-dir wb > agent-b.log 2>&1 &
PIDS+=($!)
export STARGATE_SERVER="http://10.231.0.1:$REST_PORT"
cli() { ip netns exec "$A" "$BIN" "$@"; }
for _ in $(seq 100); do [ "$(cli node list | grep -c ' up ')" = 2 ] && break; sleep 0.1; done
echo "WAN between the two sites: $WAN_LINK"
printf '%8s %10s %12s %10s\n' "size_MB" "copy_s" "MB/s" "of_link"
link_mbs=$(/usr/bin/python3 -c "import re,sys; m=re.match(r'([0-9.]+)([kmg]?)bit','$RATE'); print(float(m[1])*{'k':1e3,'m':1e6,'g':1e9,'':1}[m[2]]/8/1e6)")
for size in $SIZES; do
  cat > job.yaml <<YAML
name: ckpt-$size
resources: {accelerators: CPU:1}
checkpoint: {dir: c$size, interval: 1h, replicas: {sites: 2}}
run: |
  set -e
  t="\$STARGATE_CHECKPOINT_DIR/.tmp"
  mkdir -p "\$t"
  head -c $((size * 1000000)) /dev/urandom > "\$t/model.bin"
  "$BIN" checkpoint seal "\$t" --step 1 > /dev/null
  mv "\$t" "\$STARGATE_CHECKPOINT_DIR/step-000000000001"
  sleep 600
YAML
  id=$(cli job submit -q job.yaml)
  line=""
  for _ in $(seq 1200); do
    line=$(ip netns exec "$A" curl -s "$STARGATE_SERVER/v1/audit?job=$id&action=checkpoint-copied" |
      /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin)["entries"]; print(e[-1]["detail"] if e else "")')
    [ -n "$line" ] && break
    sleep 0.25
  done
  [ -n "$line" ] || fail "no copy of the $size MB checkpoint: $(cli job show "$id")"
  secs=$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' <<< "$line")
  /usr/bin/python3 -c "s=$size; t=$secs; r=s/t; print(f'{s:8d} {t:10.1f} {r:12.2f} {r/$link_mbs:9.0%}')"
  cli job cancel "$id" > /dev/null
done
