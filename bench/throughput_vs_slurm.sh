#!/usr/bin/env bash
# Trivial-job throughput, side by side on this machine (issue 4): N jobs
# that run `true`, submitted one CLI call each, from the first submit to
# the last completion, through
#   - Slurm 22.05 from Debian: a single-host cluster (munge, slurmctld,
#     slurmd, CPUs=2, sched/backfill) set up under a temp dir as in
#     ../shared/notes/dependencies.md, `sbatch --wrap true`, completions
#     counted in the jobcomp/filetxt log;
#   - Stargate: `stargate server` and two `stargate agent`s of CPU:1 (the
#     same two slots), `stargate job submit`, completions from the REST API.
# Needs root and the slurm-wlm and munge packages (scripts/install-deps.sh).
# Usage: bench/throughput_vs_slurm.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
N="${1:-200}"
BIN="$PWD/build/stargate"
REPO="$PWD"
# The CLI tests' harness: a temp dir (cleaned up with every process it
# started), the test Slurm (lib/slurm.bash), the server and agents.
source "$REPO/tests/cli/lib/cluster.bash"
source "$REPO/tests/cli/lib/slurm.bash"
D="$TMP"
now() { date +%s.%N; }

# ---- Slurm ----
need_slurm
SLURM_EXTRA_CONF="MaxJobCount=100000" start_slurm
cd "$D"
t0=$(now)
for _ in $(seq "$N"); do sbatch -Q -o /dev/null --wrap true; done
t1=$(now)
JOBCOMP="$D/slurm/log/jobcomp.txt"
completed() { if [ -f "$JOBCOMP" ]; then grep -c . "$JOBCOMP"; else echo 0; fi; }
for _ in $(seq 6000); do [ "$(completed)" -ge "$N" ] && break; sleep 0.1; done
t2=$(now)
done_slurm=$(grep -c "JobState=COMPLETED" "$JOBCOMP" || true)

# ---- Stargate ----
start_server
for n in a b; do start_agent "$n" --accelerators CPU:1; done
wait_up 2
printf 'name: t\nrun: "true"\n' > "$D/t.yaml"
s0=$(now)
for _ in $(seq "$N"); do "$BIN" job submit "$D/t.yaml" > /dev/null; done
s1=$(now)
count() { curl -s "$STARGATE_SERVER/v1/jobs?state=$1" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))'; }
for _ in $(seq 6000); do [ "$(count succeeded)" -ge "$N" ] && break; sleep 0.1; done
s2=$(now)
done_sg=$(count succeeded)

/usr/bin/python3 - "$N" "$t0" "$t1" "$t2" "$done_slurm" "$s0" "$s1" "$s2" "$done_sg" <<'PY'
import sys
n = int(sys.argv[1]); t0, t1, t2 = map(float, sys.argv[2:5]); ds = int(sys.argv[5])
s0, s1, s2 = map(float, sys.argv[6:9]); dg = int(sys.argv[9])
slurm, sg = ds / (t2 - t0), dg / (s2 - s0)
print(f"slurm    {ds}/{n} completed: submit {t1 - t0:.2f} s, all done {t2 - t0:.2f} s, {slurm:.1f} jobs/s")
print(f"stargate {dg}/{n} succeeded: submit {s1 - s0:.2f} s, all done {s2 - s0:.2f} s, {sg:.1f} jobs/s")
print(f"stargate / slurm: {sg / slurm:.1f}x")
PY
