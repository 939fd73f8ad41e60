#!/usr/bin/env bash
# The control plane under emulated agents (issues 4 and 20): the server
# pinned to CPU 0, the emulator (bench/agent_load.cc) to CPU 1; prints the
# emulator's figures and the server's CPU use over the heartbeat phase from
# /proc. With JOBS > 0, an array of JOBS one-node jobs is submitted as the
# heartbeats start, and flows through the emulated nodes (each runs a task
# for one period). Target: the server under one core.
# Usage: bench/agent_load.sh [AGENTS] [SECONDS] [PERIOD_MS] [JOBS] [THREADS]
#   THREADS (16): the emulator's threads, each a sequence of blocking
#   heartbeat calls; an end's reply waits for the pass it wakes, so many
#   nodes need many threads to keep their pace (real agents are each their
#   own process).
#   bench/agent_load.sh 10000 15              # issue 4: 10,000 agents at 1 Hz
#   bench/agent_load.sh 100000 30 5000 20000  # issue 20: 100,000 at 0.2 Hz, jobs flowing
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
agents="${1:-10000}"; seconds="${2:-20}"; period_ms="${3:-1000}"; jobs="${4:-0}"; threads="${5:-16}"
source bench/load_server.sh
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
rest="$STARGATE_SERVER"
up() { curl -s "$rest/metrics" | grep -c '^stargate_node_up{.*} 1$' || true; }
s_reg=$(date +%s.%N)
taskset -c 1 ./build/agent_load --server "127.0.0.1:$agent_port" --agents "$agents" --seconds "$seconds" --threads "$threads" \
  --period-ms "$period_ms" &
load=$!
# Registration: until every node registered (or the emulator gave up).
until [ "$(metric stargate_agent_registrations_total)" = "$agents" ] || ! kill -0 $load 2> /dev/null; do sleep 0.5; done
echo "registered $agents nodes in $(awk -v a="$s_reg" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
if [ "$jobs" -gt 0 ]; then
  printf 'name: flow\nrun: "true"\n' > "$tmp/flow.yaml"
  STARGATE_SERVER="$rest" ./build/stargate job submit --array "$jobs" "$tmp/flow.yaml"
fi
t0=$(ticks); s0=$(date +%s.%N)
wait $load
t1=$(ticks); s1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" \
  'BEGIN { printf "server CPU: %.2f cores over %.1f s of heartbeats\n", (b - a) / hz / (s1 - s0), s1 - s0 }'
echo "nodes up: $(up)"
if [ "$jobs" -gt 0 ]; then
  curl -s "$rest/metrics" | grep -E '^stargate_jobs\{' | tr '\n' ' '
  echo
  curl -s "$rest/metrics" | grep -E '^stargate_scheduler_pass_seconds_(sum|count)' | tr '\n' ' '
  echo
fi
