#!/usr/bin/env bash
# Mutual TLS between agents and the server (issue 6): `stargate cert` makes
# a CA and certificates; a server with --tls-* accepts an agent whose
# certificate the CA signed (it registers and runs a job), and refuses one
# without TLS and one with a certificate from another CA. Keys are 0600.
# Identities are bound to certificates (--node-auth auto = cert with TLS):
# a's certificate cannot register node b, nor a second agent take node a
# while a is live; each refusal is audited and the agent says why.
# Usage: tls_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
"$BIN" cert ca --dir pki > /dev/null
"$BIN" cert issue --dir pki --name server --ip 127.0.0.1 > /dev/null
"$BIN" cert issue --dir pki --name a > /dev/null
"$BIN" cert ca --dir rogue --name mallory > /dev/null
"$BIN" cert issue --dir rogue --name r > /dev/null
[ "$(stat -c %a pki/ca.key)" = 600 ] && [ "$(stat -c %a pki/a.key)" = 600 ] || fail "keys are not 0600"
if "$BIN" cert issue --dir nowhere --name x 2> err.txt; then fail "issued without a CA"; fi
grep -q "no CA in nowhere" err.txt || fail "missing-CA message: $(cat err.txt)"
start_server --tls-cert pki/server.crt --tls-key pki/server.key --tls-ca pki/ca.crt
TLS="--tls-ca pki/ca.crt"
start_agent a --tls-cert pki/a.crt --tls-key pki/a.key $TLS
wait_up 1
start_agent plain
start_agent rogue --tls-cert rogue/r.crt --tls-key rogue/r.key $TLS
start_agent b --tls-cert pki/a.crt --tls-key pki/a.key $TLS
"$BIN" agent --server "127.0.0.1:$AGENT_PORT" --name a --site lab --work-dir wa2 --tls-cert pki/a.crt \
  --tls-key pki/a.key $TLS >> agent-a2.log 2>&1 &
PIDS+=($!)
printf 'name: t\nrun: echo over tls\n' > t.yaml
"$BIN" job submit t.yaml > /dev/null
wait_state 1 succeeded 20
sleep 2
[ "$("$BIN" node list | tail -n +2 | wc -l)" = 1 ] || fail "a node without a valid certificate registered: $("$BIN" node list)"
grep -q "register\|refused" agent-plain.log || fail "the plaintext agent did not report its failure"
grep -q "warning: the certificate (--tls-cert) is not signed by the CA in --tls-ca" agent-rogue.log ||
  fail "the rogue agent was not warned: $(cat agent-rogue.log)"
grep -q "the TLS handshake with .* failed: the server must trust the CA" agent-rogue.log ||
  fail "the rogue agent did not say why its handshake failed: $(cat agent-rogue.log)"
grep -q "certificate names a, not this node" agent-b.log || fail "b with a's certificate: $(cat agent-b.log)"
grep -q "held by another agent" agent-a2.log || fail "a second agent for a: $(cat agent-a2.log)"
grep -q "warning: the certificate (--tls-cert) names a, not this node" agent-b.log || fail "b was not warned"
AUDIT=$(curl -s "$STARGATE_SERVER/v1/audit?action=refuse")
echo "$AUDIT" | grep -q '"node b"' || fail "b's refusal was not audited: $AUDIT"
echo "$AUDIT" | grep -q 'held by another agent' || fail "the second a was not audited: $AUDIT"
"$BIN" node list | grep -q "^a .* up " || fail "node a lost its place: $("$BIN" node list)"
if "$BIN" agent --tls-cert pki/a.crt --server 127.0.0.1:1 2> err.txt; then fail "half the TLS flags were accepted"; fi
grep -q "go together" err.txt || fail "TLS flag message: $(cat err.txt)"
echo "TLS CLI: ok"
