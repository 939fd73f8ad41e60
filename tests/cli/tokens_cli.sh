#!/usr/bin/env bash
# Bearer tokens end to end (issue 6): a server with --tokens; the CLI
# sends $STARGATE_TOKEN. No token: 401; another tenant's job: 404 for
# show, cancel and logs (its existence is not told), and nothing changes; the owner reads its job's
# log through the server; the agent's log server refuses callers without
# its own token (the server's), so logs cannot bypass the checks.
# Usage: tokens_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
cat > tokens.yaml <<'YAML'
tokens:
  - {token: alice-token-0123456789, name: alice, role: user, tenant: ml}
  - {token: bob-token-01234567890, name: bob, role: user, tenant: vision}
  - {token: admin-token-0123456789, name: ops, role: admin}
YAML
start_server --tokens tokens.yaml
export STARGATE_TOKEN=admin-token-0123456789
# Node identity by join token (--tokens makes --node-auth auto mean token):
# no token, no node; users cannot make tokens; a token node-bound to b
# does not admit a; a revoked one admits nobody.
start_agent a
sleep 1.5
[ "$("$BIN" node list | tail -n +2 | wc -l)" = 0 ] || fail "a node joined without a join token: $("$BIN" node list)"
grep -q "the server refused this node: node a: this server admits nodes with a join token" agent-a.log ||
  fail "the agent did not say why it was refused: $(cat agent-a.log)"
kill "${AGENT[a]}"; wait "${AGENT[a]}" 2> /dev/null || true
if STARGATE_TOKEN=alice-token-0123456789 "$BIN" node join-token create 2> err.txt; then fail "a user made a join token"; fi
grep -q 403 err.txt || fail "user join token: $(cat err.txt)"
"$BIN" node join-token create -q --node b > for-b.txt
STARGATE_JOIN_TOKEN=$(cat for-b.txt) start_agent a
REVOKED=$("$BIN" node join-token create -q)
STARGATE_JOIN_TOKEN=$REVOKED "$BIN" node join-token revoke "$(echo "$REVOKED" | cut -d_ -f2)" > /dev/null
STARGATE_JOIN_TOKEN=$REVOKED start_agent c
sleep 1.5
[ "$("$BIN" node list | tail -n +2 | wc -l)" = 0 ] || fail "a bad join token admitted a node: $("$BIN" node list)"
grep -q "is for node b only" agent-a.log || fail "node-bound token: $(cat agent-a.log)"
grep -q "was revoked" agent-c.log || fail "revoked token: $(cat agent-c.log)"
kill "${AGENT[a]}" "${AGENT[c]}"; wait "${AGENT[a]}" "${AGENT[c]}" 2> /dev/null || true
"$BIN" node join-token create -q > join.txt
start_agent a --join-token-file join.txt
wait_up 1
[ "$(stat -c %a wa/credentials/a)" = 600 ] || fail "the node credential is not 0600"
grep -q "join token" <<< "$(curl -s -H "Authorization: Bearer admin-token-0123456789" "$STARGATE_SERVER/v1/audit?action=refuse")" ||
  fail "refusals were not audited"
"$BIN" node join-token list | grep -q revoked || fail "join-token list: $("$BIN" node join-token list)"
"$BIN" node join-token list | grep -q "sgj_" && fail "join-token list shows a secret"
printf 'name: secret\ntenant: ml\nrun: echo "the ml secret"; sleep 30\n' > ml.yaml
STARGATE_TOKEN=alice-token-0123456789 "$BIN" job submit ml.yaml > /dev/null
wait_state 1 running 20
for _ in $(seq 50); do STARGATE_TOKEN=alice-token-0123456789 "$BIN" job logs 1 2> /dev/null | grep -q "ml secret" && break; sleep 0.1; done
STARGATE_TOKEN=alice-token-0123456789 "$BIN" job logs 1 | grep -q "the ml secret" || fail "the owner cannot read its log"
for cmd in "job show 1" "job cancel 1" "job logs 1"; do
  if STARGATE_TOKEN=bob-token-01234567890 "$BIN" $cmd > out.txt 2> err.txt; then fail "bob could $cmd: $(cat out.txt)"; fi
  grep -q "404" err.txt || fail "bob's $cmd: $(cat err.txt)"
  grep -q "ml secret" out.txt && fail "bob read the log"
done
if STARGATE_TOKEN= "$BIN" job list 2> err.txt; then fail "no token was accepted"; fi
grep -q "401" err.txt || fail "no token: $(cat err.txt)"
curl -s -o /dev/null -w '%{http_code}' "$STARGATE_SERVER/v1/jobs/1/logs/0" | grep -q 401 || fail "anonymous log read"
wait_state 1 running 1  # refused calls changed nothing
LOG_PORT=$("$BIN" node list > /dev/null; curl -s -H "Authorization: Bearer admin-token-0123456789" \
  "$STARGATE_SERVER/v1/nodes" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["log_port"])')
code=$(curl -s -o body.txt -w '%{http_code}' "http://127.0.0.1:$LOG_PORT/logs/job-1-attempt-1.log")
[ "$code" = 401 ] || fail "the agent's log server answered $code without its token: $(cat body.txt)"
grep -q "ml secret" body.txt && fail "the agent's log server leaked the log"
STARGATE_TOKEN=alice-token-0123456789 "$BIN" job cancel 1 > /dev/null
wait_state 1 cancelled 20
echo "tokens CLI: ok"
