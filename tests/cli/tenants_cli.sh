#!/usr/bin/env bash
# Isolated tenants (issue 17): an agent run as root runs each task as its
# tenant's Unix user (sg-<tenant>, made on first use) with private work,
# checkpoint and log areas. Tenant beta's job tries to read alpha's work
# dir, log, checkpoints and process environment, and to signal alpha's
# process: each is refused, and alpha's job runs on. A checkpoint.dir
# outside the tenant's area is a 400 naming the field.
# Skipped (77) unless root (users are made with useradd).
# Usage: tenants_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
start_server
start_agent a --accelerators CPU:2 --tenant-users on
wait_up 1
cat > alpha.yaml <<'YAML'
name: alpha
tenant: alpha
checkpoint: {interval: 1h}
env: {SECRET: alpha-env-secret}
run: |
  echo "alpha secret" > secret.txt
  mkdir -p "$STARGATE_CHECKPOINT_DIR" && echo "alpha ckpt" > "$STARGATE_CHECKPOINT_DIR/ckpt"
  echo "alpha log secret as $(id -un)"
  exec sleep 300
YAML
cat > beta.yaml <<'YAML'
name: beta
tenant: beta
checkpoint: {interval: 1h}
run: |
  try() { if "$@" > /dev/null 2>&1; then echo "LEAK: $*"; else echo "denied: $*"; fi; }
  W=${STARGATE_WORK_DIR%/tenants/*}
  C=${STARGATE_CHECKPOINT_DIR%/checkpoints/*}/checkpoints
  P=$(pgrep -u sg-alpha -x sleep | head -1)
  echo "beta runs as $(id -un); alpha's pid: ${P:-none}"
  try cat "$W/tenants/alpha/jobs/1/secret.txt"
  try ls "$W/tenants/alpha"
  try cat "$W/logs/job-1-attempt-1.log"
  try cat "$C/alpha/1/ckpt"
  try ls "$C/alpha"
  try touch "$C/alpha/1/planted"
  try grep -q alpha-env-secret "/proc/$P/environ"
  try kill -0 "$P"
  try kill -TERM "$P"
  echo "beta done"
YAML
"$BIN" job submit alpha.yaml > /dev/null
wait_state 1 running 20
for _ in $(seq 50); do [ -f "$TMP/data/checkpoints/alpha/1/ckpt" ] && break; sleep 0.1; done
[ -f "$TMP/data/checkpoints/alpha/1/ckpt" ] || fail "alpha never checkpointed"
"$BIN" job submit beta.yaml > /dev/null
wait_state 2 succeeded 20
"$BIN" job logs 2 > beta.out
cat beta.out
grep -q "beta runs as sg-beta; alpha's pid: [0-9]" beta.out || fail "beta's user, or alpha's pid: $(cat beta.out)"
grep -q "LEAK" beta.out && fail "beta reached alpha: $(grep LEAK beta.out)"
[ "$(grep -c '^denied: ' beta.out)" = 9 ] || fail "not every attempt was refused: $(cat beta.out)"
wait_state 1 running 1
"$BIN" job logs 1 | grep -q "alpha log secret as sg-alpha" || fail "alpha's user: $("$BIN" job logs 1)"
[ "$(stat -c '%U %a' wa/tenants/alpha)" = "sg-alpha 700" ] || fail "alpha's area: $(stat -c '%U %a' wa/tenants/alpha)"
[ "$(stat -c '%U %a' data/checkpoints/alpha)" = "sg-alpha 700" ] || fail "alpha's checkpoints: $(stat -c '%U %a' data/checkpoints/alpha)"
[ "$(stat -c '%a' wa/logs/job-1-attempt-1.log)" = 600 ] || fail "alpha's log is readable"
# checkpoint.dir cannot point into another tenant's area.
printf 'name: sneak\ntenant: beta\ncheckpoint: {dir: ../alpha/1}\nrun: "true"\n' > sneak.yaml
if "$BIN" job submit sneak.yaml 2> err.txt; then fail "checkpoint.dir outside the tenant's area was accepted"; fi
grep -q "checkpoint.dir" err.txt || fail "sneak: $(cat err.txt)"
"$BIN" job cancel 1 > /dev/null
echo "tenants CLI: ok"
