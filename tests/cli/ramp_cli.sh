#!/usr/bin/env bash
# End to end on loopback: power choreography's falls take turns
# (sched/power_ramp.h). A server whose sites file gives site "ramp" a
# power ramp limit, and two agents there (an emulated H100 each, a
# stand-in nvidia-smi, a holding load). Two 1-GPU jobs start staggered on
# the site's ramp channel and end at one instant: both agents hold their
# device at its draw and ask for their fall's turn; the server gives the
# first at once and the second after the first's fall and a rest, and
# each agent says so. Usage: ramp_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
# Answers the default-limit query with 700 W and takes every limit.
mkdir smi
printf '#!/bin/sh\necho "$*" >> %s/smi.calls\ncase "$*" in *power.default_limit*) echo 700.00;; esac\nexit 0\n' \
  "$TMP" > smi/nvidia-smi
chmod +x smi/nvidia-smi
export PATH="$TMP/smi:$PATH"
# 200 W a second: an H100's rise (~0.7 kW at the site) takes seconds.
printf 'sites:\n  - name: ramp\n    pue: 1.2\n    power_ramp: {mw_per_min: 0.012}\n' > sites.yaml
start_server --sites sites.yaml
for n in g1 g2; do
  "$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name "$n" --site ramp --accelerators H100:1 --work-dir "w$n" \
    --stop-grace-ms 1000 --holding-load "exec sleep 300" >> "agent-$n.log" 2>&1 &
  AGENT[$n]=$!
  PIDS+=($!)
done
wait_up 2
printf 'name: together\nresources: {accelerators: H100:1}\nrun: touch "$STARGATE_WORK_DIR/up"; while [ ! -f %s/go ]; do sleep 0.1; done\n' \
  "$TMP" > together.yaml
"$BIN" job submit together.yaml > /dev/null
"$BIN" job submit together.yaml > /dev/null
for _ in $(seq 300); do
  [ "$(ls w*/tenants/default/jobs/*/up 2> /dev/null | wc -l)" = 2 ] && break
  sleep 0.1
done
[ "$(ls w*/tenants/default/jobs/*/up 2> /dev/null | wc -l)" = 2 ] || fail "both jobs should run: $("$BIN" job list)"
"$BIN" job show 2 | grep -q "power ramp [0-9.]* MW: launch in [1-9]" ||
  fail "the second start was not choreographed: $("$BIN" job show 2)"
sleep 6  # both at full draw
touch go
wait_state 1 succeeded 20
wait_state 2 succeeded 20
for n in g1 g2; do
  for _ in $(seq 150); do grep -q "holding load falls" "agent-$n.log" && break; sleep 0.1; done
  grep -q "holding load falls" "agent-$n.log" || fail "agent $n was never told its fall's turn"
done
if grep -q "no word on the holding load" agent-g*.log; then fail "an agent fell without the server's word"; fi
# The seconds each fall waited after its task's end: the later waits for
# the earlier's fall (a few seconds at this rate) and a rest.
read -r FIRST SECOND <<< "$(sed -n 's/.*holding load falls \([0-9]*\) s after.*/\1/p' agent-g*.log | sort -n | tr '\n' ' ')"
[ $((SECOND - FIRST)) -ge 3 ] || fail "the falls did not take turns: $FIRST s and $SECOND s after the ends"
grep -q -- "-pl" smi.calls || fail "no device limit was set"
echo "ramp CLI: ok (falls $FIRST s and $SECOND s after the ends)"
