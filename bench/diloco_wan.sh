#!/usr/bin/env bash
# DiLoCo vs plain DDP over an emulated WAN (issue 5): two network
# namespaces ("sites") joined by a veth pair shaped to RATE (tc tbf) and,
# where the kernel has sch_netem, DELAY each way. One worker per site runs
# examples/workloads/train_diloco.py in each mode; prints both RESULT lines
# (bytes each worker sent, time in all-reduce, wall time, accuracy).
# Needs root. Usage: bench/diloco_wan.sh [RATE=20mbit] [DELAY=25ms]
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${1:-20mbit}"; DELAY="${2:-25ms}"
PY=/usr/bin/python3
A=sgdlA$$; B=sgdlB$$
cleanup() { ip netns del "$A" 2> /dev/null || true; ip netns del "$B" 2> /dev/null || true; rm -rf "$TMP"; }
TMP="$(mktemp -d)"
chmod 1777 "$TMP"  # agents as root run tasks as their tenant's user
trap cleanup EXIT
source tests/cli/lib/wan.bash
ip netns add "$A"
wan_link "$A" "$B" "$RATE" "$DELAY"
echo "WAN between the two sites: $WAN_LINK"
for mode in diloco ddp; do
  port=$((29700 + RANDOM % 200))
  for r in 0 1; do
    ns=$A; [ "$r" = 1 ] && ns=$B
    ip netns exec "$ns" env RANK=$r WORLD_SIZE=2 MASTER_ADDR=10.231.0.1 MASTER_PORT=$port GLOO_SOCKET_IFNAME="v$ns" \
      STARGATE_CHECKPOINT_DIR="$TMP/$mode" "$PY" examples/workloads/train_diloco.py --mode "$mode" "${@:3}" \
      > "$TMP/$mode-$r.log" 2>&1 &
  done
  wait
  grep "^RESULT " "$TMP/$mode-0.log" || { tail -5 "$TMP/$mode-0.log" "$TMP/$mode-1.log"; exit 1; }
done
