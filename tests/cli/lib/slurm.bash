# Shared by the Slurm CLI tests (sourced after cluster.bash): a real
# single-host Slurm 22.05 (munged, slurmctld, slurmd) with all its state
# in $TMP/slurm, eight fake GPUs (char devices cloned from /dev/null, as in
# ../shared/notes/dependencies.md §3), daemons on free loopback ports,
# started as this test's processes and ended with it.

# Exits 77 (skipped) without root or without Debian's Slurm and munge.
need_slurm() {
  [ "$(id -u)" = 0 ] || { echo "SKIP: a test Slurm needs root (munged, slurmd, mknod)"; exit 77; }
  for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/bin/sbatch; do
    [ -x "$b" ] || { echo "SKIP: $b is missing (Debian: apt-get install slurm-wlm munge)"; exit 77; }
  done
}

# slurm_jobs_down: kills every job of the test cluster (bounded).
slurm_jobs_down() {
  local ids
  ids="$(timeout 5 squeue -h -o %i 2> /dev/null || true)"
  [ -n "$ids" ] || return 0
  timeout 5 scancel --signal=KILL --full $ids 2> /dev/null || true
  timeout 5 scancel $ids 2> /dev/null || true
  for _ in $(seq 30); do [ -z "$(timeout 2 squeue -h -o %i 2> /dev/null)" ] && return 0; sleep 0.1; done
}

# start_slurm: sets SLURM_CONF (exported) and SLURM_NODE (this host's
# short name, the one Slurm node, with gpu:8). $SLURM_EXTRA_CONF, if set,
# is added to slurm.conf; $SLURM_CPUS, if set, is the node's CPU count
# (with SlurmdParameters=config_overrides in the extra conf when it is more
# than the host has); $SLURM_SHARDS, if set, adds that many gres/shard
# (Slurm 22.05's GPU sharing), spread evenly over the eight GPUs.
start_slurm() {
  local d="$TMP/slurm" host ctld_port slurmd_port gres=gpu:8 gres_types=gpu shard_conf=
  if [ -n "${SLURM_SHARDS:-}" ]; then
    gres="gpu:8,shard:$SLURM_SHARDS"
    gres_types=gpu,shard
    shard_conf="NodeName=$(hostname -s) Name=shard Count=$SLURM_SHARDS File=$TMP/slurm/fakegpu/nvidia[0-7]"
  fi
  host="$(hostname -s)"
  SLURM_NODE="$host"
  read -r ctld_port slurmd_port < <(free_ports 2)
  chmod 755 "$TMP"  # munged wants every directory above its socket reachable by all
  mkdir -p "$d"/{munge,log,state,spool,fakegpu}
  chmod 755 "$d/munge"
  dd if=/dev/urandom of="$d/munge.key" bs=1024 count=1 status=none
  chmod 600 "$d/munge.key"
  for i in 0 1 2 3 4 5 6 7; do mknod "$d/fakegpu/nvidia$i" c 1 3; done
  cat > "$d/slurm.conf" <<CONF
ClusterName=sgtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.sock
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=$gres_types
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$d/log/jobcomp.txt
MinJobAge=300
KillWait=5
${SLURM_EXTRA_CONF:-}
NodeName=$host NodeAddr=127.0.0.1 CPUs=${SLURM_CPUS:-$(nproc)} RealMemory=1000 Gres=$gres State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  cat > "$d/gres.conf" <<CONF
AutoDetect=off
NodeName=$host Name=gpu File=$d/fakegpu/nvidia[0-7]
$shard_conf
CONF
  export SLURM_CONF="$d/slurm.conf"
  # On exit, first end this cluster's jobs: their slurmstepd processes would
  # outlive the daemons killed by the harness's cleanup.
  trap 'slurm_jobs_down; cleanup' EXIT
  # In the foreground (-D) so that they are this test's children, ended by PID.
  /usr/sbin/munged -F --key-file="$d/munge.key" --socket="$d/munge/munge.sock" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" --seed-file="$d/munge/seed" > /dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do [ -S "$d/munge/munge.sock" ] && break; sleep 0.1; done
  /usr/sbin/slurmctld -D -f "$SLURM_CONF" > "$d/log/slurmctld.out" 2>&1 &
  PIDS+=($!)
  /usr/sbin/slurmd -D -f "$SLURM_CONF" > "$d/log/slurmd.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    timeout 2 sinfo -h -N -o '%t' 2> /dev/null | grep -Eq '^(idle|mix|alloc)' && return 0
    sleep 0.1
  done
  tail -n 20 "$d"/log/*.log >&2
  fail "Slurm did not come up: $(sinfo -N 2>&1)"
}
