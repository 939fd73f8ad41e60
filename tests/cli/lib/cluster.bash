# Shared by the end-to-end CLI tests (sourced, not a test itself): a
# temporary directory that is removed on exit with every process the test
# started, a server on loopback, agents of one site, and job waits.
# Expects BIN (the stargate binary). Provides TMP, PIDS, AGENT[name],
# REST_PORT, AGENT_PORT, STARGATE_SERVER, free_ports.
TMP="$(mktemp -d)"
# Agents run as root switch each task to its tenant's user (sg-<tenant>):
# the scratch dir is shared (sticky, like /tmp) so jobs can reach their
# work dirs and write the files the tests read.
chmod 1777 "$TMP"
PIDS=()
declare -A AGENT
# end_tasks: SIGKILL to every process in the task cgroups of the agents
# start_agent made (control/agent/task_cgroups.h: stargate/<node>-<first
# 12 hex of sha256(work dir)>/job-*), in each hierarchy: an agent killed
# with -9 leaves its tasks' children running, out of any process group.
end_tasks() {
  local n g
  for n in "${!AGENT[@]}"; do
    g="$n-$(printf '%s' "$TMP/w$n" | sha256sum | cut -c1-12)"
    for f in /sys/fs/cgroup/stargate/$g/*/cgroup.kill /sys/fs/cgroup/unified/stargate/$g/*/cgroup.kill; do
      [ -e "$f" ] && echo 1 > "$f" 2> /dev/null
    done
    for p in $(cat /sys/fs/cgroup/pids/stargate/$g/*/cgroup.procs 2> /dev/null); do kill -9 "$p" 2> /dev/null; done
  done
  return 0
}
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done
  end_tasks
  rm -rf "$TMP"
}
trap cleanup EXIT
# fail MESSAGE: says why, with the logs and (if the server answers) its
# audit trail, which gives the reason of every placement and restart.
fail() {
  echo "FAIL: $*" >&2
  tail -n 30 "$TMP"/*.log >&2 || true
  if [ -n "${STARGATE_SERVER:-}" ]; then
    echo "==> audit trail (last 40) <==" >&2
    curl -s -m 2 "$STARGATE_SERVER/v1/audit?limit=40" 2> /dev/null | /usr/bin/python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    print(e["unix_ms"], e["actor"], e["action"], e["job"], e["detail"])' >&2 || true
  fi
  exit 1
}
cd "$TMP"

# free_ports N: N free loopback TCP ports, space-separated.
free_ports() {
  /usr/bin/python3 -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])' "$1"
}

# free_port_run N: the first of N consecutive free loopback ports, below
# the kernel's ephemeral range (32768+), so no client connection of a test
# running beside this one takes one of them meanwhile (free_ports' ports
# are ephemeral: fine alone, not for a run a program fills in later).
free_port_run() {
  /usr/bin/python3 -c '
import random, socket, sys
n = int(sys.argv[1])
for _ in range(1000):
    base = random.randrange(20000, 32000 - n)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(base); break' "$1"
}

# start_server [SERVER FLAGS...]: in $TMP/data, ports chosen by the kernel.
start_server() {
  "$BIN" server --data-dir data --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 --port-file port \
    --heartbeat-timeout-ms 1500 "$@" > server.log 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
  [ -s port ] || fail "server did not start"
  read -r REST_PORT AGENT_PORT < port
  export STARGATE_SERVER="http://127.0.0.1:$REST_PORT"
}

# start_agent NAME [AGENT FLAGS...]: a CPU node of site "lab" working in wNAME.
start_agent() {
  local n="$1"; shift
  "$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name "$n" --site lab --work-dir "w$n" "$@" >> "agent-$n.log" 2>&1 &
  AGENT[$n]=$!
  PIDS+=($!)
}

# wait_up N: until N nodes are up (10 s at most).
wait_up() {
  for _ in $(seq 100); do [ "$("$BIN" node list | grep -c ' up ')" = "$1" ] && return 0; sleep 0.1; done
  fail "$1 nodes should be up: $("$BIN" node list)"
}

# wait_state JOB STATE SECONDS
wait_state() {
  for _ in $(seq $(( $3 * 10 ))); do
    "$BIN" job list | grep -Eq "^ *$1 .* $2 " && return 0
    sleep 0.1
  done
  "$BIN" job show "$1" >&2 || true
  fail "job $1 did not reach $2 in $3 s"
}
