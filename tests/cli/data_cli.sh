#!/usr/bin/env bash
# Datasets (issue 22): `stargate data register|list|show|unregister`, and a
# job file that names one (`inputs: [corpus]`). Two sites of one CPU node
# each; corpus is registered at site-b: the job naming it runs there and
# finds the copy's path in STARGATE_DATA_CORPUS. A job naming an
# unregistered dataset is refused with the command to register it; bad
# flags exit 2 before any call; the registry outlives a server restart.
# Usage: data_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
cat > sites.yaml <<YAML
sites:
  - {name: site-a, latitude: 50.1, longitude: 8.7, wan_bandwidth: 1Gbps}
  - {name: site-b, latitude: 53.3, longitude: -6.3, wan_bandwidth: 1Gbps}
YAML
start_server --sites sites.yaml
for n in a b; do
  "$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name "node-$n" --site "site-$n" --work-dir "w$n" >> "agent-$n.log" 2>&1 &
  PIDS+=($!)
done
wait_up 2

# Bad input: usage errors (exit 2), and nothing stored.
set +e
"$BIN" data register corpus --site site-b --size 2parsecs --path /data/corpus 2> bad-size.err; rc_size=$?
"$BIN" data register 'a/b' --site site-b --size 2TB --path /data/corpus 2> bad-name.err; rc_name=$?
"$BIN" data register corpus --site mars --size 2TB --path /data/corpus 2> bad-site.err; rc_site=$?
"$BIN" data register corpus --site site-b --size 2TB --path data/corpus 2> bad-path.err; rc_path=$?
set -e
[ "$rc_size" = 2 ] && grep -q "^error: --size: " bad-size.err || fail "bad size: rc=$rc_size $(cat bad-size.err)"
[ "$rc_name" = 2 ] && grep -q "^error: NAME: a dataset name has only letters" bad-name.err || fail "bad name: $(cat bad-name.err)"
[ "$rc_site" = 2 ] && grep -q "^error: site: no site mars (known: site-a, site-b) (HTTP 400)" bad-site.err ||
  fail "unknown site: rc=$rc_site $(cat bad-site.err)"
[ "$rc_path" = 2 ] && grep -q "path: an absolute path" bad-path.err || fail "relative path: $(cat bad-path.err)"
[ "$("$BIN" data list -o json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["datasets"]))')" = 0 ] ||
  fail "bad input stored something: $("$BIN" data list)"

# A job naming a dataset nobody registered is refused, saying how to.
printf 'name: train\nresources: {accelerators: CPU:1}\ninputs: [corpus]\nrun: echo "data at $STARGATE_DATA_CORPUS"; sleep 60\n' > train.yaml
set +e
"$BIN" job submit train.yaml > refused.out 2>&1; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "train.yaml: inputs: tenant default has no dataset corpus (register it: stargate data register corpus" refused.out ||
  fail "unregistered input: rc=$rc $(cat refused.out)"

"$BIN" data register corpus --site site-b --size 2TB --path /data/corpus > reg.out
grep -qx "registered corpus at site-b (2.0 TB, /data/corpus)" reg.out || fail "register: $(cat reg.out)"
"$BIN" data register corpus --site site-a --size 2TB --path /lake/corpus > /dev/null
"$BIN" data unregister corpus --site site-a > unreg.out
grep -qx "unregistered corpus's copy at site-a (1 left)" unreg.out || fail "unregister: $(cat unreg.out)"
"$BIN" data list > list.txt
grep -Eq "^corpus +default +2\.0 TB +site-b$" list.txt || fail "list: $(cat list.txt)"
"$BIN" data show corpus -o json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["name"] == "corpus" and d["bytes"] == 2e12, d
assert [(c["site"], c["path"]) for c in d["copies"]] == [("site-b", "/data/corpus")], d' || fail "show -o json"

# Submitted now, it runs where its data is, and finds it there.
JOB=$("$BIN" job submit -q train.yaml)
wait_state "$JOB" running 10
"$BIN" job show "$JOB" -o json | grep -q '"node-b"' || fail "the job should run at site-b: $("$BIN" job show "$JOB")"
for _ in $(seq 50); do "$BIN" job logs "$JOB" 2> /dev/null | grep -q "data at" && break; sleep 0.1; done
"$BIN" job logs "$JOB" | grep -qx "data at /data/corpus" || fail "STARGATE_DATA_CORPUS: $("$BIN" job logs "$JOB")"

# The registry outlives the server.
kill -9 "${PIDS[0]}"; wait "${PIDS[0]}" 2> /dev/null || true
rm -f port
start_server --sites sites.yaml
"$BIN" data show corpus | grep -q "^  site-b .*2.0 TB  /data/corpus" || fail "after a restart: $("$BIN" data show corpus)"
"$BIN" data unregister corpus > /dev/null
set +e
"$BIN" data show corpus 2> gone.err; rc=$?
set -e
[ "$rc" = 4 ] || fail "an unregistered dataset should be not found (4): rc=$rc $(cat gone.err)"
echo "data CLI: ok"
