#!/usr/bin/env bash
# Goodput measured for real, next to the twin's prediction (issue 5).
#
# A server and three CPU agents on loopback run a 2-node DDP job
# (examples/workloads/train_ddp.py, STEPS steps, a checkpoint every CKPT
# steps); KILL_AT seconds after its first step the agent of rank 0 is
# killed with -9. The gang resumes from its checkpoint on the other nodes.
#   useful   = STEPS x the step time of the attempt that finished
#   wall     = first step of attempt 1 -> end of the job
#   goodput  = useful / wall
# The twin then replays the same setup: one site of three CPU nodes, the
# job as `useful` seconds of work with the same checkpoint interval and the
# measured checkpoint write time, the restart time measured here (kill ->
# first step of attempt 2), and a scripted failure of the job's node at
# KILL_AT (failures.scripted). Its wall time gives the predicted goodput.
# Usage: bench/goodput_real.sh [STEPS=2000] [CKPT=200] [KILL_AT=15]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${1:-2000}"; CKPT="${2:-200}"; KILL_AT="${3:-15}"
PY=/usr/bin/python3
BIN="$PWD/build/stargate"
REPO="$PWD"
TMP="$(mktemp -d)"
chmod 1777 "$TMP"  # agents as root run tasks as their tenant's user
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP"
"$BIN" server --data-dir data --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 --port-file port \
  --heartbeat-timeout-ms 1500 > server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
read -r REST_PORT AGENT_PORT < port
export STARGATE_SERVER="http://127.0.0.1:$REST_PORT"
declare -A AGENT
for n in a b c; do
  "$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name "$n" --site lab --work-dir "w$n" > "agent-$n.log" 2>&1 &
  AGENT[$n]=$!; PIDS+=($!)
done
for _ in $(seq 50); do [ "$("$BIN" node list | grep -c ' up ')" = 3 ] && break; sleep 0.1; done
cat > job.yaml <<YAML
name: goodput
resources: {accelerators: CPU:1, nodes: 2}
max_restarts: 3
run: $PY $REPO/examples/workloads/train_ddp.py --steps $STEPS --step-sleep 0.01 --ckpt-every $CKPT --log-every 100000
YAML
"$BIN" job submit job.yaml > /dev/null
log() { cat w?/logs/job-1-attempt-"$1".log 2> /dev/null || true; }
for _ in $(seq 600); do log 1 | grep -q "^timing:" && break; sleep 0.05; done
FIRST1=$(log 1 | sed -n 's/^timing: process start [0-9.]* first step \([0-9.]*\).*/\1/p')
[ -n "$FIRST1" ] || { echo "the job never started"; exit 1; }
sleep "$("$PY" -c "import time; print(max(0, $FIRST1 + $KILL_AT - time.time()))")"
VICTIM=$("$BIN" job show 1 | sed -n 's/^nodes: *\([a-c]\) .*/\1/p')
KILLED=$("$PY" -c "import time; print(f'{time.time():.3f}')")
kill -9 "${AGENT[$VICTIM]}"; wait "${AGENT[$VICTIM]}" 2> /dev/null || true
for _ in $(seq 1200); do "$BIN" job list | grep -Eq "^ *1 .* succeeded " && break; sleep 0.1; done
"$BIN" job list | grep -Eq "^ *1 .* succeeded " || { "$BIN" job show 1; exit 1; }
ATTEMPT=$("$BIN" job show 1 | sed -n 's/^attempt: *//p')
RESULT=$(log "$ATTEMPT" | sed -n 's/^RESULT //p')
FIRSTN=$(log "$ATTEMPT" | sed -n 's/^timing: process start [0-9.]* first step \([0-9.]*\).*/\1/p')
CKPTS_BEFORE=$(log 1 | grep -c "^checkpoint at step" || true)
"$PY" - "$RESULT" "$FIRST1" "$KILLED" "$FIRSTN" "$STEPS" "$CKPT" "$KILL_AT" "$BIN" "$TMP" "$ATTEMPT" <<'PY'
import json, subprocess, sys, csv, glob, os
r = json.loads(sys.argv[1])
first1, killed, firstn = map(float, sys.argv[2:5])
steps, ckpt, kill_at = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
binary, tmp, attempt = sys.argv[8], sys.argv[9], int(sys.argv[10])
done = r["steps_this_attempt"]
ckpt_write = r["checkpoint_seconds"] / max(1, r["checkpoints"])
step_s = (r["step_seconds"] - r["checkpoint_seconds"]) / done     # compute time per step
useful = steps * step_s
wall = r["end_unix"] - first1
restart = firstn - killed
real = useful / wall
print(f"real: {steps} steps at {step_s * 1e3:.2f} ms = {useful:.2f} s useful; wall {wall:.2f} s "
      f"(killed at {killed - first1:.2f} s, resumed at step {r['resumed_at']}, attempt {attempt}, "
      f"restart {restart:.2f} s, {r['checkpoints']} checkpoints of {ckpt_write * 1e3:.1f} ms in the last attempt)")
print(f"real goodput: {real:.3f}")
scenario = f"""name: goodput-replay
duration: 1h
policy: fifo
seed: 1
sites:
  - name: lab
    jurisdiction: US
    pools: [{{accelerator: CPU, nodes: 3, accels_per_node: 1}}]
failures:
  enabled: false
  restart: {restart:.3f}s
  scripted: [{{at: {killed - first1:.3f}s, site: lab, node: NODE, repair: 1h}}]
workload:
  jobs:
    - {{name: goodput, kind: batch, accelerators: CPU, count: 2, submit: 0s, duration: {useful:.3f}s,
       checkpoint: {{interval: {ckpt * step_s:.4f}s, write: {max(ckpt_write, 1e-4):.4f}s}}}}
"""
for node in range(3):  # the node the twin placed rank 0's... any of the job's nodes
    path = os.path.join(tmp, f"replay{node}.yaml")
    open(path, "w").write(scenario.replace("NODE", str(node)))
    out = os.path.join(tmp, f"twin{node}")
    subprocess.run([binary, "twin", "run", path, "-o", out, "-q"], check=True)
    rows = list(csv.DictReader(open(glob.glob(os.path.join(out, "*", "jobs.csv"))[0])))
    if int(rows[0]["restarts"]) == 1:
        end_h = float(rows[0]["end_h"])
        twin = useful / (end_h * 3600)
        print(f"twin (failure on its node {node}): wall {end_h * 3600:.2f} s, predicted goodput {twin:.3f} "
              f"(real {real:.3f}, {100 * (twin - real) / real:+.1f}%)")
        break
else:
    sys.exit("the scripted failure hit none of the twin job's nodes")
PY
