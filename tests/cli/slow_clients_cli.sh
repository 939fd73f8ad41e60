#!/usr/bin/env bash
# A responsive API under slow and idle clients (issue 17): 500 idle
# connections and 50 that send their headers a byte every 200 ms (and
# reconnect when the server drops them), with tokens on; for 12 s (past
# the 10 s read deadline) a fresh GET /v1/health every 100 ms must answer
# within 1 s, and a job can be submitted. Prints the worst latency seen.
# Usage: slow_clients_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
cat > tokens.yaml <<'YAML'
tokens:
  - {token: admin-token-0123456789, name: ops, role: admin}
YAML
start_server --tokens tokens.yaml
export STARGATE_TOKEN=admin-token-0123456789
/usr/bin/python3 - "$REST_PORT" > probe.out <<'PY' || fail "the API stalled: $(cat probe.out)"
import socket, sys, time
port = int(sys.argv[1])
def connect():
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s
idle = [connect() for _ in range(500)]
head = b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin-token-0123456789\r\nX-Pad: " + b"a" * 4000
slow = [[connect(), 0] for _ in range(50)]
worst, probes, start, dropped = 0.0, 0, time.time(), 0
while time.time() - start < 12:
    for s in slow:  # one more byte each; a connection the server closed is opened again
        try:
            s[0].send(head[s[1] % len(head):s[1] % len(head) + 1])
            s[1] += 1
        except OSError:
            dropped += 1
            s[0].close()
            s[0], s[1] = connect(), 0
    t = time.time()
    c = socket.create_connection(("127.0.0.1", port), timeout=2)
    c.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        answer += chunk
    c.close()
    took = time.time() - t
    worst = max(worst, took)
    probes += 1
    if not answer.startswith(b"HTTP/1.1 200") or took > 1.0:
        print(f"probe {probes}: {took:.3f} s: {answer[:60]!r}")
        sys.exit(1)
    time.sleep(0.1)
print(f"{probes} health probes with 500 idle and 50 slow-header connections open: worst {worst * 1000:.1f} ms; "
      f"slow connections dropped by the read deadline: {dropped}")
PY
cat probe.out
grep -q "dropped by the read deadline: [1-9]" probe.out || fail "the read deadline never dropped a slow client"
printf 'name: s\nrun: "true"\n' > s.yaml
"$BIN" job submit s.yaml > /dev/null || fail "no submit after the slow clients"
echo "slow clients CLI: ok"
