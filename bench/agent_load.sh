#!/usr/bin/env bash
# The control plane under 10,000 emulated agents heartbeating at 1 Hz
# (issue 4): the server pinned to CPU 0, the emulator (bench/agent_load.cc)
# to CPU 1; prints the emulator's figures and the server's CPU use over the
# heartbeat phase from /proc. Target: the server under one core.
# Usage: bench/agent_load.sh [AGENTS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
agents="${1:-10000}"; seconds="${2:-20}"
tmp="$(mktemp -d)"
chmod 1777 "$tmp"  # agents as root run tasks as their tenant's user
taskset -c 0 ./build/stargate server --data-dir "$tmp/data" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
  --port-file "$tmp/port" --heartbeat-timeout-ms 5000 > "$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
read -r _ agent_port < "$tmp/port"
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
taskset -c 1 ./build/agent_load --server "127.0.0.1:$agent_port" --agents "$agents" --seconds "$seconds" --threads 4 &
load=$!
sleep 3   # registration
t0=$(ticks); s0=$(date +%s.%N)
wait $load
t1=$(ticks); s1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" \
  'BEGIN { printf "server CPU: %.2f cores over %.1f s of heartbeats\n", (b - a) / hz / (s1 - s0), s1 - s0 }'
"./build/stargate" node list --server "http://127.0.0.1:$(cut -d' ' -f1 "$tmp/port")" | grep -c " up " | sed 's/^/nodes up: /'
