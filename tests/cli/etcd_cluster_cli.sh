#!/usr/bin/env bash
# A server on a 3-member etcd cluster (issue 6) during a burst of 300
# submissions, each retried with its Idempotency-Key until acknowledged:
# the etcd leader is killed with -9 (the survivors elect another; the
# server moves to them), later restarted, and then a follower is killed.
# Every job exists exactly once afterwards, and the longest stall of the
# burst (the failover) is under 10 s. Skipped (exit 77) without etcd.
# Usage: etcd_cluster_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
source "$(dirname "$0")/lib/etcd.bash"
need_etcd
read -r C1 C2 C3 P1 P2 P3 < <(free_ports 6)
CLIENTS=("$C1" "$C2" "$C3"); PEERS=("$P1" "$P2" "$P3")
CLUSTER="m0=http://127.0.0.1:$P1,m1=http://127.0.0.1:$P2,m2=http://127.0.0.1:$P3"
declare -A MEMBER
member() {  # index
  etcd_member "m$1" "${CLIENTS[$1]}" "${PEERS[$1]}" "$CLUSTER"
  MEMBER[$1]=$ETCD_PID
}
for i in 0 1 2; do member "$i"; done
wait_etcd "$C1"
leader() {  # index of the member that leads now
  for i in 0 1 2; do
    curl -s --max-time 1 -X POST "http://127.0.0.1:${CLIENTS[$i]}/v3/maintenance/status" -d '{}' |
      /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if d['leader'] == d['header']['member_id'] else 1)" \
      2> /dev/null && { echo "$i"; return; }
  done
}
# A long lease: on 2 busy cores (ctest -j2) a renewal may wait on the etcd
# members for seconds; this test is about etcd failover, not server failover.
start_server --etcd "127.0.0.1:$C1,127.0.0.1:$C2,127.0.0.1:$C3" --lease-ttl-s 20
printf 'name: b\nrun: "true"\n' > b.yaml
: > acked.txt
# The burst: each key until it is acknowledged; one line per ack, with its
# time. Bounded: it gives up after 150 s (the test fails then).
(
  end=$((SECONDS + 150))
  for i in $(seq 1 300); do
    until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 -X POST -H "Idempotency-Key: k-$i" \
        --data-binary @b.yaml "$STARGATE_SERVER/v1/jobs") && { [ "$code" = 201 ] || [ "$code" = 200 ]; }; do
      [ "$SECONDS" -lt "$end" ] || exit 1
      sleep 0.05
    done
    echo "k-$i $(date +%s.%N)" >> acked.txt
  done
) &
BURST=$!
PIDS+=("$BURST")
acked() { wc -l < acked.txt; }
for _ in $(seq 300); do [ "$(acked)" -ge 80 ] && break; sleep 0.1; done
L=$(leader); [ -n "$L" ] || fail "no etcd leader"
kill -9 "${MEMBER[$L]}"
echo "killed the etcd leader m$L at ack $(acked)"
for _ in $(seq 300); do [ "$(acked)" -ge 160 ] && break; sleep 0.1; done
member "$L"  # back, from its data dir
wait_etcd "${CLIENTS[$L]}"
for _ in $(seq 300); do [ "$(acked)" -ge 200 ] && break; sleep 0.1; done
L2=$(leader); F=$(( (L2 + 1) % 3 ))
kill -9 "${MEMBER[$F]}"
echo "killed the follower m$F at ack $(acked)"
for _ in $(seq 900); do kill -0 "$BURST" 2> /dev/null || break; sleep 0.1; done
kill -0 "$BURST" 2> /dev/null && fail "the burst did not finish: $(acked) acknowledged"
[ "$(acked)" = 300 ] || fail "$(acked) of 300 acknowledged"
curl -s "$STARGATE_SERVER/v1/jobs" | /usr/bin/python3 -c '
import json, sys, collections
keys = collections.Counter(j.get("idempotency_key", "") for j in json.load(sys.stdin)["jobs"])
want = {f"k-{i}" for i in range(1, 301)}
missing = want - set(keys); twice = [k for k, n in keys.items() if n > 1]
sys.exit(f"missing {sorted(missing)[:5]}, twice {twice[:5]}" if missing or twice else 0)' || fail "jobs lost or duplicated"
STALL=$(awk 'NR > 1 { d = $2 - prev; if (d > m) m = d } { prev = $2 } END { printf "%.1f", m }' acked.txt)
/usr/bin/python3 -c "import sys; sys.exit(0 if $STALL < 10 else 1)" || fail "the longest stall was $STALL s"
echo "etcd cluster CLI: ok (300 jobs exactly once; longest stall $STALL s)"
