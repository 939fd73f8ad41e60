#!/usr/bin/env bash
# /metrics scraped by a real Prometheus (issue 7): Debian's prometheus,
# started by the test on loopback, scrapes `stargate server` every second
# with a viewer's bearer token; its query API then answers with the
# server's numbers: jobs by state, nodes up, free accelerators, the queue
# wait histogram. Skipped (exit 77) without /usr/bin/prometheus.
# Usage: metrics_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
[ -x /usr/bin/prometheus ] || { echo "SKIP: /usr/bin/prometheus is missing (Debian: apt-get install prometheus)"; exit 77; }
source "$(dirname "$0")/lib/cluster.bash"
cat > tokens.yaml <<'YAML'
tokens:
  - {token: admin-token-0123456789, name: ops, role: admin}
  - {token: scrape-token-012345678, name: prometheus, role: viewer}
YAML
start_server --tokens tokens.yaml
export STARGATE_TOKEN=admin-token-0123456789
# With --tokens, agents join with a join token (--node-auth auto = token).
STARGATE_JOIN_TOKEN=$("$BIN" node join-token create -q) || fail "no join token"
export STARGATE_JOIN_TOKEN
start_agent a --accelerators CPU:4
wait_up 1
printf 'name: m\nresources: {accelerators: CPU:1}\nrun: "true"\n' > m.yaml
"$BIN" job submit m.yaml > /dev/null
wait_state 1 succeeded 20
curl -s -H "Authorization: Bearer scrape-token-012345678" "$STARGATE_SERVER/metrics" > metrics.txt
grep -q '^stargate_jobs{state="succeeded"} 1$' metrics.txt || fail "metrics: $(cat metrics.txt)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$STARGATE_SERVER/metrics")" = 401 ] || fail "/metrics open without a token"

read -r PROM_PORT < <(free_ports 1)
cat > prometheus.yml <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: stargate
    metrics_path: /metrics
    authorization: {type: Bearer, credentials: scrape-token-012345678}
    static_configs: [{targets: ["127.0.0.1:$REST_PORT"]}]
YAML
/usr/bin/prometheus --config.file=prometheus.yml --storage.tsdb.path=prom-data \
  --web.listen-address="127.0.0.1:$PROM_PORT" > prometheus.log 2>&1 &
PIDS+=($!)
query() {
  curl -s -G "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
    /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
for _ in $(seq 300); do [ "$(query 'up{job="stargate"}' 2> /dev/null)" = 1 ] && break; sleep 0.1; done
[ "$(query 'up{job="stargate"}')" = 1 ] || fail "Prometheus did not scrape the server: $(tail -n 5 prometheus.log)"
[ "$(query 'stargate_jobs{state="succeeded"}')" = 1 ] || fail "succeeded jobs: $(query 'stargate_jobs')"
[ "$(query 'stargate_node_up{node="a"}')" = 1 ] || fail "node up"
[ "$(query 'stargate_site_accelerators{site="lab",state="free"}')" = 4 ] || fail "free accelerators"
[ "$(query 'stargate_job_queue_wait_seconds_count')" = 1 ] || fail "queue wait histogram"
[ -n "$(query 'stargate_scheduler_pass_seconds_count > 0')" ] || fail "scheduler pass histogram"
echo "metrics CLI: ok (Prometheus scraped /metrics with a viewer token)"
