# Sourced by the emulated-agent benches (bench/preempt_scale.sh,
# bench/sites_server.sh): starts `stargate server` pinned to CPU 0 on
# loopback with a data directory in a fresh $tmp, a heartbeat timeout of
# three periods (at least 5 s) for $period_ms, and sets $server, $tmp,
# $rest_port, $agent_port and STARGATE_SERVER. The caller starts its
# emulator as $load (its output in $tmp/load.log); the exit trap ends both
# (by PID) and removes $tmp. Also: now, since T (seconds since T), metric
# NAME (a server metric's value) and wait_registered (until $agents nodes
# registered; fails if the emulator ends first).
tmp="$(mktemp -d)"
chmod 1777 "$tmp"  # agents as root run tasks as their tenant's user
taskset -c 0 ./build/stargate server --data-dir "$tmp/data" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 \
  --port-file "$tmp/port" --heartbeat-timeout-ms $((period_ms * 3 > 5000 ? period_ms * 3 : 5000)) \
  > "$tmp/server.log" 2>&1 &
server=$!
load=""
trap 'kill $server $load 2>/dev/null || true; wait $server $load 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
read -r rest_port agent_port < "$tmp/port"
export STARGATE_SERVER="http://127.0.0.1:$rest_port"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
metric() { curl -s "$STARGATE_SERVER/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wait_registered() {
  until [ "$(metric stargate_agent_registrations_total)" = "$agents" ]; do
    kill -0 $load 2> /dev/null || { echo "FAIL: the emulator ended"; cat "$tmp/load.log"; exit 1; }
    sleep 0.5
  done
}
