#!/usr/bin/env bash
# Trivial-job throughput, Stargate vs Slurm 22.05, side by side in one run
# on this machine (issue 20). N jobs that run `true`, timed from the first
# submit to the last completion, each system on its best path and on the
# naive one:
#   - array: one job array of N (sbatch --array=0-N-1; stargate job submit
#     --array N);
#   - per call: N CLI calls, one job each (sbatch --wrap true; stargate job
#     submit), whose latencies give the p50/p90 of one submit.
# Equal slots: Slurm's one node has CPUs=64 (one CPU per job); Stargate
# has four agents of CPU:16.
# Slurm is tuned as its high-throughput guide says
# (https://slurm.schedmd.com/high_throughput.html):
# SchedulerParameters=batch_sched_delay=0,sched_min_interval=0 (no wait to
# batch launches, passes as often as wanted), SlurmctldDebug/SlurmdDebug
# error (logging off the hot path), MaxJobCount and MaxArraySize above N,
# MinJobAge=300 as before, sched/backfill, select/cons_tres, jobcomp/filetxt
# (completions are counted in its log, as sacct would need slurmdbd),
# proctrack/linuxproc and task/none (no cgroup plugin: fewer steps per job
# than its default).
# Stargate: `stargate server` (SQLite, group commit) and four `stargate
# agent`s, as the CLI tests start them.
# Both systems' files (Slurm's state, spool and completion log; Stargate's
# data dir, agents' work dirs and task logs) are on one fresh ext4 made for
# the run, with a journal, as a server's disk has (BENCH_FS=root: this
# VM's root file system instead). This VM's root is ext4 without a
# journal, where every new inode skips each inode freed in the last 5 s,
# or 305 s while its inode table block is unwritten (fs/ext4/ialloc.c,
# recently_deleted): the files Slurm's run makes and removes per job (and
# the last run's cleanup) then made each file Stargate created right after
# scan tens of thousands of them (perf, 2026-12-06: 10-18% of two cores).
# Needs root and the slurm-wlm and munge packages (scripts/install-deps.sh).
# Usage: bench/throughput_vs_slurm.sh [N] [PATHS]   (PATHS: "array call")
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
N="${1:-10000}"
PATHS="${2:-array call}"
SLOTS=64
BIN="$PWD/build/stargate"
REPO="$PWD"
FS_DIR=
if [ "${BENCH_FS:-fresh}" != root ]; then
  FS_IMG="$(mktemp /var/tmp/sg-bench-fs.XXXXXX)"
  FS_DIR="$(mktemp -d)"
  truncate -s 8G "$FS_IMG"
  mkfs.ext4 -q -F "$FS_IMG"
  mount -o loop "$FS_IMG" "$FS_DIR"
  chmod 1777 "$FS_DIR"
  export TMPDIR="$FS_DIR"
fi
drop_fs() {
  [ -n "$FS_DIR" ] || return 0
  cd /
  umount "$FS_DIR" 2> /dev/null || umount -l "$FS_DIR"
  rmdir "$FS_DIR"
  rm -f "$FS_IMG"
}
source "$REPO/tests/cli/lib/cluster.bash"
trap 'cleanup; drop_fs' EXIT
source "$REPO/tests/cli/lib/slurm.bash"
D="$TMP"
now() { date +%s.%N; }
RESULTS="$D/results.txt"
: > "$RESULTS"
# calls N LATENCY_FILE CMD...: runs CMD N times, one after the other (as a
# script's loop would), and writes each call's start and end (seconds) to
# LATENCY_FILE. Timed in one process for both systems, so neither pays for
# a `date` per call.
cat > "$D/calls.py" <<'PY'
import subprocess, sys, time
n, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
with open(out, "w") as f:
    for _ in range(n):
        a = time.time()
        if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
            sys.exit(f"{cmd[0]} failed")
        f.write(f"{a} {time.time()}\n")
PY
calls() { /usr/bin/python3 "$D/calls.py" "$@"; }
# until_done KIND WHERE BASE N: waits (20 looks a second, 30 min at most)
# until BASE + N jobs completed, counted in Slurm's jobcomp file (KIND
# file) or in a Stargate server's metrics (KIND url: one kept-alive
# connection), and prints the count. Cheap for both: no process per look.
cat > "$D/until_done.py" <<'PY'
import http.client, re, sys, time, urllib.parse
kind, where, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = None
def count():
    global conn
    if kind == "file":
        try:
            with open(where, "rb") as f:
                return sum(1 for line in f if line.strip())
        except FileNotFoundError:
            return 0
    if conn is None:
        u = urllib.parse.urlparse(where)
        conn = http.client.HTTPConnection(u.hostname, u.port)
    conn.request("GET", "/metrics")
    body = conn.getresponse().read().decode()
    m = re.search(r'^stargate_jobs\{state="succeeded"\} (\d+)', body, re.M)
    return int(m.group(1)) if m else 0
end = time.time() + 1800
c = count()
while c - base < n and time.time() < end:
    time.sleep(0.05)
    c = count()
print(c)
PY
until_done() { /usr/bin/python3 "$D/until_done.py" "$@"; }
# measure SYSTEM PATH KIND WHERE: N jobs submitted on PATH (array: the
# caller's ARRAY_CMD once; call: its CALL_CMD N times), timed until all
# completed (until_done KIND WHERE); appends a line to $RESULTS.
measure() {
  local system="$1" path="$2" kind="$3" where="$4" lat="$D/lat-$1-$2" base t0 t1 t2 done_now
  base=$(until_done "$kind" "$where" 0 0)
  : > "$lat"
  t0=$(now)
  if [ "$path" = array ]; then
    "${ARRAY_CMD[@]}" > /dev/null
  else
    calls "$N" "$lat" "${CALL_CMD[@]}"
  fi
  t1=$(now)
  done_now=$(until_done "$kind" "$where" "$base" "$N")
  t2=$(now)
  echo "$system $path $t0 $t1 $t2 $((done_now - base)) $lat" >> "$RESULTS"
}

# ---- Slurm, tuned ----
need_slurm
SLURM_CPUS=$SLOTS SLURM_EXTRA_CONF="MaxJobCount=$((N * 3 + 1000))
MaxArraySize=$((N + 1))
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SlurmctldDebug=error
SlurmdDebug=error
SlurmdParameters=config_overrides" start_slurm
trap 'slurm_jobs_down; cleanup; drop_fs' EXIT  # start_slurm set its own
cd "$D"
JOBCOMP="$D/slurm/log/jobcomp.txt"
ARRAY_CMD=(sbatch -Q -o /dev/null --array="0-$((N - 1))" --wrap true)
CALL_CMD=(sbatch -Q -o /dev/null --wrap true)
for p in $PATHS; do measure slurm "$p" file "$JOBCOMP"; done
slurm_jobs_down

# ---- Stargate ----
start_server
for n in a b c d; do start_agent "$n" --accelerators CPU:16; done
wait_up 4
printf 'name: t\nrun: "true"\n' > "$D/t.yaml"
ARRAY_CMD=("$BIN" job submit --array "$N" "$D/t.yaml")
CALL_CMD=("$BIN" job submit "$D/t.yaml")
for p in $PATHS; do measure stargate "$p" url "$STARGATE_SERVER"; done

/usr/bin/python3 - "$N" "$SLOTS" "$RESULTS" <<'PY'
import statistics, sys
n, slots = int(sys.argv[1]), int(sys.argv[2])
rows = [l.split() for l in open(sys.argv[3])]
rate = {}
print(f"{n} trivial jobs, {slots} slots each; seconds from the first submit")
print(f"{'system':9} {'path':6} {'done':>7} {'submitted':>10} {'all done':>9} {'jobs/s':>8} {'submit p50':>11} {'p90':>8}")
for system, path, t0, t1, t2, done, lat in rows:
    t0, t1, t2, done = float(t0), float(t1), float(t2), int(done)
    rate[system, path] = done / (t2 - t0)
    lats = sorted(float(b) - float(a) for a, b in (l.split() for l in open(lat)))
    p50 = f"{1000 * statistics.median(lats):.1f} ms" if lats else "-"
    p90 = f"{1000 * lats[int(0.9 * (len(lats) - 1))]:.1f} ms" if lats else "-"
    print(f"{system:9} {path:6} {done:>7} {t1 - t0:>9.2f}s {t2 - t0:>8.2f}s {rate[system, path]:>8.1f} {p50:>11} {p90:>8}")
for path in ("array", "call"):
    if ("slurm", path) in rate and ("stargate", path) in rate:
        print(f"stargate / slurm, {path}: {rate['stargate', path] / rate['slurm', path]:.2f}x")
PY
