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
D="$(mktemp -d)"
chmod 755 "$D"   # munged wants its socket path traversable by all
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  [ -f "$D/slurmctld.pid" ] && kill "$(cat "$D/slurmctld.pid")" 2> /dev/null || true
  [ -f "$D/slurmd.pid" ] && kill "$(cat "$D/slurmd.pid")" 2> /dev/null || true
  [ -f "$D/munge/munged.pid" ] && kill "$(cat "$D/munge/munged.pid")" 2> /dev/null || true
  sleep 0.5
  rm -rf "$D"
}
trap cleanup EXIT
now() { date +%s.%N; }

# ---- Slurm ----
HOST="$(hostname -s)"
mkdir -p "$D"/{munge,log,state,spool}
dd if=/dev/urandom of="$D/munge.key" bs=1024 count=1 status=none
chmod 600 "$D/munge.key"
munged --key-file="$D/munge.key" --socket="$D/munge/munge.sock" --pid-file="$D/munge/munged.pid" \
  --log-file="$D/log/munged.log" --seed-file="$D/munge/seed"
cat > "$D/slurm.conf" <<CONF
ClusterName=bench
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.sock
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
MinJobAge=300
MaxJobCount=100000
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$D/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do sinfo -h -o %T 2> /dev/null | grep -q idle && break; sleep 0.1; done
sinfo -h -o %T | grep -q idle || { cat "$D/log/slurmctld.log" | tail; echo "slurm did not come up"; exit 1; }
cd "$D"
t0=$(now)
for _ in $(seq "$N"); do sbatch -Q -o /dev/null --wrap true; done
t1=$(now)
completed() { if [ -f log/jobcomp.txt ]; then grep -c . log/jobcomp.txt; else echo 0; fi; }
for _ in $(seq 6000); do [ "$(completed)" -ge "$N" ] && break; sleep 0.1; done
t2=$(now)
done_slurm=$(grep -c "JobState=COMPLETED" log/jobcomp.txt || true)

# ---- Stargate ----
"$BIN" server --data-dir "$D/sg" --listen 127.0.0.1:0 --agent-listen 127.0.0.1:0 --port-file "$D/port" \
  > "$D/log/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
read -r REST AGENT < "$D/port"
export STARGATE_SERVER="http://127.0.0.1:$REST"
for n in a b; do
  "$BIN" agent --server "127.0.0.1:$AGENT" --name "$n" --accelerators CPU:1 --work-dir "$D/w$n" > "$D/log/$n.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 100); do [ "$("$BIN" node list | grep -c ' up ')" = 2 ] && break; sleep 0.1; done
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
