#!/usr/bin/env bash
# The serving router under wrk on loopback (issue 7).
#
# A server and two CPU agents run `stargate serve` with two replicas of a
# stand-in model server (tests/cli/lib/echo_replica.py, Python stdlib,
# answers at once). Then:
#  1. added latency: wrk at C connections for D seconds straight at one
#     replica, then through the router (which spreads over both); the
#     router's added latency is the difference of the percentiles. Also at
#     one connection, where nothing queues.
#  2. replica kill: wrk through the router for D seconds; after D/3 s one
#     replica process is killed with -9; after 2D/3 s the agent of the
#     other replica is killed with -9 (its replica dies with it). Lost =
#     non-2xx answers + socket errors wrk counts. The router retries a
#     request whose replica did not answer on the other one.
# Usage: bench/serve_router.sh [D=10] [C=16]   (needs wrk: scripts/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
D="${1:-10}"; C="${2:-16}"
BIN="$PWD/build/stargate"
REPO="$PWD"
command -v wrk > /dev/null || { echo "wrk is missing: run scripts/install-deps.sh" >&2; exit 1; }
TMP="$(mktemp -d)"
chmod 1777 "$TMP"  # agents as root run tasks as their tenant's user
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP"
"$BIN" server --data-dir data --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 --port-file port \
  --heartbeat-timeout-ms 1500 --site-partition-grace-s 0 > server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
read -r REST_PORT AGENT_PORT < port
export STARGATE_SERVER="http://127.0.0.1:$REST_PORT"
declare -A AGENT
for n in a b c; do
  "$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name "$n" --site lab --accelerators CPU:1 --work-dir "w$n" \
    > "agent-$n.log" 2>&1 &
  AGENT[$n]=$!; PIDS+=($!)
done
BASE=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > svc.yaml <<YAML
name: echo
resources: {accelerators: CPU:1}
run: exec /usr/bin/python3 $REPO/tests/cli/lib/echo_replica.py
serve:
  replicas: 2
  port: $BASE
  health: {path: /health, interval: 500ms, timeout: 500ms, failures: 2}
YAML
"$BIN" serve svc.yaml --listen 127.0.0.1:0 --port-file router-port > serve.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s router-port ] && break; sleep 0.05; done
ROUTER="http://127.0.0.1:$(cat router-port)"
replicas() { curl -s "$ROUTER/_stargate/replicas"; }
routable() { replicas | /usr/bin/python3 -c 'import json,sys; print(sum(r["routable"] for r in json.load(sys.stdin)["replicas"]))'; }
for _ in $(seq 300); do [ "$(routable)" = 2 ] && break; sleep 0.1; done
[ "$(routable)" = 2 ] || { echo "replicas did not come up" >&2; cat serve.log >&2; exit 1; }
R0=$(replicas | /usr/bin/python3 -c 'import json,sys; print([r["address"] for r in json.load(sys.stdin)["replicas"] if r["name"]=="echo-r0"][0])')

pct() {  # pct FILE LABEL: "p50 p99" in ms from wrk --latency output
  /usr/bin/python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % label, text, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
print("%.3f %.3f %s" % (ms("50"), ms("99"), rps))
PY
}
run_wrk() {  # run_wrk OUT CONNECTIONS URL
  wrk -t"$(( $2 < 2 ? 1 : 2 ))" -c"$2" -d"${D}s" --latency "$3" > "$1" 2>&1
}
echo "== added latency (wrk -t2 -c$C -d${D}s --latency; one connection: -t1 -c1, 3 runs each, alternating, medians)"
for i in 1 2 3; do
  run_wrk "direct1-$i.txt" 1 "http://$R0/predict"
  run_wrk "router1-$i.txt" 1 "$ROUTER/predict"
done
run_wrk direct.txt "$C" "http://$R0/predict"
run_wrk router.txt "$C" "$ROUTER/predict"
median() {  # median FILE...: medians of "p50 p99 req/s" over the files
  for f in "$@"; do pct "$f"; done | /usr/bin/python3 -c '
import statistics, sys
rows = [[float(x) for x in line.split()] for line in sys.stdin]
print(" ".join("%.3f" % statistics.median(col) for col in zip(*rows)))'
}
read -r d1p50 d1p99 d1rps < <(median direct1-*.txt)
read -r r1p50 r1p99 r1rps < <(median router1-*.txt)
read -r dp50 dp99 drps < <(pct direct.txt)
read -r rp50 rp99 rrps < <(pct router.txt)
echo "runs (p50 p99 req/s): direct $(for f in direct1-*.txt; do echo -n "[$(pct "$f")] "; done)"
echo "                      router $(for f in router1-*.txt; do echo -n "[$(pct "$f")] "; done)"
printf '%-30s %9s %9s %9s\n' "" "p50 ms" "p99 ms" "req/s"
printf '%-30s %9s %9s %9s\n' "1 conn, one replica direct" "$d1p50" "$d1p99" "$d1rps" "1 conn, through the router" "$r1p50" "$r1p99" "$r1rps"
printf '%-30s %9s %9s %9s\n' "$C conns, one replica direct" "$dp50" "$dp99" "$drps" "$C conns, router (2 replicas)" "$rp50" "$rp99" "$rrps"
/usr/bin/python3 -c "import sys; a=[float(x) for x in sys.argv[1:]]; print('added by the router at one connection: p50 %.3f ms, p99 %.3f ms' % (a[1]-a[0], a[3]-a[2]))" \
  "$d1p50" "$r1p50" "$d1p99" "$r1p99"

echo "== replica kill under load (wrk -t2 -c$C -d${D}s)"
before=$(curl -s "$ROUTER/_stargate/metrics")
wrk -t2 -c"$C" -d"${D}s" --latency "$ROUTER/predict" > kill.txt 2>&1 &
WRK=$!
sleep "$(( D / 3 ))"
PID0=$(grep -o 'started job 1 attempt 1 (rank 0) pid [0-9]*' agent-*.log | grep -o '[0-9]*$' | head -1)
kill -9 "$PID0"
echo "killed replica echo-r0 (pid $PID0) at ~$(( D / 3 )) s"
sleep "$(( D / 3 ))"
HOST1=$(grep -l 'started job 2 attempt 1' agent-*.log | head -1 | sed 's/agent-\(.*\)\.log/\1/')
kill -9 "${AGENT[$HOST1]}"
echo "killed agent $HOST1 (with replica echo-r1) at ~$(( 2 * D / 3 )) s"
wait "$WRK" || true
total=$(grep -o '[0-9]* requests in' kill.txt | grep -o '^[0-9]*')
non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' kill.txt | grep -o '[0-9]*$' || echo 0)
sockerr=$(grep -o 'Socket errors: .*' kill.txt || echo "Socket errors: none")
after=$(curl -s "$ROUTER/_stargate/metrics")
metric() { echo "$1" | awk -v m="$2" '$1==m{print $2}'; }
echo "requests: $total; non-2xx: ${non2xx:-0}; $sockerr"
echo "router: retried $(( $(metric "$after" stargate_serve_retries_total) - $(metric "$before" stargate_serve_retries_total) )), given up $(( $(metric "$after" stargate_serve_unanswered_total) - $(metric "$before" stargate_serve_unanswered_total) ))"
grep -E "Latency|99%" kill.txt | head -2
echo "== serve log"
cat serve.log
