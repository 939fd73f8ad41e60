#!/usr/bin/env bash
# Checkpoints that are never restored half-written (issue 22): `stargate
# checkpoint seal|verify|latest` on a shell-made checkpoint, a truncated
# and an unsealed one; then examples/workloads/train_ddp.py, whose newest
# checkpoint is truncated and whose next one was cut short before its
# manifest, resumes from the last complete one and says what it skipped.
# The training part is skipped where /usr/bin/python3 lacks torch.
# Usage: checkpoint_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
ROOT="$(cd "$2" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$TMP"

# A shell script's checkpoint: files, seal, rename.
mkdir -p area/.tmp/opt
head -c 100000 /dev/urandom > area/.tmp/weights.bin
echo "lr=0.1" > area/.tmp/opt/state.txt
"$BIN" checkpoint seal area/.tmp --step 5 > seal.out || fail "seal: $(cat seal.out)"
grep -q "step 5, 2 files, 100007 bytes" seal.out || fail "seal said: $(cat seal.out)"
mv area/.tmp area/step-000000000005
"$BIN" checkpoint verify area/step-000000000005 > /dev/null || fail "a sealed checkpoint does not verify"
[ "$("$BIN" checkpoint latest -q area)" = "area/step-000000000005" ] || fail "latest: $("$BIN" checkpoint latest area)"
# A newer one cut short before its manifest, and one truncated after it.
mkdir -p area/step-000000000009 && echo half > area/step-000000000009/weights.bin
cp -r area/step-000000000005 area/step-000000000007
sed -i 's/"step": 5/"step": 7/' area/step-000000000007/MANIFEST.json
truncate -s 5000 area/step-000000000007/weights.bin
set +e
"$BIN" checkpoint verify area/step-000000000007 2> verify.err
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "weights.bin is 5000 bytes, the manifest says 100000 (truncated?)" verify.err ||
  fail "a truncated checkpoint: rc=$rc $(cat verify.err)"
[ "$("$BIN" checkpoint latest area 2> latest.err)" = "area/step-000000000005" ] || fail "latest took an incomplete one"
grep -q "skipped step-000000000009: .*no MANIFEST.json" latest.err || fail "latest: $(cat latest.err)"
grep -q "skipped step-000000000007: .*truncated" latest.err || fail "latest: $(cat latest.err)"
rm -r area/step-000000000005
set +e
"$BIN" checkpoint latest -q area > /dev/null 2>&1
rc=$?
set -e
[ "$rc" = 4 ] || fail "no complete checkpoint should be exit 4, got $rc"

if ! /usr/bin/python3 -c "import torch, sklearn" 2> /dev/null; then
  echo "checkpoint CLI: ok (training part skipped: /usr/bin/python3 lacks torch or sklearn)"
  exit 0
fi
export STARGATE_CHECKPOINT_DIR="$TMP/train"
/usr/bin/python3 "$ROOT/examples/workloads/train_ddp.py" --steps 160 --ckpt-every 50 > first.out 2>&1 ||
  fail "training: $(tail -5 first.out)"
ls train > ckpts.txt
[ "$(cat ckpts.txt | tr '\n' ' ')" = "step-000000000150 step-000000000160 " ] || fail "kept: $(cat ckpts.txt)"
"$BIN" checkpoint verify train/step-000000000160 > /dev/null || fail "the C++ verifier refuses Python's checkpoint"
# The node died while writing: the newest is truncated, a newer one unsealed.
truncate -s 100 train/step-000000000160/ckpt.pt
mkdir train/step-000000000170 && head -c 1000 /dev/urandom > train/step-000000000170/ckpt.pt
/usr/bin/python3 "$ROOT/examples/workloads/train_ddp.py" --steps 200 --ckpt-every 50 > second.out 2>&1 ||
  fail "training again: $(tail -5 second.out)"
grep -q "resuming at step 150" second.out || fail "did not resume from step 150: $(grep -i resum second.out)"
grep -q "checkpoint skipped: .*step-000000000170: no MANIFEST.json" second.out || fail "the unsealed one not named"
grep -q "checkpoint skipped: .*step-000000000160: ckpt.pt is 100 bytes" second.out || fail "the truncated one not named"
grep -q '"resumed_at": 150' second.out || fail "RESULT: $(grep RESULT second.out)"
echo "checkpoint CLI: ok"
