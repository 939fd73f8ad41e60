#!/usr/bin/env bash
# End to end on loopback: a server and three agents (CPU nodes of one
# site) run real processes. A 2-node job gets torchrun-style ranks; a
# failing job fails with the rank's exit code; a cancelled job's process is
# gone; and an agent killed with -9 during a 2-node checkpointing job: the
# gang is repaired in place (the survivor keeps its node and rank, the
# third node takes the lost rank) and resumes from its last checkpoint
# (its step count continues) with STARGATE_RESTART_COUNT=1, the site's
# record counts the lost node, and the killed agent's task does not
# outlive it. Two 1-GPU jobs on an emulated 2-GPU node see different
# CUDA_VISIBLE_DEVICES; two half-GPU jobs share one. Usage: agent_cli.sh
# STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
start_server
for n in a b c; do start_agent "$n" --stop-grace-ms 1000; done
wait_up 3
"$BIN" site list | grep -q "^lab .* 3 *3 *[0-9.]* *0  CPU:3$" || fail "site list: $("$BIN" site list)"

# Ranks and env.
cat > env.yaml <<'YAML'
name: envcheck
resources: {accelerators: CPU:1, nodes: 2}
run: echo "rank=$RANK world=$WORLD_SIZE node_rank=$NODE_RANK local=$LOCAL_RANK master=$MASTER_ADDR:$MASTER_PORT restarts=$STARGATE_RESTART_COUNT" > out.txt
YAML
"$BIN" job submit env.yaml > /dev/null
wait_state 1 succeeded 10
cat w?/tenants/default/jobs/1/out.txt | sort > ranks.txt
grep -q "^rank=0 world=2 node_rank=0 local=0 master=127.0.0.1:[0-9]* restarts=0$" ranks.txt || fail "rank 0 env: $(cat ranks.txt)"
grep -q "^rank=1 world=2 node_rank=1 local=0 master=127.0.0.1:[0-9]* restarts=0$" ranks.txt || fail "rank 1 env"

# Logs: each rank's output through the agent's log server.
printf 'name: talk\nresources: {accelerators: CPU:1, nodes: 2}\nrun: echo "hello from rank $RANK"; sleep 0.3; echo bye\n' > talk.yaml
"$BIN" job submit talk.yaml > /dev/null
"$BIN" job logs 2 --rank 1 -f > talk.out
grep -q "hello from rank 1" talk.out && grep -q "^bye$" talk.out || fail "job logs -f: $(cat talk.out)"
"$BIN" job logs 2 | grep -q "hello from rank 0" || fail "job logs"
if "$BIN" job logs 2 --rank 5 2> /dev/null; then fail "logs of a missing rank exited 0"; fi
wait_state 2 succeeded 10

# A failing rank fails the job and says why.
printf 'name: fails\nrun: exit 3\n' > fails.yaml
"$BIN" job submit fails.yaml > /dev/null
wait_state 3 failed 10
"$BIN" job show 3 | grep -q "reason: *rank 0 on . exited with code 3" || fail "failure reason"

# Cancel stops the process.
printf 'name: sleeper\nrun: echo $$ > pid; exec sleep 300\n' > sleeper.yaml
"$BIN" job submit sleeper.yaml > /dev/null
wait_state 4 running 10
for _ in $(seq 50); do ls w?/tenants/default/jobs/4/pid > /dev/null 2>&1 && break; sleep 0.1; done
SLEEPER=$(cat w?/tenants/default/jobs/4/pid)
kill -0 "$SLEEPER" || fail "sleeper not running"
"$BIN" job cancel 4 > /dev/null
for _ in $(seq 50); do kill -0 "$SLEEPER" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$SLEEPER" 2> /dev/null; then fail "cancelled job still running"; fi

# kill -9 an agent in the middle of a checkpointing 2-node job.
cat > train.yaml <<'YAML'
name: train
resources: {accelerators: CPU:1, nodes: 2}
checkpoint: {interval: 1m}
run: |
  mkdir -p "$STARGATE_CHECKPOINT_DIR"
  step=0
  if [ -f "$STARGATE_CHECKPOINT_DIR/step" ]; then step=$(cat "$STARGATE_CHECKPOINT_DIR/step"); fi
  echo "rank $RANK attempt $STARGATE_ATTEMPT restarts $STARGATE_RESTART_COUNT resumes at step $step on $STARGATE_NODE" >> "$STARGATE_CHECKPOINT_DIR/log"
  echo $$ > pid
  echo "$RANK" > rank
  while [ "$step" -lt 40 ]; do
    step=$((step + 1)); sleep 0.1
    if [ "$RANK" = 0 ]; then echo "$step" > "$STARGATE_CHECKPOINT_DIR/step.tmp"; mv "$STARGATE_CHECKPOINT_DIR/step.tmp" "$STARGATE_CHECKPOINT_DIR/step"; fi
  done
YAML
"$BIN" job submit train.yaml > /dev/null
wait_state 5 running 10
CKPT="$TMP/data/checkpoints/default/5"
for _ in $(seq 100); do [ -f "$CKPT/step" ] && [ "$(cat "$CKPT/step")" -ge 8 ] && break; sleep 0.1; done
VICTIM=""; SURVIVOR=""
for n in a b c; do
  if [ -f "w$n/tenants/default/jobs/5/rank" ]; then
    if [ "$(cat "w$n/tenants/default/jobs/5/rank")" = 0 ]; then VICTIM="$n"; else SURVIVOR="$n"; fi
  fi
done
[ -n "$VICTIM" ] && [ -n "$SURVIVOR" ] || fail "job 5 should run on two nodes"
VICTIM_TASK=$(cat "w$VICTIM/tenants/default/jobs/5/pid")
kill -9 "${AGENT[$VICTIM]}"
for _ in $(seq 30); do kill -0 "$VICTIM_TASK" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$VICTIM_TASK" 2> /dev/null; then fail "the killed agent's task outlived it"; fi
wait_state 5 succeeded 30
"$BIN" job show 5 | grep -q "restarts: *1" || fail "restart count"
grep -q "restarts 1 resumes at step [1-9]" "$CKPT/log" || fail "did not resume from the checkpoint: $(cat "$CKPT/log")"
# Gang repair: the survivor kept its node and rank; a spare took rank 0.
grep -q "^rank 1 attempt 2 restarts 1 .* on $SURVIVOR$" "$CKPT/log" || fail "not repaired in place: $(cat "$CKPT/log")"
grep -q "^rank 0 attempt 2 restarts 1 .* on [^$VICTIM$SURVIVOR]$" "$CKPT/log" || fail "no spare for rank 0: $(cat "$CKPT/log")"
[ "$(cat "$CKPT/step")" = 40 ] || fail "final step $(cat "$CKPT/step")"
"$BIN" node list | grep -q "^$VICTIM .* down " || fail "killed node not down"
"$BIN" site list | grep -q "^lab .* 3 *2 *[0-9.]* *1  CPU:3$" || fail "site record of the lost node: $("$BIN" site list)"
# The server is killed with -9 while a job runs and comes back: the task
# keeps running through the outage, the agents reconcile, and nothing runs
# twice (one start for the one attempt); the agents say when they lost
# the server and when it was back.
cat > long.yaml <<'YAML'
name: long
run: echo "start attempt $STARGATE_ATTEMPT" >> "$STARGATE_WORK_DIR/starts"; sleep 4
YAML
"$BIN" job submit long.yaml > /dev/null
wait_state 6 running 10
SERVER_PID=${PIDS[0]}
kill -9 "$SERVER_PID"
sleep 1.5
"$BIN" server --data-dir data --listen "127.0.0.1:$REST_PORT" --agent-listen "127.0.0.1:$AGENT_PORT" \
  --heartbeat-timeout-ms 1500 >> server.log 2>&1 &
PIDS+=($!)
wait_state 6 succeeded 20
[ "$(cat w?/tenants/default/jobs/6/starts | wc -l)" = 1 ] || fail "job 6 started $(cat w?/tenants/default/jobs/6/starts | wc -l) times"
"$BIN" job show 6 > show6.txt; grep -q "restarts: *0" show6.txt || fail "the server restart restarted the job: $(cat show6.txt)"
grep -q "stargate agent $SURVIVOR: lost the server" "agent-$SURVIVOR.log" || fail "the agent did not say it lost the server"
grep -q "stargate agent $SURVIVOR: the server is back after [0-9.]* s" "agent-$SURVIVOR.log" || fail "the agent did not say the server was back"
# The site's record (one node lost) survived the restart.
"$BIN" site list | grep -q "^lab .* 3 *[23] *[0-9.]* *1  CPU:3$" || fail "site record after the restart: $("$BIN" site list)"

# Devices within a node: two 1-GPU jobs running at once on an emulated
# 2-GPU node see different GPUs.
# (its settings from a config file; the --server flag wins over the file's)
printf 'server: 127.0.0.1:1\nname: g\nsite: gpus\naccelerators: H100:2\nwork_dir: wg\nstop_grace: 1s\n' > g.yaml
printf 'site: gpus\nacelerators: H100:2\n' > bad.yaml
if "$BIN" agent --config bad.yaml 2> bad.err; then fail "a bad agent config was accepted"; fi
grep -q "bad.yaml:2:1: unknown key 'acelerators'" bad.err || fail "bad config message: $(cat bad.err)"
"$BIN" agent --config g.yaml --server "127.0.0.1:$AGENT_PORT" > agent-g.log 2>&1 &
PIDS+=($!)
cat > gpu.yaml <<'YAML'
name: gpu
resources: {accelerators: H100:1}
run: echo "$CUDA_VISIBLE_DEVICES $STARGATE_DEVICES $CUDA_DEVICE_ORDER" > "$STARGATE_WORK_DIR/cvd"; sleep 2
YAML
# (Submitted once the node has joined: a job no known node can run is refused.)
for _ in $(seq 100); do "$BIN" node list | grep -q "^g .* up " && break; sleep 0.1; done
"$BIN" job submit gpu.yaml > /dev/null
"$BIN" job submit gpu.yaml > /dev/null
wait_state 7 running 10
wait_state 8 running 10
wait_state 7 succeeded 20
wait_state 8 succeeded 20
[ "$(cat wg/tenants/default/jobs/7/cvd wg/tenants/default/jobs/8/cvd | sort | tr '\n' ';')" = "0 0 PCI_BUS_ID;1 1 PCI_BUS_ID;" ] ||
  fail "GPU assignment: $(cat wg/tenants/default/jobs/7/cvd wg/tenants/default/jobs/8/cvd)"

# Shares of one device: two half-GPU jobs run at once on one GPU, packed
# into one slot; a whole-GPU job beside them gets the other.
cat > half.yaml <<'YAML'
name: half
resources: {accelerators: 'H100:0.5'}
run: echo "$CUDA_VISIBLE_DEVICES $STARGATE_GPU_SHARE $STARGATE_GPU_SHARE_SLOT" > "$STARGATE_WORK_DIR/cvd"; sleep 2
YAML
"$BIN" job submit half.yaml > /dev/null
"$BIN" job submit half.yaml > /dev/null
"$BIN" job submit gpu.yaml > /dev/null
for j in 9 10 11; do wait_state "$j" running 10; done
"$BIN" job show 9 -o json | python3 -c 'import json, sys; assert json.load(sys.stdin)["share"] == {"of_device": 0.5, "slot": 0}' ||
  fail "job show share: $("$BIN" job show 9 -o json)"
for j in 9 10 11; do wait_state "$j" succeeded 20; done
[ "$(cat wg/tenants/default/jobs/9/cvd wg/tenants/default/jobs/10/cvd wg/tenants/default/jobs/11/cvd | tr '\n' ';')" = "0 0.500 0;0 0.500 0;1 1 PCI_BUS_ID;" ] ||
  fail "shares: $(cat wg/tenants/default/jobs/{9,10,11}/cvd)"

# Lists a page at a time, filtered, or one row per region.
[ "$("$BIN" site list --limit 1 | wc -l)" = 2 ] || fail "site list --limit 1: $("$BIN" site list --limit 1)"
[ "$("$BIN" node list --site gpus -o name)" = "node/g" ] || fail "node list --site: $("$BIN" node list --site gpus -o name)"
"$BIN" site list --by jurisdiction -o json | python3 -c 'import json, sys; assert sum(g["sites"] for g in json.load(sys.stdin)["jurisdictions"]) == 2' ||
  fail "site list --by: $("$BIN" site list --by jurisdiction -o json)"
if "$BIN" site list --by planet 2> /dev/null; then fail "site list --by planet exited 0"; fi

echo "agent CLI: ok ($(grep -c . "$CKPT/log") rank starts; $(grep 'restarts 1' "$CKPT/log" | head -n 1))"
