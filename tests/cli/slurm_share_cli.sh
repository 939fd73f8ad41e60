#!/usr/bin/env bash
# Shares of one GPU at a Slurm site (issue 23): a real single-host Slurm
# 22.05 with gres/shard (64 shards over 8 fake GPUs: 8 per GPU), and
# `stargate agent --slurm` driving it. Two shares the server packs into
# one device (H100:0.25, H100:0.5) go to Slurm as --gres=shard:2 and
# --gres=shard:4, run side by side on one GPU (Slurm's
# CUDA_VISIBLE_DEVICES and SLURM_SHARDS_ON_NODE reach the task), while a
# whole-GPU job still asks for gres/gpu.
# Skipped (exit 77) without root or without Slurm.
# Usage: slurm_share_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
source "$(dirname "$0")/lib/slurm.bash"
need_slurm
# Eight CPUs so the three jobs run at once (one CPU each at least).
SLURM_SHARDS=64 SLURM_CPUS=8 SLURM_EXTRA_CONF="SlurmdParameters=config_overrides" start_slurm
scontrol show node "$SLURM_NODE" | grep -q 'Gres=gpu:8,shard:64' || fail "no shards: $(scontrol show node)"
start_server
"$BIN" agent --slurm --server "127.0.0.1:$AGENT_PORT" --site hpc --region us-central --accelerators H100 \
  --work-dir wslurm --stop-grace-ms 3000 >> driver.log 2>&1 &
PIDS+=($!)
wait_up 1

# Each job holds on until all three have started, so they overlap.
run='echo "cvd=$CUDA_VISIBLE_DEVICES shards=${SLURM_SHARDS_ON_NODE:-none}"; touch "$STARGATE_WORK_DIR/../started-$STARGATE_JOB_ID"; for i in $(seq 100); do [ "$(ls "$STARGATE_WORK_DIR"/../started-* | wc -l)" -ge 3 ] && exit 0; sleep 0.1; done; exit 4'
for job in "quarter H100:0.25" "half H100:0.5" "whole H100:1"; do
  set -- $job
  printf 'name: %s\nresources: {accelerators: %s}\nrun: %s\n' "$1" "$2" "'${run//\'/\'\'}'" > "$1.yaml"
  "$BIN" job submit "$1.yaml" > /dev/null
done
for j in 1 2 3; do wait_state "$j" succeeded 60; done
tres() { scontrol --oneliner show job | grep " JobName=stargate-$1-1 " | sed 's/.*TresPerNode=\([^ ]*\).*/\1/'; }
[ "$(tres 1)" = gres:shard:2 ] || fail "job 1 asked Slurm for $(tres 1)"
[ "$(tres 2)" = gres:shard:4 ] || fail "job 2 asked Slurm for $(tres 2)"
[ "$(tres 3)" = gres:gpu:1 ] || fail "job 3 asked Slurm for $(tres 3)"
"$BIN" job logs 1 | grep -q "shards=2" || fail "job 1 log: $("$BIN" job logs 1)"
"$BIN" job logs 2 | grep -q "shards=4" || fail "job 2 log: $("$BIN" job logs 2)"
"$BIN" job logs 3 | grep -q "shards=none" || fail "job 3 log: $("$BIN" job logs 3)"
gpu() { "$BIN" job logs "$1" | sed -n 's/.*cvd=\([0-9,]*\) .*/\1/p'; }
# Both shares on one GPU. Which GPU the whole job gets is Slurm's choice:
# 22.05 may give it the GPU the shards are on (docs/job-reference.md).
[ -n "$(gpu 1)" ] && [ "$(gpu 1)" = "$(gpu 2)" ] || fail "the shares got GPUs '$(gpu 1)' and '$(gpu 2)'"
[ -n "$(gpu 3)" ] || fail "the whole job got no GPU: $("$BIN" job logs 3)"
echo "PASS: two shares on one GPU through Slurm's gres/shard (GPU $(gpu 1)); a whole GPU job beside them (GPU $(gpu 3))"
