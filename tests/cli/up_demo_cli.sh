#!/usr/bin/env bash
# `stargate up` (server + local agents over several sites, stopped by
# SIGTERM with nothing left behind) and `stargate demo` (finishes by itself:
# a node killed mid-gang, the gang resumes from its checkpoint elsewhere).
# Usage: up_demo_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
TMP="$(mktemp -d)"
chmod 1777 "$TMP"  # tasks run as their tenant's user (agents as root)
UP=""
cleanup() {
  if [ -n "$UP" ]; then kill -9 "$UP" 2>/dev/null || true; fi
  pkill -9 -f "$TMP/up" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" up --dir "$TMP/up" --sites 3 --agents-per-site 2 --port 0 --agent-port 0 > "$TMP/up.out" 2>&1 &
UP=$!
for _ in $(seq 100); do grep -q "^stargate up: server" "$TMP/up.out" && break; sleep 0.1; done
URL=$(grep -o "http://127.0.0.1:[0-9]*" "$TMP/up.out" | head -n 1)
[ -n "$URL" ] || { cat "$TMP/up.out"; fail "up did not start"; }
[ "$("$BIN" node list --server "$URL" | grep -c ' up ')" = 6 ] || fail "up: 6 nodes expected"
[ "$("$BIN" site list --server "$URL" | grep -c '^site')" = 3 ] || fail "up: 3 sites expected"
kill "$UP"
wait "$UP" || fail "up did not exit cleanly on SIGTERM"
UP=""
if pgrep -f "$TMP/up" > /dev/null; then fail "up left processes behind"; fi

"$BIN" demo > "$TMP/demo.out" 2>&1 || { cat "$TMP/demo.out"; fail "demo failed"; }
grep -q "job 2 succeeded after 1 restart(s)" "$TMP/demo.out" || fail "demo: no restart"
grep -q "attempt 2 (restart 1): resuming at step [1-9]" "$TMP/demo.out" || fail "demo: did not resume from a checkpoint"
echo "up and demo: ok"
