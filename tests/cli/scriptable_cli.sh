#!/usr/bin/env bash
# The CLI as scripts use it (docs/cli.md): the exit-code table (usage 2,
# timeout 3, not found 4, conflict 5, unreachable 7 with the URL and a
# hint, job failed 8, cancelled 9), bare `stargate` (help, exit 0),
# `-o json|yaml|wide|name` on lists and shows (the YAML read back equal
# to the JSON), `submit -q` and `submit -`, `job wait` and `logs -f`
# with the job's outcome, the failing rank's log by default, `cancel` of
# many ids and of --all of a tenant, `stargate run -- CMD`, `--watch`,
# contexts (server, token file, tenant) and the global --server, a down
# node without figures, and shell completion.
# Usage: scriptable_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$2/tests/cli/lib/cluster.bash"
export STARGATE_CONFIG="$TMP/config.json"
# code CMD...: runs CMD, its stdout to out.txt and stderr to err.txt, and
# prints its exit code.
code() { local c=0; "$@" > out.txt 2> err.txt || c=$?; echo "$c"; }

# Without a server.
[ "$(code "$BIN")" = 0 ] && grep -q "Usage: stargate" out.txt || fail "bare stargate: $(cat out.txt err.txt)"
[ "$(code "$BIN" job submit)" = 2 ] || fail "a missing argument is usage (2): $(cat err.txt)"
[ "$(code "$BIN" job list -o xml)" = 2 ] || fail "-o xml is usage (2)"
[ "$(code "$BIN" job list --server http://127.0.0.1:1)" = 7 ] || fail "unreachable is 7: $(cat err.txt)"
grep -q "cannot reach the server at http://127.0.0.1:1" err.txt && grep -q "stargate up" err.txt ||
  fail "unreachable says where and what to do: $(cat err.txt)"
[ "$(wc -l < err.txt)" = 1 ] || fail "unreachable is one line: $(cat err.txt)"
[ "$(code "$BIN" node list --server http://127.0.0.1:1)" = 7 ] || fail "node list unreachable: $(cat err.txt)"

start_server
start_agent a --accelerators CPU:1
start_agent b --accelerators CPU:1
wait_up 2

# -q, and a job file from standard input.
id=$(printf 'name: quick\ntenant: ml\nrun: "true"\n' | "$BIN" job submit -q -) || fail "submit -q -"
[[ "$id" =~ ^[0-9]+$ ]] || fail "submit -q printed: $id"
[ "$(code "$BIN" job wait "$id" --timeout 60)" = 0 ] || fail "wait for a job that succeeded: $(cat out.txt err.txt)"
printf 'name: bad\nresources: {nodes: 0}\nrun: x\n' > bad.yaml
[ "$(code "$BIN" job submit bad.yaml)" = 2 ] && grep -q "bad.yaml:2" err.txt || fail "a bad file is 2: $(cat err.txt)"
[ "$(code "$BIN" job show 999)" = 4 ] || fail "no such job is 4: $(cat err.txt)"

# Output formats: json and yaml are the server's record, yaml reads back equal.
"$BIN" job show "$id" -o json > show.json
"$BIN" job show "$id" -o yaml > show.yaml
"$BIN" job list -o json > list.json
"$BIN" job list -o yaml > list.yaml
"$BIN" node list -o json > nodes.json
"$BIN" node list -o yaml > nodes.yaml
"$BIN" site list -o json > sites.json
/usr/bin/python3 - "$id" <<'PY' || fail "json/yaml output: $(cat show.yaml)"
import json, sys, yaml
job = json.load(open("show.json"))
assert job["id"] == int(sys.argv[1]) and job["state"] == "succeeded" and job["tenant"] == "ml", job
# (Two calls: a node's telemetry moves between them.)
def steady(doc):
    for n in doc["nodes"] if isinstance(doc.get("nodes"), list) else []:
        for k in ("last_heartbeat_unix_ms", "cpu_utilisation", "memory_used_bytes", "gpu_utilisation", "gpu_power_w"):
            n.pop(k, None)
    return doc
for a, b in [("show.json", "show.yaml"), ("list.json", "list.yaml"), ("nodes.json", "nodes.yaml")]:
    assert steady(json.load(open(a))) == steady(yaml.safe_load(open(b))), (a, b)
assert [n["name"] for n in json.load(open("nodes.json"))["nodes"]] == ["a", "b"]
assert json.load(open("sites.json"))["sites"][0]["name"] == "lab"
PY
[ "$("$BIN" job list -o name)" = "job/$id" ] || fail "-o name: $("$BIN" job list -o name)"
[ "$("$BIN" node list -o name | tr '\n' ' ')" = "node/a node/b " ] || fail "node -o name"
"$BIN" job list -o wide | head -1 | grep -q "REASON" || fail "-o wide has more columns"

# The outcome of a job in exit codes; the failing rank's log by default.
cat > fail.yaml <<'YAML'
name: fails
resources: {nodes: 2}
run: if [ "$RANK" = 1 ]; then sleep 1; echo "rank one breaks"; exit 3; fi; echo "rank zero fine"; sleep 30
YAML
fid=$("$BIN" job submit -q fail.yaml)
[ "$(code "$BIN" job logs "$fid" -f)" = 8 ] || fail "logs -f of a failed job is 8: $(cat out.txt err.txt)"
grep -q "rank one breaks" out.txt || fail "logs showed the failing rank: $(cat out.txt err.txt)"
grep -q "the rank whose exit failed the job" err.txt || fail "logs says which rank: $(cat err.txt)"
[ "$(code "$BIN" job wait "$fid")" = 8 ] || fail "wait for a failed job is 8"
"$BIN" job logs "$fid" --rank 0 | grep -q "rank zero fine" || fail "--rank 0 still reads rank 0"
printf 'name: long\ntenant: ml\nrun: sleep 300\n' > long.yaml
l1=$("$BIN" job submit -q long.yaml)
[ "$(code "$BIN" job wait "$l1" --timeout 1)" = 3 ] || fail "a wait that times out is 3"
"$BIN" job cancel "$l1" > /dev/null
[ "$(code "$BIN" job wait "$l1")" = 9 ] || fail "wait for a cancelled job is 9"
[ "$(code "$BIN" job cancel "$l1")" = 0 ] || fail "cancelling a cancelled job again is no error: $(cat err.txt)"
[ "$(code "$BIN" job cancel "$id")" = 5 ] || fail "cancelling a job that succeeded is a conflict (5): $(cat err.txt)"

# cancel: many ids; --all of one tenant, not the others'.
l2=$("$BIN" job submit -q long.yaml)
l3=$("$BIN" job submit -q long.yaml)
[ "$(code "$BIN" job cancel "$l2" "$l3")" = 0 ] || fail "cancel of two: $(cat err.txt)"
[ "$(grep -c cancelled out.txt)" = 2 ] || fail "cancel of two said: $(cat out.txt)"
m1=$("$BIN" job submit -q long.yaml)
m2=$("$BIN" job submit -q long.yaml)
o1=$(printf 'name: other\ntenant: vision\nrun: sleep 300\n' | "$BIN" job submit -q -)
[ "$(code "$BIN" job cancel --all)" = 2 ] || fail "--all without a tenant is usage"
[ "$(code "$BIN" job cancel --all --tenant ml)" = 0 ] || fail "cancel --all: $(cat err.txt)"
for j in "$m1" "$m2"; do "$BIN" job show "$j" -o json | grep -q '"state": "cancelled"' || fail "job $j not cancelled"; done
"$BIN" job show "$o1" -o json | grep -Eq '"state": "(pending|running)"' || fail "another tenant's job was cancelled"
"$BIN" job cancel "$o1" > /dev/null

# stargate run: an inline command, followed, with its outcome.
[ "$(code "$BIN" run -- sh -c 'echo "hello from $RANK of $WORLD_SIZE"')" = 0 ] || fail "run: $(cat out.txt err.txt)"
grep -q "hello from 0 of 1" out.txt || fail "run's output: $(cat out.txt err.txt)"
[ "$(code "$BIN" run --nodes 2 -- sh -c 'exit 4')" = 8 ] || fail "run of a failing command is 8"
[ "$(code "$BIN" run --timeout 1 -- sleep 30)" = 3 ] || fail "run --timeout is 3"

# --watch prints again until stopped.
timeout 2.5 "$BIN" job list --watch --interval 1 -o name > watch.txt || true
[ "$(grep -c "^job/$id$" watch.txt)" -ge 2 ] || fail "--watch printed once: $(cat watch.txt)"

# Contexts: the server and tenant from the config file; the flag and
# $STARGATE_SERVER still win.
url="$STARGATE_SERVER"
unset STARGATE_SERVER
[ "$(code "$BIN" job list)" = 7 ] || fail "no context: the default server (nobody there)"
"$BIN" config set-context lab --server "$url" --tenant vision > /dev/null
"$BIN" config set-context away --server http://127.0.0.1:1 > /dev/null
[ "$("$BIN" config current-context)" = lab ] || fail "the first context is current"
[ "$("$BIN" job list -o name | wc -l)" = 1 ] || fail "the context's tenant filters: $("$BIN" job list)"
[ "$("$BIN" job list -o name --tenant ml | wc -l)" -ge 4 ] || fail "--tenant overrides the context's"
"$BIN" config use-context away > /dev/null
[ "$(code "$BIN" job list)" = 7 ] || fail "the current context is used"
[ "$(code "$BIN" --context lab job list)" = 0 ] || fail "--context picks one: $(cat err.txt)"
[ "$(code "$BIN" --server "$url" job list)" = 0 ] || fail "the global --server wins"
[ "$(code env STARGATE_SERVER="$url" "$BIN" job list)" = 0 ] || fail "\$STARGATE_SERVER wins"
[ "$(code "$BIN" config use-context nowhere)" = 4 ] || fail "an unknown context is 4"
"$BIN" config get-contexts -o json | /usr/bin/python3 -c '
import json, sys
c = {x["name"]: x for x in json.load(sys.stdin)["contexts"]}
assert c["away"]["current"] and c["lab"]["tenant"] == "vision", c' || fail "get-contexts -o json"
export STARGATE_SERVER="$url"

# A down node shows no CPU or memory figure (its last report is not its state).
kill -9 "${AGENT[b]}"
for _ in $(seq 100); do "$BIN" node list | grep -q "^b .* down " && break; sleep 0.1; done
"$BIN" node list | grep -Eq "^b .* down +- +-$" || fail "a down node's figures: $("$BIN" node list)"

# Completion, from the command tree.
"$BIN" completion bash > comp.bash
words=$(bash -c 'source comp.bash; COMP_WORDS=(stargate job ca); COMP_CWORD=2; _stargate; echo "${COMPREPLY[@]}"')
[ "$words" = cancel ] || fail "bash completion of 'job ca': $words"
"$BIN" completion zsh > comp.zsh
grep -q "bashcompinit" comp.zsh && grep -q "_stargate_words" comp.zsh || fail "zsh completion: $(head -5 comp.zsh)"
echo "scriptable CLI: ok"
