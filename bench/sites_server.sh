#!/usr/bin/env bash
# The server over thousands of small sites (issue 24): AGENTS emulated
# one-CPU nodes (bench/agent_load.cc) in SITES sites, each site its own
# region ("load-r<k>", --site-regions 1), beating every PERIOD_MS. JOBS
# one-node jobs are submitted in bulk, job i constrained to the region of
# site 64 + (i * 7919) mod (SITES - 64), so every one names a single site
# past the 64th (a job's allowed sites were a 64-bit mask once). Checks
# that every job ran on a node of the site it named, and prints the time
# from the submit to every job done, the scheduler's passes and their mean
# time, and the server's CPU. The server is pinned to CPU 0, the emulator
# to CPU 1.
# Usage: bench/sites_server.sh [SITES] [AGENTS] [JOBS] [PERIOD_MS]
#   bench/sites_server.sh 2000 50000 2000 5000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
sites="${1:-2000}"; agents="${2:-50000}"; jobs="${3:-2000}"; period_ms="${4:-5000}"
[ "$sites" -gt 64 ] || { echo "SITES must be over 64" >&2; exit 2; }
source bench/load_server.sh
taskset -c 1 ./build/agent_load --server "127.0.0.1:$agent_port" --agents "$agents" --seconds 900 --threads 16 \
  --period-ms "$period_ms" --sites "$sites" --site-regions 1 > "$tmp/load.log" 2>&1 &
load=$!
t=$(now)
wait_registered
echo "registered $agents nodes in $sites sites in $(since "$t") s"
sleep $(((period_ms * 2 + 999) / 1000))  # every node has beaten since
passes0=$(metric stargate_scheduler_pass_seconds_count); secs0=$(metric stargate_scheduler_pass_seconds_sum)
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
c0=$(ticks)
t=$(now)
# Submit in bulk (at most 1,000 job files a request), then wait for every
# job to succeed and check where each ran.
/usr/bin/python3 - "$STARGATE_SERVER" "$sites" "$jobs" "$agents" <<'PY'
import json, sys, time, urllib.request
base, sites, jobs, agents = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)
want = {}  # job id -> the site it names
for start in range(0, jobs, 1000):
    named = [64 + (i * 7919) % (sites - 64) for i in range(start, min(jobs, start + 1000))]
    batch = [{"file": "name: at-%d\nplacement: {regions: [load-r%d]}\nrun: \"true\"\n" % (k, k),
              "filename": "at-%d.yaml" % k} for k in named]
    made = call("POST", "/v1/jobs/bulk", {"jobs": batch})
    for site, result in zip(named, made["results"]):
        want[result["job"]["id"]] = site
deadline = time.time() + 600
while True:
    done = {j["id"]: j for j in call("GET", "/v1/jobs?state=succeeded")["jobs"] if j["id"] in want}
    if len(done) == len(want) or time.time() > deadline:
        break
    time.sleep(0.5)
if len(done) != len(want):
    print("FAIL: %d of %d jobs succeeded within 600 s" % (len(done), len(want)))
    sys.exit(1)
wrong = 0
for job_id, site in want.items():
    ran = {int(n.split("-")[1]) % sites for n in done[job_id]["placement"]}  # node load-<i> is in site i mod SITES
    if ran != {site}:
        wrong += 1
        if wrong <= 5:
            print("FAIL: job %d named site %d and ran on %s" % (job_id, site, sorted(ran)))
print("%d jobs, each naming one site past the 64th: all succeeded, %d on another site" % (len(want), wrong))
sys.exit(1 if wrong else 0)
PY
echo "every job done $(since "$t") s after the first submit"
c1=$(ticks)
passes1=$(metric stargate_scheduler_pass_seconds_count); secs1=$(metric stargate_scheduler_pass_seconds_sum)
awk -v p0="$passes0" -v p1="$passes1" -v s0="$secs0" -v s1="$secs1" -v c0="$c0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "scheduler passes: %d, mean %.1f ms; server CPU over the jobs: %.1f s\n", p1 - p0, (s1 - s0) / (p1 - p0) * 1000, (c1 - c0) / hz }'
echo "nodes up: $(curl -s "$STARGATE_SERVER/metrics" | grep -c '^stargate_node_up{.*} 1$' || true)"
