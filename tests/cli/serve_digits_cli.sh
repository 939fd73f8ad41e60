#!/usr/bin/env bash
# The quick start's serving step as written (docs/quickstart.md, issue 21):
# from the repository's root, `stargate serve examples/serve/digits.yaml`
# starts the shipped digits classifier (no install path in the file: the
# replicas find serve.py through STARGATE_SUBMIT_DIR), and the shipped
# sample request examples/serve/digit.json, a handwritten 0, comes back
# classified 0 through the router, naming the replica that answered.
# Skipped (exit 77) where /usr/bin/python3 cannot import torch and sklearn.
# Usage: serve_digits_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
ROOT="$(cd "$2" && pwd)"
/usr/bin/python3 -c "import torch, sklearn" 2> /dev/null || { echo "SKIP: /usr/bin/python3 lacks torch or sklearn"; exit 77; }
source "$(dirname "$0")/lib/cluster.bash"

start_server
start_agent a --accelerators CPU:2 --region us-east
wait_up 1
(cd "$ROOT" && exec "$BIN" serve examples/serve/digits.yaml --listen 127.0.0.1:0 --port-file "$TMP/router-port" \
  --region us-east) > serve.log 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s router-port ] && break; sleep 0.05; done
[ -s router-port ] || fail "the router did not start: $(cat serve.log)"
ROUTER="http://127.0.0.1:$(cat router-port)"
answer=""
deadline=$((SECONDS + 120))  # serve.py trains its small model first when it has no checkpoint
while [ $SECONDS -lt $deadline ]; do
  answer=$(cd "$ROOT" && curl -s -m 5 -D "$TMP/headers" -H 'X-Stargate-Region: eu-west' \
    -d @examples/serve/digit.json "$ROUTER/v1/predict" || true)
  grep -q '"classes"' <<< "$answer" && break
  sleep 0.2
done
grep -q '"classes": \[0\]' <<< "$answer" || fail "the sample 0 came back as: $answer ($(tail -5 serve.log))"
grep -qi '^x-stargate-replica: digits-r' headers || fail "no replica named in the answer: $(cat headers)"
"$BIN" job list -o json | /usr/bin/python3 -c '
import json, sys
doc = json.load(sys.stdin)
jobs = [j for j in (doc["jobs"] if isinstance(doc, dict) else doc) if j["name"].startswith("digits-r")]
assert len(jobs) >= 2, jobs' || fail "two replica jobs expected: $("$BIN" job list)"
echo "serve digits CLI: ok ($answer)"
