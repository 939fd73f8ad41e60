#!/usr/bin/env bash
# A site's WAN link is cut (issue 6): two sites in two network namespaces
# joined by a veth pair; the server and site-a in one, site-b (EU, two
# nodes) in the other. While the link is down: the job running at site-b
# keeps running (its agents keep their tasks; the server keeps its
# attempt, saying why), new work goes to site-a, and work only site-b may
# take waits. When the link is back the site rejoins cleanly: the same
# attempt goes on and finishes, nothing restarted, and the waiting work
# runs there. Skipped (exit 77) without root or network namespaces.
# Usage: wan_cut_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/wan.bash"
wan_test sgc
wan_link "$A" "$B" 100mbit 5ms
ip netns exec "$A" "$BIN" server --data-dir data --listen 10.231.0.1:0 --agent-listen 10.231.0.1:0 --port-file port \
  --heartbeat-timeout-ms 1500 --site-partition-grace-s 60 > server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || fail "server did not start"
read -r REST_PORT AGENT_PORT < port
ip netns exec "$A" "$BIN" agent --server "10.231.0.1:$AGENT_PORT" --name a1 --site site-a --jurisdiction US \
  --address 10.231.0.1 --work-dir wa1 > agent-a1.log 2>&1 &
PIDS+=($!)
for n in b1 b2; do
  ip netns exec "$B" "$BIN" agent --server "10.231.0.1:$AGENT_PORT" --name "$n" --site site-b --jurisdiction EU \
    --address 10.231.0.2 --work-dir "w$n" > "agent-$n.log" 2>&1 &
  PIDS+=($!)
done
cli() { ip netns exec "$A" env STARGATE_SERVER="http://10.231.0.1:$REST_PORT" "$BIN" "$@"; }
ups() { cli node list | grep -c ' up ' || true; }
for _ in $(seq 100); do [ "$(ups)" = 3 ] && break; sleep 0.1; done
[ "$(ups)" = 3 ] || fail "three nodes should be up: $(cli node list)"
wait_state() {
  for _ in $(seq $(( $3 * 10 ))); do cli job list | grep -Eq "^ *$1 .* $2 " && return 0; sleep 0.1; done
  cli job show "$1" >&2 || true
  fail "job $1 did not reach $2 in $3 s"
}

# Job 1: EU only, so at site-b; counts to 200 at 10 per second.
cat > eu.yaml <<'YAML'
name: eu-long
resources: {nodes: 2}
placement: {jurisdictions: [EU]}
run: for i in $(seq 200); do echo "$i" >> count; sleep 0.1; done
YAML
cli job submit eu.yaml > /dev/null
wait_state 1 running 10
for _ in $(seq 50); do [ -s wb1/tenants/default/jobs/1/count ] && break; sleep 0.1; done

ip -n "$B" link set "v$B" down  # the WAN link is cut
ip -n "$A" link set "v$A" down
CUT=$(date +%s%N)
for _ in $(seq 100); do [ "$(ups)" = 1 ] && break; sleep 0.1; done
[ "$(ups)" = 1 ] || fail "site-b should be down: $(cli node list)"
for _ in $(seq 30); do cli job show 1 > during.txt; grep -q "is unreachable" during.txt && break; sleep 0.1; done
grep -q "state: *running" during.txt || fail "job 1 during the cut: $(cat during.txt)"
grep -q "site site-b is unreachable" during.txt || fail "no reason given: $(cat during.txt)"
printf 'name: any\nrun: echo ran at $STARGATE_NODE\n' > any.yaml
cli job submit any.yaml > /dev/null
wait_state 2 succeeded 15
cli job show 2 | grep -q "^nodes: *a1$" || fail "new work not at site-a: $(cli job show 2)"
printf 'name: eu-short\nplacement: {jurisdictions: [EU]}\nrun: "true"\n' > eu2.yaml
cli job submit eu2.yaml > /dev/null
before=$(wc -l < wb1/tenants/default/jobs/1/count)
sleep 1.5
after=$(wc -l < wb1/tenants/default/jobs/1/count)
[ "$after" -gt "$before" ] || fail "job 1 stopped counting during the cut ($before -> $after)"
cli job list | grep -Eq "^ *3 .* pending " || fail "EU-only work should wait: $(cli job list)"

ip -n "$A" link set "v$A" up  # the link is back
ip -n "$B" link set "v$B" up
echo "link down for $(( ($(date +%s%N) - CUT) / 1000000 )) ms"
for _ in $(seq 150); do [ "$(ups)" = 3 ] && break; sleep 0.1; done
[ "$(ups)" = 3 ] || fail "site-b did not rejoin: $(cli node list)"
wait_state 1 succeeded 30
cli job show 1 > after.txt
grep -q "^attempt: *1$" after.txt || fail "job 1 restarted: $(cat after.txt)"
grep -q "^restarts: *0$" after.txt || fail "job 1 restarted: $(cat after.txt)"
[ "$(wc -l < wb1/tenants/default/jobs/1/count)" = 200 ] && [ "$(wc -l < wb2/tenants/default/jobs/1/count)" = 200 ] ||
  fail "job 1 did not count to 200 once on each node"
wait_state 3 succeeded 20
cli job show 3 | grep -Eq "^nodes: *b[12]$" || fail "EU work not at site-b: $(cli job show 3)"
grep -q '"site-back"' <<< "$(ip netns exec "$A" curl -s "http://10.231.0.1:$REST_PORT/v1/audit?job=1")" ||
  fail "no site-back in the audit log"
echo "WAN cut: site-b's job ran through the cut; new work went to site-a; site-b rejoined"
