#!/usr/bin/env bash
# Real PyTorch work through the orchestrator, on loopback (issue 5): a
# server and three CPU agents run examples/workloads/train_ddp.py (DDP,
# Gloo, scikit-learn digits).
#  1. A 2-node job finishes; its loss goes down and its test accuracy is
#     far above chance (10%).
#  2. kill -9 of an agent mid-run: the gang resumes from its last
#     checkpoint (the step count continues, it does not start from 0).
#  3. A preemption: an urgent job stops a running one, which gets SIGTERM,
#     writes a checkpoint before its process stops, and later resumes
#     from exactly that step.
#  4. A DiLoCo job (examples/workloads/train_diloco.py) learns, all-reducing
#     once every 20 steps.
#  5. A job serves the trained model over HTTP (examples/workloads/serve.py):
#     it classifies digits it never saw in training far above chance.
# Skipped (exit 77) where /usr/bin/python3 cannot import torch and sklearn.
# Usage: workloads_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
REPO="$(cd "$2" && pwd)"
PY=/usr/bin/python3
if ! "$PY" -c "import torch, sklearn" 2> /dev/null; then
  echo "SKIP: $PY cannot import torch and sklearn (Debian: apt-get install python3-torch python3-sklearn)"
  exit 77
fi
TRAIN="$PY $REPO/examples/workloads/train_ddp.py"
source "$(dirname "$0")/lib/cluster.bash"
start_server --preempt-after 1s
for n in a b c; do start_agent "$n" --stop-grace-ms 20000; done
wait_up 3
rank0_log() { cat w?/logs/job-"$1"-attempt-"$2".log 2> /dev/null | grep -v "^\[" || true; }

# 1. A 2-node DDP job learns.
cat > ddp.yaml <<YAML
name: digits-ddp
resources: {accelerators: CPU:1, nodes: 2}
checkpoint: {interval: auto, cost: 1s}
run: $TRAIN --steps 400
YAML
"$BIN" job submit ddp.yaml > /dev/null
wait_state 1 succeeded 60
"$BIN" job logs 1 > ddp.out
grep -q "^rank 0 of 2 (gloo" ddp.out || fail "no rank 0 banner: $(head -5 ddp.out)"
FIRST=$(grep -m1 "^step " ddp.out | awk '{print $4}')
LAST=$(grep "^step " ddp.out | tail -n 1 | awk '{print $4}')
ACC=$(grep "^RESULT " ddp.out | sed 's/^RESULT //' | "$PY" -c "import json,sys; print(json.load(sys.stdin)['test_accuracy'])")
"$PY" -c "import sys; f,l,a=map(float,sys.argv[1:]); sys.exit(0 if l < f and a > 0.8 else 1)" "$FIRST" "$LAST" "$ACC" ||
  fail "loss $FIRST -> $LAST, accuracy $ACC"
echo "DDP: loss $FIRST -> $LAST, test accuracy $ACC (chance 0.1)"

# 2. kill -9 the agent of a rank mid-run: resume from the checkpoint.
cat > long.yaml <<YAML
name: digits-long
resources: {accelerators: CPU:1, nodes: 2}
max_restarts: 2
checkpoint: {interval: 1h}
run: $TRAIN --steps 1200 --step-sleep 0.01 --ckpt-every 100
YAML
"$BIN" job submit long.yaml > /dev/null
wait_state 2 running 20
CKPT="$TMP/data/checkpoints/default/2"
for _ in $(seq 300); do "$BIN" job logs 2 2> /dev/null | grep -q "checkpoint at step 200" && break; sleep 0.1; done
"$BIN" job logs 2 | grep -q "checkpoint at step 200" || fail "job 2 never checkpointed step 200"
VICTIM=$("$BIN" job show 2 | sed -n 's/^nodes: *\([a-c]\) .*/\1/p')  # rank 0's node
[ -n "$VICTIM" ] || fail "no nodes in: $("$BIN" job show 2)"
kill -9 "${AGENT[$VICTIM]}"
wait_state 2 succeeded 90
"$BIN" job show 2 | grep -q "restarts: *1" || fail "job 2 restart count: $("$BIN" job show 2)"
"$BIN" job logs 2 > long.out
RESUMED=$(grep -o "resuming at step [0-9]*" long.out | awk '{print $4}')
[ -n "$RESUMED" ] && [ "$RESUMED" -ge 200 ] || fail "attempt 2 resumed at step '${RESUMED}': $(head -3 long.out)"
grep -q '"step": 1200' long.out || fail "job 2 did not reach step 1200"
echo "failure: agent $VICTIM killed; resumed at step $RESUMED"
# Bring the node back for the next part.
start_agent "$VICTIM" --stop-grace-ms 20000
wait_up 3

# 3. Preemption with warning: SIGTERM, a checkpoint, then the stop.
cat > low.yaml <<YAML
name: low
resources: {accelerators: CPU:1, nodes: 2}
max_restarts: 2
checkpoint: {interval: 1h}
estimate: 2h
run: $TRAIN --steps 100000 --step-sleep 0.01 --ckpt-every 100000
YAML
"$BIN" job submit low.yaml > /dev/null
wait_state 3 running 20
for _ in $(seq 300); do "$BIN" job logs 3 2> /dev/null | grep -q "^step 50 " && break; sleep 0.1; done
cat > urgent.yaml <<YAML
name: urgent
priority: 10
resources: {accelerators: CPU:1, nodes: 2}
run: $TRAIN --steps 50
YAML
"$BIN" job submit urgent.yaml > /dev/null
wait_state 4 succeeded 60
SAVED=$(rank0_log 3 1 | sed -n 's/^checkpoint at step \([0-9]*\) (SIGTERM)$/\1/p')
[ -n "$SAVED" ] || fail "the preempted job wrote no checkpoint on SIGTERM: $(rank0_log 3 1 | tail -5)"
rank0_log 3 1 | grep -q '"preempted": true' || fail "the preempted job did not stop after its checkpoint"
wait_state 3 running 30
for _ in $(seq 100); do rank0_log 3 2 | grep -q "resuming at step" && break; sleep 0.1; done
rank0_log 3 2 | grep -q "restart 1; resuming at step $SAVED$" || fail "resume after preemption: $(rank0_log 3 2 | head -2)"
"$BIN" job cancel 3 > /dev/null
echo "preemption: checkpoint at step $SAVED on SIGTERM, resumed there"
# 4. DiLoCo as a 2-node job: it learns
# and sends a twentieth of the bytes DDP would (H = 20).
cat > diloco.yaml <<YAML
name: digits-diloco
resources: {accelerators: CPU:1, nodes: 2}
run: $PY $REPO/examples/workloads/train_diloco.py --outer-steps 15 --inner-steps 20
YAML
"$BIN" job submit diloco.yaml > /dev/null
DILOCO_ID=$("$BIN" job list | awk '/digits-diloco/ {print $1}')
wait_state "$DILOCO_ID" succeeded 60
"$BIN" job logs "$DILOCO_ID" | sed -n 's/^RESULT //p' > diloco.json
"$PY" -c "import json,sys; d=json.load(open('diloco.json')); sys.exit(0 if d['test_accuracy'] > 0.8 and d['bytes_per_step'] * 20 <= 2 * 9610 * 4 * 1.01 else 1)" ||
  fail "DiLoCo result: $(cat diloco.json)"
echo "DiLoCo: $(cat diloco.json)"

# 5. Inference: job 1's model served over HTTP by a job.
cat > serve.yaml <<YAML
name: digits-serve
kind: inference
checkpoint: {dir: "1"}  # job 1's area: serve.py loads its newest complete checkpoint
run: $PY $REPO/examples/workloads/serve.py --port 0 --port-file $TMP/serve.port
YAML
"$BIN" job submit serve.yaml > /dev/null
for _ in $(seq 200); do [ -s serve.port ] && break; sleep 0.1; done
[ -s serve.port ] || fail "the serving job never listened"
SERVE="http://127.0.0.1:$(cat serve.port)"
"$PY" - "$SERVE" "$REPO/examples/workloads" <<'PY' || fail "predictions"
import json, sys, urllib.request, urllib.error
sys.path.insert(0, sys.argv[2])
from train_ddp import load_digits
_, (x, y) = load_digits(0)  # the held-out split training never saw
x, y = (x * 16).round(), y  # back to pixel values 0..16
def post(body):
    req = urllib.request.Request(sys.argv[1] + "/v1/predict", data=body, headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))
got = post(json.dumps({"instances": x.tolist()}).encode())["classes"]
right = sum(int(a == b) for a, b in zip(got, y.tolist()))
assert right >= 0.85 * len(y), f"{right}/{len(y)} right"
try:
    post(b'{"pixels": [1, 2]}')
    sys.exit("a bad request was answered")
except urllib.error.HTTPError as e:
    assert e.code == 400 and "error" in json.load(e), e
print(f"serving: {right}/{len(y)} held-out digits classified right; bad input -> 400")
PY
SERVE_ID=$("$BIN" job list | awk '/digits-serve/ {print $1}')
"$BIN" job cancel "$SERVE_ID" > /dev/null
for _ in $(seq 50); do curl -s "$SERVE/health" > /dev/null 2>&1 || break; sleep 0.1; done
if curl -s "$SERVE/health" > /dev/null 2>&1; then fail "the cancelled serving job still answers"; fi
echo "workloads CLI: ok"
