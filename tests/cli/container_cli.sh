#!/usr/bin/env bash
# Containers (issue 17): `image:` runs the task with Debian's podman (runc,
# cgroupfs) as the tenant's user, with its checkpoint area mounted. The
# image is built here: `podman import` of a root filesystem of binaries
# from this host's Debian packages (bash, coreutils), never a registry.
# The job checkpoints, its agent is killed with -9 (the container goes
# on: it is conmon's, not the agent's), the restarted agent ends it with
# its cgroup, and attempt 2 resumes from the checkpoint in a new container.
# Skipped (77) without root or podman (scripts/install-deps.sh installs it).
# Usage: container_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
{ [ "$(id -u)" = 0 ] && command -v podman > /dev/null; } || { echo "SKIP: needs root and podman"; exit 77; }
IMAGE="localhost/stargate-test:$$"
end_all() {
  end_tasks  # the container's processes sit in its task's cgroup
  podman ps -a --format '{{.ID}} {{.Image}}' 2> /dev/null | awk -v i="$IMAGE" '$2 == i {print $1}' |
    xargs -r podman rm -f > /dev/null 2>&1 || true
  podman rmi -f "$IMAGE" > /dev/null 2>&1 || true
  cleanup
}
trap end_all EXIT
R="$TMP/rootfs"
mkdir -p "$R/tmp" "$R/etc"
chmod 1777 "$R/tmp"
for b in /bin/bash /bin/cat /bin/sleep /bin/mkdir /bin/mv /bin/date /usr/bin/id /bin/ls; do
  cp --parents -L "$b" "$R"
  for l in $(ldd "$b" | grep -o '/[^ ]*'); do cp --parents -L "$l" "$R"; done
done
echo "stargate-test-image" > "$R/etc/stargate-image"
tar -C "$R" -c . | podman import - "$IMAGE" > import.log 2>&1 || fail "podman import: $(cat import.log)"
start_server
start_agent a --stop-grace-ms 3000
wait_up 1
cat > boxed.yaml <<YAML
name: boxed
tenant: box
image: $IMAGE
checkpoint: {interval: 1h}
run: |
  step=0
  if [ -f "\$STARGATE_CHECKPOINT_DIR/step" ]; then step=\$(cat "\$STARGATE_CHECKPOINT_DIR/step"); fi
  echo "attempt \$STARGATE_ATTEMPT resuming at step \$step in \$(cat /etc/stargate-image) as \$(id -u)"
  while [ "\$step" -lt 60 ]; do
    step=\$((step + 1))
    echo "\$step" > "\$STARGATE_CHECKPOINT_DIR/step.tmp" && mv "\$STARGATE_CHECKPOINT_DIR/step.tmp" "\$STARGATE_CHECKPOINT_DIR/step"
    sleep 0.1
  done
  echo "done at step \$step"
YAML
"$BIN" job submit boxed.yaml > /dev/null
wait_state 1 running 20
STEP="$TMP/data/checkpoints/box/1/step"
for _ in $(seq 200); do [ -f "$STEP" ] && [ "$(cat "$STEP")" -ge 10 ] && break; sleep 0.1; done
[ -f "$STEP" ] && [ "$(cat "$STEP")" -ge 10 ] || fail "the container never checkpointed: $("$BIN" job logs 1)"
"$BIN" job logs 1 | grep -q "attempt 1 resuming at step 0 in stargate-test-image as $(id -u sg-box)" ||
  fail "not in the image as the tenant's user: $("$BIN" job logs 1)"
kill -9 "${AGENT[a]}"; wait "${AGENT[a]}" 2> /dev/null || true
before=$(cat "$STEP"); sleep 0.6
[ "$(cat "$STEP")" -gt "$before" ] || fail "the container died with the agent: nothing to prove"
start_agent a --stop-grace-ms 3000
wait_state 1 succeeded 60
"$BIN" job show 1 | grep -q "attempt: *2" || fail "job 1: $("$BIN" job show 1)"
"$BIN" job logs 1 > boxed.out
RESUMED=$(sed -n 's/^attempt 2 resuming at step \([0-9]*\) .*/\1/p' boxed.out)
[ -n "$RESUMED" ] && [ "$RESUMED" -ge 10 ] || fail "attempt 2 did not resume: $(cat boxed.out)"
grep -q "done at step 60" boxed.out || fail "attempt 2 did not finish: $(cat boxed.out)"
grep -q "ending job 1 attempt 1, left running by an earlier agent" agent-a.log || fail "$(cat agent-a.log)"
echo "container: attempt 2 resumed at step $RESUMED"
echo "container CLI: ok"
