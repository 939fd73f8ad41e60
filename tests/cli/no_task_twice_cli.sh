#!/usr/bin/env bash
# No task runs twice (issue 17): a job whose script starts children that
# leave its process group (setsid) keeps them running when its agent is
# killed with -9; the restarted agent ends them (their cgroup) before it
# registers, and the job's next attempt starts only after the last line of
# the old one. Skipped (77) where cgroups cannot be written (not root).
# Usage: no_task_twice_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
if [ "$(id -u)" != 0 ] || ! mkdir -p /sys/fs/cgroup/pids/stargate-probe 2> /dev/null &&
  ! mkdir -p /sys/fs/cgroup/stargate-probe 2> /dev/null; then
  echo "SKIP: cgroups are not writable here"; exit 77
fi
rmdir /sys/fs/cgroup/pids/stargate-probe /sys/fs/cgroup/stargate-probe 2> /dev/null || true
start_server
start_agent a --stop-grace-ms 2000
wait_up 1
OUT="$TMP/lines"
cat > twice.yaml <<YAML
name: twice
run: |
  for i in 1 2; do
    setsid bash -c 'while true; do echo "\$STARGATE_ATTEMPT \$(date +%s%N)" >> $OUT; sleep 0.05; done' &
  done
  wait
YAML
"$BIN" job submit twice.yaml > /dev/null
wait_state 1 running 20
for _ in $(seq 50); do [ -s "$OUT" ] && break; sleep 0.1; done
[ -s "$OUT" ] || fail "the job's children never wrote"
kill -9 "${AGENT[a]}"; wait "${AGENT[a]}" 2> /dev/null || true
sleep 1
BEFORE=$(wc -l < "$OUT"); sleep 0.5
[ "$(wc -l < "$OUT")" -gt "$BEFORE" ] || fail "the children died with the agent: nothing to prove"
start_agent a --stop-grace-ms 2000
for _ in $(seq 200); do grep -q "^2 " "$OUT" && break; sleep 0.1; done
grep -q "^2 " "$OUT" || fail "attempt 2 never ran: $("$BIN" job show 1)"
grep -q "ending job 1 attempt 1, left running by an earlier agent" agent-a.log ||
  fail "the new agent did not end the old attempt: $(cat agent-a.log)"
# No line of attempt 1 after the first of attempt 2: never both at once.
/usr/bin/python3 - "$OUT" <<'PY' || fail "two attempts ran at once"
import sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
first2 = min(int(t) for a, t in lines if a == "2")
late1 = [int(t) for a, t in lines if a == "1" and int(t) > first2]
print(f"attempt 1: {sum(a == '1' for a, _ in lines)} lines, attempt 2 from {first2}; attempt-1 lines after it: {len(late1)}")
sys.exit(1 if late1 else 0)
PY
"$BIN" job cancel 1 > /dev/null
wait_state 1 cancelled 20
# SIGTERM to the group (the setsid children ignore it: not theirs), then
# after the 2 s grace SIGKILL to the whole cgroup.
sleep 2.5
AFTER=$(wc -l < "$OUT"); sleep 0.5
[ "$(wc -l < "$OUT")" = "$AFTER" ] || fail "cancel left children writing"
echo "no task twice CLI: ok"
