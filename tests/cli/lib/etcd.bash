# Shared by the etcd CLI tests (sourced after cluster.bash, which has
# free_ports): etcd members on loopback, started as this test's processes (PIDS).

# Exits 77 (skipped) when Debian's etcd is not installed.
need_etcd() {
  [ -x /usr/bin/etcd ] || { echo "SKIP: /usr/bin/etcd is missing (Debian: apt-get install etcd-server)"; exit 77; }
}

# etcd_member NAME CLIENT_PORT PEER_PORT INITIAL_CLUSTER: starts a member
# in etcd-NAME/, logging to etcd-NAME.log; sets ETCD_PID.
etcd_member() {
  /usr/bin/etcd --name "$1" --data-dir "etcd-$1" --listen-client-urls "http://127.0.0.1:$2" \
    --advertise-client-urls "http://127.0.0.1:$2" --listen-peer-urls "http://127.0.0.1:$3" \
    --initial-advertise-peer-urls "http://127.0.0.1:$3" --initial-cluster "$4" \
    --initial-cluster-state new --initial-cluster-token sg-test >> "etcd-$1.log" 2>&1 &
  ETCD_PID=$!
  PIDS+=($!)
}

# wait_etcd CLIENT_PORT: until the member answers healthy (10 s at most).
wait_etcd() {
  for _ in $(seq 100); do curl -s "http://127.0.0.1:$1/health" | grep -q true && return 0; sleep 0.1; done
  fail "etcd on port $1 did not become healthy"
}

# single_etcd: one member; sets ETCD_CLIENT.
single_etcd() {
  local peer
  read -r ETCD_CLIENT peer < <(free_ports 2)
  etcd_member t "$ETCD_CLIENT" "$peer" "t=http://127.0.0.1:$peer"
  wait_etcd "$ETCD_CLIENT"
}
