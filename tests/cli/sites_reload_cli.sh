#!/usr/bin/env bash
# End to end on loopback: the --sites file is read again without a restart.
#  1. SIGHUP: a new carbon figure shows in /v1/sites and /metrics, and the
#     next placement reason prints it.
#  2. A bad file on SIGHUP is refused (the server says why and keeps the
#     old sites, and keeps serving).
#  3. POST /v1/sites/reload (admins only when tokens are on; here the API
#     is open) reads it again.
#  4. A job no site can ever run is refused at submit; queued anyway
#     (--allow-pending) it fails ("rejected: ...") after the reject grace.
# Usage: sites_reload_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
printf 'sites:\n  - {name: lab, carbon: 700, price: {mean: 50}}\n' > sites.yaml
start_server --sites sites.yaml --reject-grace-s 2
SERVER_PID=${PIDS[0]}
start_agent a
wait_up 1
carbon() { curl -s "$STARGATE_SERVER/v1/sites" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sites"][0]["carbon_g_per_kwh"])'; }
[ "$(carbon)" = "700.0" ] || fail "carbon before the reload: $(carbon)"

# 1. SIGHUP.
printf 'sites:\n  - {name: lab, carbon: 30, price: {mean: 50}}\n' > sites.yaml
kill -HUP "$SERVER_PID"
for _ in $(seq 50); do [ "$(carbon)" = "30.0" ] && break; sleep 0.1; done
[ "$(carbon)" = "30.0" ] || fail "SIGHUP did not reload: carbon $(carbon)"
grep -q "reloaded sites.yaml" server.log || fail "the server did not say it reloaded"
METRICS=$(curl -s "$STARGATE_SERVER/metrics")
grep -q '^stargate_site_carbon_intensity_grams_per_kwh{site="lab"} 30$' <<< "$METRICS" || fail "metrics: $(grep carbon <<< "$METRICS")"
printf 'name: one\nrun: "true"\n' > one.yaml
"$BIN" job submit one.yaml > /dev/null
wait_state 1 succeeded 20
PLACED=$(curl -s "$STARGATE_SERVER/v1/audit?job=1&action=place")
grep -q 'grid 30 g/kWh, 50 \$/MWh' <<< "$PLACED" || fail "placement reason: $PLACED"

# 2. A bad file: refused, the old sites stay, the server serves on.
printf 'sites:\n  - {name: lab, carbon: lots}\n' > sites.yaml
kill -HUP "$SERVER_PID"
for _ in $(seq 50); do grep -q "reload refused" server.log && break; sleep 0.1; done
grep -q "reload refused, the old sites stay: sites.yaml:2:" server.log || fail "bad file: $(tail -3 server.log)"
kill -0 "$SERVER_PID" || fail "the server died on a bad sites file"
[ "$(carbon)" = "30.0" ] || fail "a bad file changed the sites: carbon $(carbon)"

# 3. POST /v1/sites/reload.
printf 'sites:\n  - {name: lab, carbon: 120}\n' > sites.yaml
CODE=$(curl -s -o reload.json -w '%{http_code}' -X POST "$STARGATE_SERVER/v1/sites/reload")
[ "$CODE" = 200 ] || fail "POST /v1/sites/reload: $CODE $(cat reload.json)"
[ "$(carbon)" = "120.0" ] || fail "POST did not reload: carbon $(carbon)"
AUDIT=$(curl -s "$STARGATE_SERVER/v1/audit?action=sites-reload")
[ "$(grep -o '"sites-reload"' <<< "$AUDIT" | wc -l)" = 3 ] || fail "reloads audited: $AUDIT"

# 4. A job no node could ever run is refused at submit with the reason
#    (exit 2); with --allow-pending it waits the reject grace (2 s here)
#    for nodes still joining, saying so, then fails.
printf 'name: huge\nresources: {accelerators: CPU:1, nodes: 3}\nrun: "true"\n' > huge.yaml
code=0; "$BIN" job submit huge.yaml 2> err.txt || code=$?
[ "$code" = 2 ] && grep -q "huge.yaml: no site can ever run this job: needs 3" err.txt ||
  fail "a job that can never run is refused at submit: exit $code: $(cat err.txt)"
"$BIN" job submit --allow-pending huge.yaml > /dev/null
for _ in $(seq 20); do "$BIN" job show 2 | grep -q "waiting: needs 3" && break; sleep 0.05; done
"$BIN" job show 2 | grep -q "waiting: needs 3" || fail "a rejected job should wait the grace first: $("$BIN" job show 2)"
wait_state 2 failed 10
"$BIN" job show 2 | grep -q "rejected: " || fail "rejection: $("$BIN" job show 2)"
echo "sites reload CLI: ok"
