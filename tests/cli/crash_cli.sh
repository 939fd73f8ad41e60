#!/usr/bin/env bash
# Crash test (issue 17): 300 keyed submissions of multi-line jobs whose
# children write (job, attempt) ticks with O_APPEND, while the server is
# killed with -9 (and restarted) 10 times and agent a twice. Afterwards:
# every acknowledged job exists exactly once (one per key, none lost) and
# succeeded, and no (job, attempt) ever ran twice, nor two attempts of one
# job at once. Skipped (77) where cgroups cannot be written (not root).
# Usage: crash_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (cgroups)"; exit 77; }
start_server
SERVER=${PIDS[0]}
restart_server() {
  "$BIN" server --data-dir data --listen "127.0.0.1:$REST_PORT" --agent-listen "127.0.0.1:$AGENT_PORT" \
    --heartbeat-timeout-ms 1500 >> server.log 2>&1 &
  SERVER=$!
  PIDS+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null -m 1 "$STARGATE_SERVER/v1/health" && return 0; sleep 0.05; done
  fail "the server did not come back"
}
start_agent a --accelerators CPU:4
start_agent b --accelerators CPU:4
wait_up 2
mkdir -m 1777 shared
/usr/bin/python3 - "$STARGATE_SERVER" "$TMP/shared/ticks" > submit.out 2>&1 <<'PY' &
import json, sys, time, urllib.request, urllib.error
url, ticks = sys.argv[1], sys.argv[2]
acked = {}
for i in range(300):
    body = (f"name: c{i}\nrun: |\n"
            f"  ( for t in 1 2 3 4 5 6; do echo \"$STARGATE_JOB_ID $STARGATE_ATTEMPT $(date +%s%N)\" >> {ticks}; sleep 0.05; done ) &\n"
            f"  wait\n").encode()
    deadline = time.time() + 60
    while True:
        req = urllib.request.Request(url + "/v1/jobs", data=body, method="POST",
                                     headers={"Idempotency-Key": f"crash-{i}", "X-Filename": f"c{i}.yaml"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                acked[f"crash-{i}"] = json.load(r)["job"]["id"]
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            if isinstance(e, urllib.error.HTTPError) and e.code < 500:
                print(f"crash-{i}: HTTP {e.code}: {e.read()[:200]}"); sys.exit(1)
            if time.time() > deadline:
                print(f"crash-{i}: no answer for 60 s: {e}"); sys.exit(1)
            time.sleep(0.05)
json.dump(acked, open("acked.json", "w"))
print(f"{len(acked)} acknowledged")
PY
SUBMITTER=$!
PIDS+=($SUBMITTER)
for k in $(seq 10); do
  sleep 1
  kill -9 "$SERVER"; wait "$SERVER" 2> /dev/null || true
  if [ "$k" = 3 ] || [ "$k" = 7 ]; then
    kill -9 "${AGENT[a]}"; wait "${AGENT[a]}" 2> /dev/null || true
    start_agent a --accelerators CPU:4
  fi
  restart_server
done
wait "$SUBMITTER" || fail "submitting: $(cat submit.out)"
grep -q "^300 acknowledged" submit.out || fail "$(cat submit.out)"
for _ in $(seq 600); do
  [ "$(curl -s "$STARGATE_SERVER/v1/jobs?state=succeeded" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')" = 300 ] && break
  sleep 0.2
done
/usr/bin/python3 - "$STARGATE_SERVER" "$TMP/shared/ticks" <<'PY' || fail "the crash test's checks failed"
import collections, json, sys, urllib.request
url, ticks = sys.argv[1], sys.argv[2]
acked = json.load(open("acked.json"))
jobs = json.load(urllib.request.urlopen(url + "/v1/jobs"))["jobs"]
by_id = {j["id"]: j for j in jobs}
names = collections.Counter(j["name"] for j in jobs)
bad = []
if len(jobs) != 300: bad.append(f"{len(jobs)} jobs stored for 300 keys")
bad += [f"{n} stored {c} times" for n, c in names.items() if c != 1]
bad += [f"{k}: job {i} lost" for k, i in acked.items() if i not in by_id]
bad += [f"job {j['id']} {j['state']}" for j in jobs if j["state"] != "succeeded"]
spans = collections.defaultdict(list)
for line in open(ticks):
    job, attempt, t = line.split()
    spans[(int(job), int(attempt))].append(int(t))
runs = collections.defaultdict(list)
for (job, attempt), ts in spans.items():
    ts.sort()
    # One run of an attempt writes 6 ticks: more means it ran again. (Not
    # the gaps between ticks: on a loaded machine a run can stall for a
    # second between two of its own ticks.)
    if len(ts) > 6: bad.append(f"job {job} attempt {attempt} ran twice ({len(ts)} ticks)")
    runs[job].append((ts[0], ts[-1], attempt))
for job, rs in runs.items():
    rs.sort()
    for (s1, e1, a1), (s2, e2, a2) in zip(rs, rs[1:]):
        if s2 <= e1: bad.append(f"job {job}: attempts {a1} and {a2} overlapped")
restarted = sum(1 for rs in runs.values() if len(rs) > 1)
print(f"{len(jobs)} jobs, {len(spans)} attempts run, {restarted} jobs ran more than one attempt")
for b in bad[:20]: print("BAD:", b)
sys.exit(1 if bad else 0)
PY
echo "server restarts: $(grep -c 'REST on' server.log), agent a starts: $(grep -c 'x CPU at site' agent-a.log)"
echo "crash CLI: ok"
