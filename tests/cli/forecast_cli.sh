#!/usr/bin/env bash
# The live forecast (issue 19): `stargate forecast` runs the server's state
# ahead with its own scheduler. Two CPU jobs of an hour run on a 2-CPU
# node; a third waits: it is forecast to start when the first ends (about
# an hour from now) on the same site, and to finish an hour after that.
# `job show` gives a pending job's predicted start from the server's
# standing forecast, and where its estimate comes from. What-ifs (one more node, a drain, a job submitted) answer with what
# changes and submit nothing. Bad flags exit 2; an unreachable server
# exits 1 naming the URL.
# Usage: forecast_cli.sh STARGATE_BINARY REPO_ROOT
set -euo pipefail
BIN="$1"
source "$(dirname "$0")/lib/cluster.bash"
start_server --forecast-interval 10s
start_agent a --accelerators CPU:2
wait_up 1
for i in 1 2 3; do
  printf 'name: j%s\nresources: {accelerators: CPU:1}\nestimate: 1h\nrun: sleep 300\n' "$i" > "j$i.yaml"
  "$BIN" job submit "j$i.yaml" > /dev/null
done
wait_state 1 running 10
wait_state 2 running 10
"$BIN" forecast --horizon 4h --seeds 2 -o json > forecast.json || fail "forecast -o json"
/usr/bin/python3 - <<'PY' || fail "forecast: $(cat forecast.json)"
import json
f = json.load(open("forecast.json"))
now = f["now_unix_ms"]
assert f["horizon_s"] == 4 * 3600 and f["seeds"] == 2, f
jobs = {j["name"]: j for j in f["jobs"]}
assert jobs["j1"]["state"] == "running" and jobs["j3"]["state"] == "pending", jobs
# j1 ends about an hour from now; j3 starts then, at site lab, and runs an hour.
end1 = jobs["j1"]["finish_unix_ms"]["p50"]
assert abs(end1 - now - 3600e3) < 60e3, end1 - now
start3 = jobs["j3"]["start_unix_ms"]["p50"]
assert abs(start3 - end1) < 60e3, (start3, end1)
assert abs(jobs["j3"]["finish_unix_ms"]["p50"] - start3 - 3600e3) < 60e3
assert jobs["j3"]["site"] == "lab" and jobs["j3"]["site_share"] == 1.0
assert [s["name"] for s in f["sites"]] == ["lab"] and f["sites"][0]["accelerators"] == 2
print("forecast json ok")
PY
out="$("$BIN" forecast --horizon 2h --seeds 1)" || fail "forecast table"
grep -q "^JOB " <<< "$out" || fail "no job table: $out"
grep -Eq "^3 +j3 +default +pending +\+(59m|1h0[01]m)" <<< "$out" || fail "j3's start not in the table: $out"
grep -q "^lab " <<< "$out" || fail "no site row: $out"
# What if the site had one more node: j3 starts now, and a job submitted
# in the what-if is forecast (it is not submitted).
out="$("$BIN" forecast --horizon 4h --seeds 1 --add-nodes lab:1:CPU:2 --submit j1.yaml)" || fail "what-if: $out"
grep -Eq "^3 +j3 +\+(59m|1h0[01]m) +-> +now " <<< "$out" || fail "j3 should start now with one more node: $out"
grep -Eq "^4 +j1 .*submitted in the what-if" <<< "$out" || fail "the what-if's job is missing: $out"
[ "$("$BIN" job list | grep -c ' j1 ')" = 1 ] || fail "a what-if submitted a job"
"$BIN" forecast --seeds 1 --drain lab -o json > whatif.json || fail "what-if -o json"
/usr/bin/python3 -c '
import json
f = json.load(open("whatif.json"))
j3 = [j for j in f["what_if"]["jobs"] if j["name"] == "j3"][0]
assert j3["start_unix_ms"]["p50"] is None, j3  # the only site takes no new work
assert [j["name"] for j in f["changes"]["jobs"]] == ["j3"], f["changes"]
' || fail "drain what-if: $(cat whatif.json)"
code=0; "$BIN" forecast --drain nowhere > err.out 2>&1 || code=$?
[ "$code" = 2 ] && grep -q "no site or node named 'nowhere'" err.out || fail "--drain nowhere: exit $code: $(cat err.out)"
code=0; "$BIN" forecast --spike lab:wind=3 > err.out 2>&1 || code=$?
[ "$code" = 2 ] || fail "--spike lab:wind=3: exit $code: $(cat err.out)"
# The standing forecast (every 10 s here) shows with the pending job.
for _ in $(seq 150); do
  "$BIN" job show 3 > show.out
  grep -q "^predicted:" show.out && break
  sleep 0.1
done
grep -Eq "^predicted: starts in (0h59m|1h0[01]m) .* at lab \(100% of runs\), finishes in (1h59m|2h0[01]m)" show.out ||
  fail "job show 3: $(cat show.out)"
"$BIN" job show 1 | grep -Eq "^predicted: finishes in (0h59m|1h0[01]m)" || fail "job show 1: $("$BIN" job show 1)"
# Where each estimate comes from: the file's, or (estimate: auto, the
# default) the server's prediction, with no history yet its default hour.
grep -q "^estimate:  1h00m (the job file)" show.out || fail "job show 3's estimate: $(cat show.out)"
printf 'name: auto\nresources: {accelerators: CPU:1}\nrun: sleep 300\n' > auto.yaml
id="$("$BIN" job submit auto.yaml | grep -Eo '[0-9]+' | head -1)"
"$BIN" job show "$id" | grep -q "^estimate:  1h00m (no history yet: the default of 1 h)" ||
  fail "job show $id's estimate: $("$BIN" job show "$id")"
# The forecast as a scenario file, rerun by the twin: j3 (job 3) starts
# when j1 ends, about an hour in, as the forecast says.
"$BIN" forecast --horizon 4h --export forecast-scenario.yaml 2> export.err || fail "--export: $(cat export.err)"
grep -q "twin run forecast-scenario.yaml" export.err || fail "--export says: $(cat export.err)"
grep -q "name: j3#3" forecast-scenario.yaml || fail "no j3#3 in the export: $(head -50 forecast-scenario.yaml)"
"$BIN" twin run forecast-scenario.yaml --out rerun -q || fail "twin run of the export"
/usr/bin/python3 - <<'PY' || fail "the rerun: $(ls -R rerun)"
import csv, glob
rows = {r["name"]: r for r in csv.DictReader(open(glob.glob("rerun/*/jobs.csv")[0]))}
start = float(rows["j3#3"]["first_start_h"])
assert 0.95 < start < 1.05, rows["j3#3"]
PY
"$BIN" forecast --export - --drain lab@1h | grep -q "^drains:" || fail "--export - with a drain"
code=0; "$BIN" forecast --horizon 8d > err.out 2>&1 || code=$?
[ "$code" = 2 ] && grep -q "at most 7d" err.out || fail "--horizon 8d: exit $code: $(cat err.out)"
code=0; "$BIN" forecast -o yaml > err.out 2>&1 || code=$?
[ "$code" = 2 ] || fail "-o yaml: exit $code"
code=0; "$BIN" forecast --server http://127.0.0.1:1 > err.out 2>&1 || code=$?
[ "$code" = 7 ] && grep -q "127.0.0.1:1" err.out || fail "unreachable: exit $code: $(cat err.out)"
echo "forecast CLI: ok"
