#!/usr/bin/env bash
# The orchestrator on a real NVIDIA GPU node (not part of ctest: CI has no
# GPU). One server and one agent on loopback; the agent is given no
# --accelerators, so it must find the GPUs itself (nvidia-smi). Then:
#   1. a DDP training job (examples/workloads/train_ddp.py, NCCL on the
#      GPU) checkpoints; its rank is killed with SIGKILL; the job restarts
#      (max_restarts) and resumes from its checkpoint;
#   2. an urgent job of higher priority preempts it (SIGTERM with the stop
#      grace: the rank writes a checkpoint and exits 143), runs a bf16
#      matrix product on the GPU and reports its rate;
#   3. the training job resumes again and finishes with its accuracy.
# Prints what it saw; exits non-zero on the first thing that is not right.
# Usage: bench/gpu_check.sh [STARGATE_BINARY [PYTHON_WITH_TORCH]]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(realpath "${1:-$REPO/build/stargate}")"
PY="$(command -v "${2:-python3}")"
command -v nvidia-smi > /dev/null || { echo "no nvidia-smi: not a GPU node"; exit 77; }
source "$REPO/tests/cli/lib/cluster.bash"
cp "$REPO/examples/workloads/train_ddp.py" "$TMP/"
# GET PATH from the server (python, as a GPU image may lack curl).
get() { "$PY" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$STARGATE_SERVER$1"; }

echo "== nvidia-smi (the agent's probe) =="
nvidia-smi --query-gpu=name,power.draw,utilization.gpu,memory.total --format=csv,noheader,nounits
"$PY" -c 'import torch; c = torch.cuda.is_available(); print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if c else "(no CUDA device)")'

start_server
start_agent gpu0 --stop-grace-ms 20000
wait_up 1
echo "== the node as it registered =="
"$BIN" node list
type="$(get /v1/nodes | "$PY" -c 'import json,sys; n=json.load(sys.stdin)["nodes"][0]; print(n["accelerator"]+":"+str(n["accelerators"]))')"
case "$type" in CPU:*) fail "the agent found no GPU ($type)";; esac
echo "detected: $type"

# Long enough to be killed and preempted: 2,000 steps at >= 20 ms each.
cat > train.yaml <<YAML
name: ddp-gpu
kind: training
resources: {accelerators: ${type%%:*}:1}
max_restarts: 2
checkpoint: {interval: 1h}
run: $PY $TMP/train_ddp.py --steps 2000 --step-sleep 0.02 --ckpt-every 100 --log-every 200
YAML
train="$("$BIN" job submit train.yaml | awk '{print $2}')"
wait_state "$train" running 60
ckpt() { "$BIN" job logs "$train" 2> /dev/null | grep -c '^checkpoint' || true; }
for _ in $(seq 600); do [ "$(ckpt)" -ge 2 ] && break; sleep 0.1; done
[ "$(ckpt)" -ge 2 ] || fail "no checkpoint from the training job in 60 s"
echo "== crash: SIGKILL to the rank =="
pkill -9 -f "$TMP/train_ddp.py" || fail "no training process to kill"
for _ in $(seq 600); do "$BIN" job logs "$train" 2> /dev/null | grep -q 'restart 1; resuming at step [1-9]' && break; sleep 0.1; done
"$BIN" job logs "$train" | grep 'restart 1; resuming at step [1-9]' || fail "the job did not resume from its checkpoint"

echo "== preemption: an urgent job of priority 10 =="
cat > urgent.yaml <<YAML
name: urgent-matmul
priority: 10
resources: {accelerators: ${type%%:*}:1}
run: |
  $PY - <<'PY'
  import time, torch
  a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16); b = torch.randn_like(a)
  for _ in range(3): a @ b
  torch.cuda.synchronize(); t = time.time()
  for _ in range(20): a @ b
  torch.cuda.synchronize(); dt = (time.time() - t) / 20
  print(f"bf16 8192^3 matmul: {2 * 8192**3 / dt / 1e12:.0f} TFLOP/s on {torch.cuda.get_device_name(0)}")
  PY
YAML
t0=$(date +%s.%N)
urgent="$("$BIN" job submit urgent.yaml | awk '{print $2}')"
"$BIN" job wait "$urgent" --timeout 120 || fail "the urgent job did not succeed"
t1=$(date +%s.%N)
"$BIN" job logs "$urgent"
echo "urgent job: submitted to succeeded in $("$PY" -c "print(round($t1 - $t0, 2))") s (includes the training job's checkpoint on SIGTERM)"
"$BIN" job wait "$train" --timeout 300 || fail "the training job did not succeed"
echo "== the training job's log =="
"$BIN" job logs "$train" | grep -E '^rank 0|^checkpoint.*(SIGTERM|signal)|^RESULT' || true
"$BIN" job logs "$train" | grep -q '(nccl, cuda:0)' || fail "the training job did not use NCCL on the GPU"
"$BIN" job logs "$train" | grep -q 'restart 2; resuming at step [1-9]' || fail "no resume after the preemption"
"$BIN" job show "$train"
echo "== audit =="
get "/v1/audit?limit=40" | "$PY" -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    print(e["actor"], e["action"], e["job"], e["detail"])'
echo "== node telemetry (GPU power and utilisation from nvidia-smi) =="
get /v1/nodes | "$PY" -c 'import json,sys; n=json.load(sys.stdin)["nodes"][0]; print({k: v for k, v in n.items() if "gpu" in k})'
echo "gpu check: ok"
