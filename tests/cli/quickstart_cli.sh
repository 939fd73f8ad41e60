#!/usr/bin/env bash
# The shell session of docs/quickstart.md ("The same, as a script sees
# it"), run as written against `stargate up --sites 2 --agents-per-site 2`:
# every command's exit code and output, and the shape of its JSON
# (tests/cli/lib/session.py).
# Usage: quickstart_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
REPO="$2"
source "$REPO/tests/cli/lib/cluster.bash"
"$BIN" up --dir "$TMP/up" --sites 2 --agents-per-site 2 --port 0 --agent-port 0 > "$TMP/up.out" 2>&1 &
PIDS+=($!)
URL=""
for _ in $(seq 200); do
  URL=$(sed -n 's/^stargate up: server \(http[^ ]*\) .*/\1/p' "$TMP/up.out")
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || fail "up did not start: $(cat "$TMP/up.out")"
grep -q "dashboard: $URL/ui/" "$TMP/up.out" || fail "up does not print the dashboard's URL: $(cat "$TMP/up.out")"
export STARGATE_SERVER="$URL"
export STARGATE_CONFIG="$TMP/config.json"
mkdir -p "$TMP/session"
/usr/bin/python3 "$REPO/tests/cli/lib/session.py" "$REPO/docs/quickstart.md" "$(dirname "$BIN")" "$TMP/session" ||
  fail "the quick start's session did not go as written"
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" || fail "up did not stop cleanly"
echo "quick start session: ok"
