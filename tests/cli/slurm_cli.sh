#!/usr/bin/env bash
# A Slurm cluster as a Stargate site (issue 6): a real single-host Slurm
# 22.05 (munged, slurmctld, slurmd, 8 fake GPUs) started by the test, and
# `stargate agent --slurm` driving it. A gang runs as one sbatch job with
# the GPUs as GRES (Slurm's CUDA_VISIBLE_DEVICES reaches the task) and
# succeeds; a non-zero exit fails the job with its code; a cancel is a
# scancel (the task gets SIGTERM, Slurm says CANCELLED); a driver killed
# with -9 and restarted adopts its batch job, which goes on (the server
# kept the attempt while the site was silent); a driver killed for good
# leaves nothing running (its jobs' watchdog cancels them). Skipped
# (exit 77) without root or without Slurm.
# Usage: slurm_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
source "$(dirname "$0")/lib/slurm.bash"
need_slurm
start_slurm
start_server

start_driver() {
  "$BIN" agent --slurm --server "127.0.0.1:$AGENT_PORT" --site hpc --region us-central --accelerators H100 \
    --work-dir wslurm --stop-grace-ms 3000 --slurm-fence-s 6 >> driver.log 2>&1 &
  DRIVER=$!
  PIDS+=($!)
}
# slurm_state NAME: the JobState of the Slurm job named NAME ("" if none).
slurm_state() {
  scontrol --oneliner show job 2> /dev/null | grep " JobName=$1 " | sed 's/.* JobState=\([A-Z_]*\).*/\1/' | tail -n 1
}
wait_slurm_state() {
  for _ in $(seq $(( $3 * 10 ))); do [ "$(slurm_state "$1")" = "$2" ] && return 0; sleep 0.1; done
  fail "Slurm job $1 is '$(slurm_state "$1")', not $2 after $3 s"
}

start_driver
wait_up 1
"$BIN" node list | grep -Eq "^$SLURM_NODE +hpc .*H100:8 +up" || fail "Slurm node not registered: $("$BIN" node list)"

# 1. A job with two GPUs: one sbatch job, Slurm's devices, torchrun env.
cat > ok.yaml <<'YAML'
name: on-slurm
resources: {accelerators: H100:2}
run: echo "rank=$RANK world=$WORLD_SIZE node=$STARGATE_NODE cvd=$CUDA_VISIBLE_DEVICES slurm=$SLURM_JOB_ID"
YAML
"$BIN" job submit ok.yaml > /dev/null
wait_state 1 succeeded 30
[ "$(slurm_state stargate-1-1)" = COMPLETED ] || fail "Slurm job for 1: $(slurm_state stargate-1-1)"
scontrol --oneliner show job | grep " JobName=stargate-1-1 " | grep -q "Comment=stargate:hpc" || fail "no site tag"
"$BIN" job logs 1 > logs1.txt
grep -Eq "rank=0 world=1 node=$SLURM_NODE cvd=0,1 slurm=[0-9]+" logs1.txt || fail "job 1 log: $(cat logs1.txt)"

# 2. A failing job fails with its exit code.
printf 'name: bad\nresources: {accelerators: H100:1}\nrun: exit 3\n' > bad.yaml
"$BIN" job submit bad.yaml > /dev/null
wait_state 2 failed 30
"$BIN" job show 2 | grep -q "exited with code 3" || fail "job 2: $("$BIN" job show 2)"

# 3. Cancel: scancel, the task's SIGTERM handler runs, Slurm says CANCELLED.
cat > long.yaml <<'YAML'
name: long
resources: {accelerators: H100:1}
run: trap 'echo "checkpoint on TERM"; exit 0' TERM; echo started; while true; do sleep 0.2; done
YAML
"$BIN" job submit long.yaml > /dev/null
wait_slurm_state stargate-3-1 RUNNING 30
for _ in $(seq 50); do "$BIN" job logs 3 2> /dev/null | grep -q started && break; sleep 0.1; done
"$BIN" job cancel 3 > /dev/null
wait_state 3 cancelled 30
wait_slurm_state stargate-3-1 CANCELLED 30
for _ in $(seq 30); do grep -q "checkpoint on TERM" wslurm/logs/job-3-attempt-1.log && break; sleep 0.1; done
grep -q "checkpoint on TERM" wslurm/logs/job-3-attempt-1.log || fail "no SIGTERM: $(cat wslurm/logs/job-3-attempt-1.log)"

# 4. The driver dies (-9) and comes back within the server's site
# partition grace: its only node went silent with the whole site, so the
# server keeps the attempt; the new driver adopts the batch job, which
# goes on untouched: no restart, no second attempt.
"$BIN" job submit long.yaml > /dev/null
wait_slurm_state stargate-4-1 RUNNING 30
{ kill -9 "$DRIVER"; wait "$DRIVER"; } 2> /dev/null || true
sleep 2  # past the heartbeat timeout: the site is silent
start_driver
for _ in $(seq 100); do grep -q "adopted Slurm job" driver.log && break; sleep 0.1; done
grep -q "(Stargate job 4 attempt 1)" driver.log ||
  fail "the restarted driver adopted nothing: $(cat driver.log)"
wait_up 1
for _ in $(seq 50); do "$BIN" job show 4 | grep -q "reachable again" && break; sleep 0.1; done
"$BIN" job show 4 > show4.txt
grep -q "^attempt: *1$" show4.txt && grep -q "^restarts: *0$" show4.txt && grep -q "state: *running" show4.txt ||
  fail "job 4 after the driver restart: $(cat show4.txt)"
[ "$(slurm_state stargate-4-1)" = RUNNING ] || fail "the adopted batch job is $(slurm_state stargate-4-1)"
[ -z "$(slurm_state stargate-4-2)" ] || fail "a second attempt was submitted"

# 5. The driver dies for good: the batch job's watchdog cancels it once
# the lease is older than --slurm-fence-s (6 s).
{ kill -9 "$DRIVER"; wait "$DRIVER"; } 2> /dev/null || true
wait_slurm_state stargate-4-1 CANCELLED 20
grep -q "site driver has been silent" wslurm/logs/job-4-attempt-1.log || fail "no fence note in the log"
echo "Slurm CLI: ok"
