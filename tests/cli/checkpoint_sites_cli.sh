#!/usr/bin/env bash
# Per-site checkpoint stores (issue 22): each site's agents declare where
# its checkpoint store is mounted (`stargate agent --checkpoint-root`, or
# checkpoint_root: in the agent file); a job placed at a site checkpoints
# under <root>/<tenant>/ there, seals a checkpoint with `stargate checkpoint
# seal`, and `checkpoint latest` finds it. A node with no root uses the
# server's data dir, as on one machine; a relative root is refused.
# Usage: checkpoint_sites_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"

mkdir -p store-us store-eu && chmod 0755 store-us store-eu
start_server
site_agent() {  # site_agent NAME SITE [FLAGS...]: a CPU node of its own site
  local n="$1" site="$2"; shift 2
  "$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name "$n" --site "$site" --work-dir "w$n" "$@" >> "agent-$n.log" 2>&1 &
  AGENT[$n]=$!
  PIDS+=($!)
}
site_agent us site-us --jurisdiction US --checkpoint-root "$TMP/store-us"
printf 'jurisdiction: EU\ncheckpoint_root: %s\n' "$TMP/store-eu" > eu.yaml
site_agent eu site-eu --config eu.yaml
site_agent plain site-jp --jurisdiction JP
wait_up 3
for j in US EU JP; do
  cat > "job-$j.yaml" <<YAML
name: ckpt-$j
placement: {jurisdictions: [$j]}
checkpoint: {dir: run}
run: |
  set -e
  mkdir -p "\$STARGATE_CHECKPOINT_DIR/.tmp"
  echo "weights of $j" > "\$STARGATE_CHECKPOINT_DIR/.tmp/model.bin"
  "$BIN" checkpoint seal "\$STARGATE_CHECKPOINT_DIR/.tmp" --step 42
  mv "\$STARGATE_CHECKPOINT_DIR/.tmp" "\$STARGATE_CHECKPOINT_DIR/step-000000000042"
  echo "dir \$STARGATE_CHECKPOINT_DIR"
YAML
done
US=$("$BIN" job submit -q job-US.yaml)
EU=$("$BIN" job submit -q job-EU.yaml)
JP=$("$BIN" job submit -q job-JP.yaml)
wait_state "$US" succeeded 30
wait_state "$EU" succeeded 30
wait_state "$JP" succeeded 30
"$BIN" job logs "$US" | grep -q "dir $TMP/store-us/default/run" || fail "US: $("$BIN" job logs "$US")"
"$BIN" job logs "$EU" | grep -q "dir $TMP/store-eu/default/run" || fail "EU: $("$BIN" job logs "$EU")"
"$BIN" job logs "$JP" | grep -q "dir $TMP/data/checkpoints/default/run" || fail "JP: $("$BIN" job logs "$JP")"
for s in us eu; do
  [ "$("$BIN" checkpoint latest -q "store-$s/default/run")" = "store-$s/default/run/step-000000000042" ] ||
    fail "no complete checkpoint in store-$s"
done
grep -q "weights of EU" store-eu/default/run/step-000000000042/model.bin || fail "the EU checkpoint's content"
[ -e store-us/default/run/step-000000000042/model.bin ] && ! grep -q EU store-us/default/run/step-000000000042/model.bin ||
  fail "the US store holds the EU job's checkpoint"
"$BIN" node list -o json | grep -q "\"checkpoint_root\": \"$TMP/store-eu\"" || fail "node list does not show the root"
# A relative root is refused before the agent starts.
set +e
"$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name bad --site lab --checkpoint-root ckpt > bad.out 2>&1
rc=$?
set -e
[ "$rc" != 0 ] && grep -q "checkpoint_root: expected an absolute path" bad.out || fail "a relative root: rc=$rc $(cat bad.out)"
echo "checkpoint sites CLI: ok"
