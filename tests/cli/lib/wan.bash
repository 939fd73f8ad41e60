# Shared by tests/cli/wan_cli.sh, wan_cut_cli.sh and bench/diloco_wan.sh
# (sourced): two "sites" as network namespaces joined by a WAN-like link.

# wan_test PREFIX: for a test; exits 77 (skipped) without root or network
# namespaces. Makes namespace A (B is made by wan_link), a temp dir TMP
# (the working directory from here), PIDS, fail(), and a cleanup on exit
# that kills PIDS and deletes TMP and both namespaces.
wan_test() {
  [ "$(id -u)" = 0 ] || { echo "SKIP: network namespaces need root"; exit 77; }
  A="${1}A$$"; B="${1}B$$"
  ip netns add "$A" 2> /dev/null || { echo "SKIP: cannot create network namespaces here"; exit 77; }
  TMP="$(mktemp -d)"
  chmod 1777 "$TMP"  # tasks run as their tenant's user (agents as root)
  PIDS=()
  trap wan_cleanup EXIT
  cd "$TMP"
}
wan_cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done
  ip netns del "$A" 2> /dev/null || true
  ip netns del "$B" 2> /dev/null || true
  rm -rf "$TMP"
}
fail() { echo "FAIL: $*" >&2; tail -n 20 "$TMP"/*.log >&2 || true; exit 1; }

# wan_link A B RATE DELAY: with namespace A already made, makes B and a
# veth pair vA (10.231.0.1) / vB (10.231.0.2) shaped to RATE (tc tbf) and,
# where the kernel has sch_netem, DELAY each way. Sets WAN_LINK, a
# description. The caller deletes both namespaces.
wan_link() {
  local a="$1" b="$2" rate="$3" delay="$4" ns
  ip netns add "$b"
  ip link add "v$a" type veth peer name "v$b"
  ip link set "v$a" netns "$a"; ip link set "v$b" netns "$b"
  ip -n "$a" addr add 10.231.0.1/24 dev "v$a"; ip -n "$b" addr add 10.231.0.2/24 dev "v$b"
  for ns in "$a" "$b"; do
    ip -n "$ns" link set lo up; ip -n "$ns" link set "v$ns" up
    if ip netns exec "$ns" tc qdisc add dev "v$ns" root handle 1: netem delay "$delay" 2> /dev/null; then
      ip netns exec "$ns" tc qdisc add dev "v$ns" parent 1: handle 2: tbf rate "$rate" burst 32kbit latency 400ms
      WAN_LINK="rate $rate, delay $delay each way"
    else
      ip netns exec "$ns" tc qdisc add dev "v$ns" root tbf rate "$rate" burst 32kbit latency 400ms
      WAN_LINK="rate $rate (this kernel has no sch_netem: no added delay)"
    fi
  done
}
