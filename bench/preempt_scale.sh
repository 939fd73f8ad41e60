#!/usr/bin/env bash
# Preemption at scale (issue 20): AGENTS emulated one-CPU nodes
# (bench/agent_load.cc, a beat every PERIOD_MS, in sites of AGENTS/10)
# are filled by an array of AGENTS/GANG low-priority gangs of GANG nodes
# whose tasks run until stopped. Then an array of as many urgent gangs
# (priority 10, the same shape) is submitted: the scheduler must preempt
# every low gang (a warning: SIGTERM, and the emulated rank checkpoints and
# exits 143 at its node's next beat), requeue them, and place the urgent
# ones on the freed nodes. Prints the time from the urgent submit to every
# urgent gang placed (and to every victim requeued), with the server's CPU.
# The server is pinned to CPU 0, the emulator to CPU 1.
# Usage: bench/preempt_scale.sh [AGENTS] [GANG] [PERIOD_MS]
#   bench/preempt_scale.sh 10000 100 1000   # 10,000 gang members preempted
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
agents="${1:-10000}"; gang="${2:-100}"; period_ms="${3:-1000}"
gangs=$((agents / gang))
source bench/load_server.sh
taskset -c 1 ./build/agent_load --server "127.0.0.1:$agent_port" --agents "$agents" --seconds 600 --threads 16 \
  --period-ms "$period_ms" --task-periods 0 --sites 10 > "$tmp/load.log" 2>&1 &
load=$!
# count ARRAY STATE: how many of the array's jobs are in STATE.
count() { curl -s "$STARGATE_SERVER/v1/arrays/$1" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['array']['states'].get('$2', 0))"; }
# wait_for ARRAY STATE N SECONDS
wait_for() {
  for _ in $(seq $(($4 * 10))); do [ "$(count "$1" "$2")" = "$3" ] && return 0; sleep 0.1; done
  echo "FAIL: array $1 has $(count "$1" "$2") of $3 jobs $2 after $4 s" >&2
  tail -n 5 "$tmp/server.log" "$tmp/load.log" >&2
  exit 1
}
t=$(now)
wait_registered
echo "registered $agents nodes in $(since "$t") s"
printf 'name: low\nresources: {accelerators: CPU:1, nodes: %d}\nrun: train\n' "$gang" > "$tmp/low.yaml"
printf 'name: urgent\npriority: 10\nresources: {accelerators: CPU:1, nodes: %d}\nrun: serve\n' "$gang" > "$tmp/urgent.yaml"
low=$(./build/stargate job submit --array "$gangs" "$tmp/low.yaml" | awk '{print $2}')
t=$(now)
wait_for "$low" running "$gangs" 120
echo "$gangs low-priority gangs of $gang nodes running in $(since "$t") s"
sleep $(((period_ms * 3 + 999) / 1000))  # every rank started on its node
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
c0=$(ticks)
t=$(now)
urgent=$(./build/stargate job submit --array "$gangs" "$tmp/urgent.yaml" | awk '{print $2}')
wait_for "$urgent" running "$gangs" 120
placed=$(since "$t")
wait_for "$low" pending "$gangs" 120
requeued=$(since "$t")
c1=$(ticks)
echo "urgent: $gangs gangs ($((gangs * gang)) nodes) placed ${placed} s after the submit," \
  "having preempted $((gangs * gang)) gang members (all $gangs low gangs requeued by ${requeued} s)"
awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v s="$requeued" \
  'BEGIN { printf "server CPU: %.2f cores over those %.1f s\n", (b - a) / hz / s, s }'
preempts=$(curl -s "$STARGATE_SERVER/v1/audit?limit=100000" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["entries"] if e["action"] == "preempt"))')
echo "audit: $preempts preempt entries"
