#!/usr/bin/env bash
# The front (src/cli/front/main.cc) execs stargate-full beside it with the
# same arguments; for `twin` it first asks glibc's malloc for transparent
# huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), keeping the caller's
# other tunables and their own choice for that one, and for no other
# command. A stand-in stargate-full prints what it was given.
# Usage: front_env_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cp "$BIN" "$TMP/stargate"
cat > "$TMP/stargate-full" <<'SH'
#!/bin/sh
echo "tunables=${GLIBC_TUNABLES-<unset>} args=$*"
exit 3
SH
chmod +x "$TMP/stargate-full"
run() { env -u GLIBC_TUNABLES "$@" || true; }

out="$(run "$TMP/stargate" twin run a.yaml -q)"
[ "$out" = "tunables=glibc.malloc.hugetlb=1 args=twin run a.yaml -q" ] || fail "twin run: $out"
# The exit code is the full binary's.
set +e
env -u GLIBC_TUNABLES "$TMP/stargate" twin validate a.yaml > /dev/null
rc=$?
set -e
[ "$rc" = 3 ] || fail "exit code $rc, not the full binary's 3"
# After the global flags, too.
out="$(run "$TMP/stargate" --context lab twin run a.yaml)"
[ "$out" = "tunables=glibc.malloc.hugetlb=1 args=--context lab twin run a.yaml" ] || fail "after --context: $out"
# The caller's tunables are kept; their own choice for this one stands.
out="$(run GLIBC_TUNABLES=glibc.malloc.check=3 "$TMP/stargate" twin run a.yaml)"
[ "$out" = "tunables=glibc.malloc.check=3:glibc.malloc.hugetlb=1 args=twin run a.yaml" ] || fail "kept: $out"
out="$(run GLIBC_TUNABLES=glibc.malloc.hugetlb=0 "$TMP/stargate" twin run a.yaml)"
[ "$out" = "tunables=glibc.malloc.hugetlb=0 args=twin run a.yaml" ] || fail "the caller's choice: $out"
# Other commands are exec'd as they came.
for cmd in server agent plan; do
  out="$(run "$TMP/stargate" $cmd --help)"
  [ "$out" = "tunables=<unset> args=$cmd --help" ] || fail "$cmd: $out"
done
out="$(run GLIBC_TUNABLES=glibc.malloc.check=3 "$TMP/stargate" server)"
[ "$out" = "tunables=glibc.malloc.check=3 args=server" ] || fail "server with tunables: $out"
echo "front env: ok"
