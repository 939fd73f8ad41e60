#!/usr/bin/env bash
# One writer per port and per data dir (issue 17): a second server on the
# first one's REST or agent port exits non-zero with "address in use"
# (no SO_REUSEPORT sharing), a second server on its data dir exits
# non-zero naming the first one's pid, and the first server goes on as if
# nothing happened: same jobs, same ids.
# Usage: one_writer_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
start_server
FIRST=${PIDS[0]}
printf 'name: one\nrun: "true"\n' > one.yaml
"$BIN" job submit one.yaml > /dev/null
read -r SPARE1 SPARE2 <<< "$(free_ports 2)"
second() {  # FLAGS...: a second server that must fail; its stderr in second.err
  if timeout 10 "$BIN" server --heartbeat-timeout-ms 1500 "$@" > second.out 2> second.err; then
    fail "a second server started with $*: $(cat second.out)"
  fi
}
second --data-dir data2 --listen "127.0.0.1:$REST_PORT" --agent-listen "127.0.0.1:$SPARE1"
grep -q "address in use" second.err || fail "same REST port: $(cat second.err)"
second --data-dir data3 --listen "127.0.0.1:$SPARE1" --agent-listen "127.0.0.1:$AGENT_PORT"
grep -q "address in use" second.err || fail "same agent port: $(cat second.err)"
second --data-dir data --listen "127.0.0.1:$SPARE1" --agent-listen "127.0.0.1:$SPARE2"
grep -q "data dir data is in use by another stargate server (pid $FIRST)" second.err ||
  fail "same data dir: $(cat second.err)"
kill -0 "$FIRST" || fail "the first server died"
"$BIN" job submit one.yaml | grep -q "job 2" || fail "the first server lost count: $("$BIN" job list)"
[ "$("$BIN" job list | tail -n +2 | wc -l)" = 2 ] || fail "jobs: $("$BIN" job list)"
# The lock dies with its holder: after kill -9 a new server opens the dir.
kill -9 "$FIRST"; wait "$FIRST" 2> /dev/null || true
PIDS=()
rm -f port
start_server
[ "$("$BIN" job list | tail -n +2 | wc -l)" = 2 ] || fail "after the restart: $("$BIN" job list)"
echo "one writer CLI: ok"
