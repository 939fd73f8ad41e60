#!/usr/bin/env bash
# End to end through the binary: `stargate server` and `stargate job` on
# loopback. Submit, list, show, cancel, bad input (CLI and REST), restart
# with state kept, and the server killed with SIGKILL during a burst of
# 1,000 submissions: after a restart and client retries with the same
# idempotency keys, every job exists exactly once.
# Usage: server_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
TMP="$(mktemp -d)"
chmod 1777 "$TMP"  # tasks run as their tenant's user (agents as root)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -9 "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_server() {  # sets SERVER_PID and STARGATE_SERVER
  rm -f "$TMP/port"
  "$BIN" server --data-dir "$TMP/data" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 --port-file "$TMP/port" \
    >> "$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
  [ -s "$TMP/port" ] || { cat "$TMP/server.log"; fail "server did not start"; }
  export STARGATE_SERVER="http://127.0.0.1:$(cut -d' ' -f1 "$TMP/port")"
}

cat > "$TMP/hello.yaml" <<'YAML'
name: hello
tenant: ml
resources: {accelerators: H100:8, nodes: 2}
run: echo hi
YAML

start_server
"$BIN" job submit "$TMP/hello.yaml" | grep -q "job 1 submitted (pending)" || fail "first submit"
"$BIN" job submit "$TMP/hello.yaml" --idempotency-key k1 | grep -q "job 2 submitted" || fail "keyed submit"
"$BIN" job submit "$TMP/hello.yaml" --idempotency-key k1 | grep -q "job 2 submitted (pending), already known" \
  || fail "a repeated idempotency key made a new job"
"$BIN" job list | grep -c " hello " | grep -qx 2 || fail "list should show 2 jobs"
"$BIN" job show 1 | grep -q "resources: 2x H100:8" || fail "show"
"$BIN" job cancel 2 | grep -q "job 2 cancelled" || fail "cancel"
"$BIN" job list --state cancelled | grep -q "^ *2 " || fail "list --state"

# Bad input: a clear message and a non-zero exit; the REST API answers 4xx
# with a JSON error naming the field; stored state does not change.
printf 'name: x\nrun: y\nresources: {nodes: 0}\n' > "$TMP/bad.yaml"
if "$BIN" job submit "$TMP/bad.yaml" 2> "$TMP/err"; then fail "bad job file exited 0"; fi
grep -q "bad.yaml:3:20: resources.nodes" "$TMP/err" || fail "CLI error lacks file:line:field"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST --data-binary @"$TMP/bad.yaml" "$STARGATE_SERVER/v1/jobs")
[ "$code" = 400 ] || fail "bad job over REST: HTTP $code"
grep -q '"field":"resources.nodes"' "$TMP/body" || fail "400 body lacks the field"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$STARGATE_SERVER/v1/jobs/999")" = 404 ] || fail "unknown job not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '' "$STARGATE_SERVER/v1/jobs/1/cancel/x")" = 404 ] || fail "junk path"
if "$BIN" job show 999 2> /dev/null; then fail "show of an unknown job exited 0"; fi
if "$BIN" job list --server http://127.0.0.1:1 2> "$TMP/err"; then fail "unreachable server exited 0"; fi
grep -q "cannot reach the server" "$TMP/err" || fail "unreachable server message"
"$BIN" job list | grep -c " hello " | grep -qx 2 || fail "bad input changed the jobs"

# Restart: everything is still there.
kill "$SERVER_PID"; wait "$SERVER_PID" || fail "server did not stop cleanly on SIGTERM"
start_server
"$BIN" job list | grep -c " hello " | grep -qx 2 || fail "jobs lost across a restart"

# kill -9 during a burst of 1,000 submissions. The client records each
# acknowledged key; the server dies after ~300 acknowledgements.
burst() {  # submit keys $1..$2, appending acknowledged keys to acked.txt
  for i in $(seq "$1" "$2"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H "Idempotency-Key: burst-$i" \
      --data-binary @"$TMP/hello.yaml" "$STARGATE_SERVER/v1/jobs" || true)
    if [ "$code" = 201 ] || [ "$code" = 200 ]; then echo "burst-$i" >> "$TMP/acked.txt"; fi
  done
}
: > "$TMP/acked.txt"
burst 1 1000 &
BURST=$!
for _ in $(seq 600); do [ "$(wc -l < "$TMP/acked.txt")" -ge 300 ] && break; sleep 0.05; done
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
wait "$BURST" || true
acked_before=$(wc -l < "$TMP/acked.txt")
[ "$acked_before" -ge 300 ] && [ "$acked_before" -lt 1000 ] || fail "kill landed outside the burst ($acked_before acked)"
start_server
# Clients retry everything they did not see acknowledged (and some they did).
: > "$TMP/acked2.txt"
mv "$TMP/acked.txt" "$TMP/acked1.txt"
burst 1 1000
curl -s "$STARGATE_SERVER/v1/jobs" > "$TMP/jobs.json"
/usr/bin/python3 - "$TMP/jobs.json" "$TMP/acked1.txt" <<'PY' || fail "jobs lost or duplicated after kill -9"
import json, sys, collections
jobs = json.load(open(sys.argv[1]))["jobs"]
keys = collections.Counter(j.get("idempotency_key") for j in jobs if j.get("idempotency_key", "").startswith("burst-"))
acked = set(open(sys.argv[2]).read().split())
missing = [k for k in acked if keys[k] != 1]
dupes = [k for k, n in keys.items() if n > 1]
expected = {f"burst-{i}" for i in range(1, 1001)}
if missing or dupes or set(keys) != expected:
    print("missing", missing[:5], "dupes", dupes[:5], "count", len(keys))
    sys.exit(1)
print(f"kill -9 burst: {len(acked)} acknowledged before the kill, 1000 jobs after retries, none twice")
PY
echo "server CLI: ok"
