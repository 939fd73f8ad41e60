#!/usr/bin/env bash
# Checkpoints across sites (issue 22), end to end: two EU sites in two
# network namespaces joined by a shaped link (tc: 20 Mbit/s, 25 ms each
# way), two nodes each, and a US site. A 2-node PyTorch DDP training job
# (examples/workloads/train_ddp.py; jurisdictions [EU],
# checkpoint.replicas: {sites: 2}) checkpoints at its site; the agents
# copy each complete checkpoint to the other EU site's store over the
# link (at the sites' wan_bandwidth); the whole first site is killed and
# the job resumes at the other site from the copy, at the copy's step,
# and trains on there.
# A US-only job with the same policy is refused at submit (one US site);
# queued anyway, its checkpoints never leave site-c (each refusal
# audited), and when site-c dies it waits for it and resumes there.
# Skipped (exit 77) without root, network namespaces, or torch in
# /usr/bin/python3 (scripts/install-deps.sh installs it).
# Usage: checkpoint_wan_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
ROOT="$(cd "$2" && pwd)"
/usr/bin/python3 -c "import torch, sklearn" 2> /dev/null || { echo "SKIP: /usr/bin/python3 has no torch"; exit 77; }
source "$(dirname "$0")/lib/wan.bash"
wan_test sgc
wan_link "$A" "$B" 20mbit 25ms
mkdir -p store-a store-b store-c && chmod 0755 store-a store-b store-c
# wan_bandwidth 16 Mbit/s: copies go at 2 MB/s, under the link's 20 Mbit/s.
cat > sites.yaml <<YAML
sites:
  - {name: site-a, latitude: 50.1, longitude: 8.7, wan_bandwidth: 16Mbps}
  - {name: site-b, latitude: 53.3, longitude: -6.3, wan_bandwidth: 16Mbps}
  - {name: site-c, latitude: 39.0, longitude: -77.5}
YAML
ip netns exec "$A" "$BIN" server --data-dir data --listen 10.231.0.1:0 --agent-listen 10.231.0.1:0 --port-file port \
  --heartbeat-timeout-ms 2000 --site-partition-grace-s 0 --sites sites.yaml > server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || fail "server did not start"
read -r REST_PORT AGENT_PORT < port
declare -A AGENT SITE_OF
agent() {  # agent NAME NAMESPACE ADDRESS SITE JURISDICTION
  local n="$1" ns="$2" addr="$3" site="$4" j="$5"
  ip netns exec "$ns" "$BIN" agent --server "10.231.0.1:$AGENT_PORT" --name "$n" --site "$site" --jurisdiction "$j" \
    --address "$addr" --checkpoint-root "$TMP/store-${site#site-}" --work-dir "w$n" >> "agent-$n.log" 2>&1 &
  AGENT[$n]=$!
  SITE_OF[$n]=$site
  PIDS+=($!)
}
agent a1 "$A" 10.231.0.1 site-a EU
agent a2 "$A" 10.231.0.1 site-a EU
agent b1 "$B" 10.231.0.2 site-b EU
agent b2 "$B" 10.231.0.2 site-b EU
agent c1 "$A" 10.231.0.1 site-c US
export STARGATE_SERVER="http://10.231.0.1:$REST_PORT"
cli() { ip netns exec "$A" "$BIN" "$@"; }
# audit JOB: the job's audit entries, "action: detail" a line.
audit() {
  ip netns exec "$A" curl -s -m 5 "$STARGATE_SERVER/v1/audit?job=$1&limit=1000" | /usr/bin/python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    print(e["action"] + ": " + e["detail"])'
}
for _ in $(seq 100); do [ "$(cli node list | grep -c ' up ')" = 5 ] && break; sleep 0.1; done
[ "$(cli node list | grep -c ' up ')" = 5 ] || fail "five nodes should be up: $(cli node list)"

# A training loop in shell: resumes from the newest complete checkpoint;
# rank 0 writes a 2 MB checkpoint every 40 steps, sealed, keeping two.
job() {  # job NAME NODES JURISDICTION
  cat <<YAML
name: $1
resources: {accelerators: CPU:1, nodes: $2}
placement: {jurisdictions: [$3]}
checkpoint: {dir: $1, interval: 10m, replicas: {sites: 2}, keep: 2}
run: |
  set -e
  step=0
  if latest=\$("$BIN" checkpoint latest -q "\$STARGATE_CHECKPOINT_DIR" 2> /dev/null); then
    step=\$(cat "\$latest/step.txt")
    echo "rank \$RANK resumed at step \$step from \$latest"
  else
    echo "rank \$RANK starts at step 0"
  fi
  while [ "\$step" -lt 100000 ]; do
    step=\$((step + 1))
    sleep 0.05
    if [ "\$RANK" = 0 ] && [ \$((step % 40)) = 0 ]; then
      t="\$STARGATE_CHECKPOINT_DIR/.tmp-\$step"
      mkdir -p "\$t"
      head -c 2000000 /dev/urandom > "\$t/model.bin"
      echo "\$step" > "\$t/step.txt"
      "$BIN" checkpoint seal "\$t" --step "\$step" > /dev/null
      mv "\$t" "\$STARGATE_CHECKPOINT_DIR/step-\$(printf %012d "\$step")"
      ls -d "\$STARGATE_CHECKPOINT_DIR"/step-* | head -n -2 | xargs -r rm -rf
    fi
  done
YAML
}
# The EU job: DDP over gloo, two ranks, a checkpoint (model, optimizer,
# step; sealed with its manifest) every 40 steps; it resumes from the
# newest complete one in its site's store.
cat > eu.yaml <<YAML
name: eu-train
kind: training
resources: {accelerators: CPU:1, nodes: 2}
placement: {jurisdictions: [EU]}
checkpoint: {dir: eu-train, interval: 10m, replicas: {sites: 2}, keep: 2}
run: exec /usr/bin/python3 $ROOT/examples/workloads/train_ddp.py --steps 100000 --ckpt-every 40 --step-sleep 0.05 --log-every 1000
YAML
job us-train 1 US > us.yaml
set +e
cli job submit us.yaml > us-refused.out 2>&1
rc=$?
set -e
[ "$rc" != 0 ] && grep -q "checkpoint.replicas wants 2 sites inside \[US\].*at 1 site(s) (site-c); outside them: site-a (EU), site-b (EU)" us-refused.out ||
  fail "the US job should be refused at submit: rc=$rc $(cat us-refused.out)"
EU=$(cli job submit -q eu.yaml)
US=$(cli job submit -q --allow-pending us.yaml)

# json JOB EXPR: a Python expression over the job's JSON (`j`).
json() { cli job show "$1" -o json | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print($2)"; }
for _ in $(seq 300); do [ "$(json "$EU" 'j["state"]')" = running ] && break; sleep 0.1; done
HOME_SITE=${SITE_OF[$(json "$EU" 'j["placement"][0]')]}
OTHER=site-a
[ "$HOME_SITE" = site-a ] && OTHER=site-b
echo "the EU job runs at $HOME_SITE; its copies go to $OTHER"
# Two checkpoints copied to the other EU site.
held() { json "$1" "j['checkpoints']['sites'].get('$2', {}).get('step', -1)"; }
for _ in $(seq 600); do [ "$(held "$EU" "$OTHER")" -ge 80 ] && break; sleep 0.1; done
[ "$(held "$EU" "$OTHER")" -ge 80 ] || fail "no copy at $OTHER: $(cli job show "$EU")"
cli job show "$EU" > eu-show.txt
grep -q "^checkpoints: .*$OTHER step" eu-show.txt || fail "job show: $(cat eu-show.txt)"
grep -Eq "^  $OTHER step [0-9]+ from $HOME_SITE: (done \([0-9.]+ MB in|copying [0-9.]+ MB of [0-9.]+ MB)" eu-show.txt ||
  fail "job show copies: $(cat eu-show.txt)"
ip netns exec "$A" curl -s -m 5 "$STARGATE_SERVER/metrics" > metrics.txt
grep -Eq '^stargate_checkpoint_copies_total\{result="done"\} [1-9]' metrics.txt || fail "metrics: $(grep checkpoint metrics.txt)"
audit "$EU" > eu-audit.txt
rate=$(sed -n 's/^checkpoint-copied:.*(\([0-9.]*\) MB\/s).*/\1/p' eu-audit.txt | tail -1)
[ -n "$rate" ] || fail "no copy audited: $(cat eu-audit.txt)"
/usr/bin/python3 -c "import sys; sys.exit(0 if float('$rate') <= 2.4 else 1)" || fail "copied at $rate MB/s, over 2 MB/s"
echo "copied over the link at $rate MB/s (wan_bandwidth 16 Mbit/s = 2 MB/s, $WAN_LINK)"
# The copy is complete by its manifest, in the other site's store.
OTHER_AREA="store-${OTHER#site-}/default/eu-train"
cli checkpoint verify "$(cli checkpoint latest -q "$OTHER_AREA")" > /dev/null || fail "the copy does not verify"
# The US job's checkpoints never left site-c, and each refusal is audited.
for _ in $(seq 300); do [ "$(held "$US" site-c)" -ge 40 ] && break; sleep 0.1; done
[ "$(held "$US" site-c)" -ge 40 ] || fail "the US job has no checkpoint: $(cli job show "$US")"
audit "$US" > us-audit.txt
for s in site-a site-b; do
  grep -q "^checkpoint-copy-refused: .*site $s: its jurisdiction EU is outside the job's \[US\]" us-audit.txt ||
    fail "no refusal audited for $s: $(cat us-audit.txt)"
done
[ ! -e store-a/default/us-train ] && [ ! -e store-b/default/us-train ] ||
  fail "the US job's checkpoints reached an EU store: $(ls store-a/default store-b/default)"
[ ! -e store-c/default/eu-train ] || fail "the EU job's checkpoints reached the US store"

# The whole first site dies; the job resumes at the other from the copy.
for n in "${!SITE_OF[@]}"; do
  if [ "${SITE_OF[$n]}" = "$HOME_SITE" ]; then { kill -9 "${AGENT[$n]}" && wait "${AGENT[$n]}"; } 2> /dev/null || true; fi
done
sleep 1  # a copy in flight from the dead site ends there
S=$(basename "$(cli checkpoint latest -q "$OTHER_AREA")" | sed 's/^step-0*//')
for _ in $(seq 300); do
  [ "$(json "$EU" 'j["attempt"]')" -ge 2 ] && [ "$(json "$EU" 'j["state"]')" = running ] && break
  sleep 0.1
done
[ "$(json "$EU" 'j["attempt"]')" -ge 2 ] || fail "the EU job did not restart: $(cli job show "$EU")"
placed=$(json "$EU" "' '.join(j['placement'])")
for n in $placed; do
  [ "${SITE_OF[$n]}" = "$OTHER" ] || fail "the EU job restarted on $n, not at $OTHER"
done
for _ in $(seq 300); do cli job logs "$EU" 2> /dev/null | grep -q "resuming at step" && break; sleep 0.1; done
cli job logs "$EU" > eu-logs.txt 2>&1 || true
grep -q "^rank 0 of 2 .*; resuming at step $S$" eu-logs.txt ||
  fail "the job should resume at step $S at $OTHER: $(grep -i resum eu-logs.txt)"
# It trains on there: a newer checkpoint in the other site's store.
for _ in $(seq 300); do
  [ "$(basename "$(cli checkpoint latest -q "$OTHER_AREA")" | sed 's/^step-0*//')" -gt "$S" ] && break
  sleep 0.1
done
[ "$(basename "$(cli checkpoint latest -q "$OTHER_AREA")" | sed 's/^step-0*//')" -gt "$S" ] ||
  fail "no checkpoint after step $S at $OTHER: $(ls "$OTHER_AREA")"
echo "site $HOME_SITE killed: job $EU resumed at $OTHER from the copy of step $S and trains on"

# site-c dies: the US job waits for it (no other US site), then resumes there.
U=$(held "$US" site-c)
{ kill -9 "${AGENT[c1]}" && wait "${AGENT[c1]}"; } 2> /dev/null || true
for _ in $(seq 100); do [ "$(json "$US" 'j["state"]')" = pending ] && break; sleep 0.1; done
[ "$(json "$US" 'j["state"]')" = pending ] || fail "the US job should wait: $(cli job show "$US")"
sleep 2
[ "$(json "$US" 'j["state"]')" = pending ] || fail "the US job ran elsewhere: $(cli job show "$US")"
agent c1 "$A" 10.231.0.1 site-c US
for _ in $(seq 300); do
  [ "$(json "$US" 'j["state"]')" = running ] && cli job logs "$US" 2> /dev/null | grep -q "resumed at step" && break
  sleep 0.1
done
cli job logs "$US" > us-logs.txt 2>&1 || true
grep -q "rank 0 resumed at step [0-9]* from $TMP/store-c/default/us-train/step-" us-logs.txt ||
  fail "the US job should resume at site-c: $(cli job show "$US") $(head -3 us-logs.txt)"
[ ! -e store-a/default/us-train ] && [ ! -e store-b/default/us-train ] || fail "a US checkpoint left site-c"
[ "$(grep -c "checkpoint-copied\|checkpoint-staged" <(audit "$US"))" = 0 ] || fail "a US checkpoint was copied"
echo "site-c killed: job $US waited and resumed at site-c from step $(sed -n 's/.*resumed at step \([0-9]*\).*/\1/p' us-logs.txt) (had $U)"
echo "checkpoint WAN CLI: ok"
