"""Runs the shell session of a markdown document as written and checks it.

The session is the ```console block after the line
`<!-- session: tested by ... -->`. Each `$ COMMAND` line runs in one bash
(so variables carry from line to line), in WORKDIR, with the stargate
binary's directory first on PATH. A trailing `# exit N` says the exit code
expected (else 0). The lines up to the next `$` are what it prints:
standard output, or for a command expected to fail its standard error.
Output that starts with `{` or `[` is JSON whose shape is checked: every
key shown is there, with a value of the same JSON type (lists: each
element shaped as the first shown). Other output is compared line by
line, `...` in a line standing for any text.

Usage: session.py DOC BIN_DIR WORKDIR
"""
import json
import os
import re
import subprocess
import sys


def parse(doc):
    lines = open(doc, encoding="utf-8").read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("<!-- session:"))
    i = next(i for i in range(start, len(lines)) if lines[i].startswith("```console")) + 1
    steps = []
    while not lines[i].startswith("```"):
        line = lines[i]
        if line.startswith("$ "):
            m = re.match(r"^(.*?)\s+# exit (\d+)$", line[2:])
            cmd, code = (m.group(1), int(m.group(2))) if m else (line[2:], 0)
            steps.append({"cmd": cmd, "exit": code, "out": []})
        else:
            steps[-1]["out"].append(line)
        i += 1
    return steps


def kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def shape_ok(want, got, where="$"):
    if kind(want) != kind(got):
        return f"{where}: a {kind(got)}, the document shows a {kind(want)}"
    if isinstance(want, dict):
        for k, v in want.items():
            if k not in got:
                return f"{where}: no key '{k}'"
            why = shape_ok(v, got[k], f"{where}.{k}")
            if why:
                return why
    if isinstance(want, list) and want:
        for n, item in enumerate(got):
            why = shape_ok(want[0], item, f"{where}[{n}]")
            if why:
                return why
    return None


def main(doc, bin_dir, workdir):
    steps = parse(doc)
    script = ["set +e"]
    for n, s in enumerate(steps):
        script.append(f"{{ {s['cmd']}\n}} > out.{n} 2> err.{n} < /dev/null; echo $? > rc.{n}")
    env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"])
    subprocess.run(["bash", "-c", "\n".join(script)], cwd=workdir, env=env, check=False, timeout=600)
    failed = 0
    for n, s in enumerate(steps):
        read = lambda name: open(os.path.join(workdir, f"{name}.{n}"), encoding="utf-8", errors="replace").read()
        rc = int(read("rc").strip() or "-1")
        text = read("out") if s["exit"] == 0 else read("err")
        why = None
        if rc != s["exit"]:
            why = f"exit {rc}, the document says {s['exit']}"
        elif s["out"] and s["out"][0].lstrip().startswith(("{", "[")):
            try:
                why = shape_ok(json.loads("\n".join(s["out"])), json.loads(text))
            except json.JSONDecodeError as e:
                why = f"not JSON ({e})"
        elif s["out"]:
            got = text.rstrip("\n").split("\n")
            want = s["out"]
            if want[-1] == "...":  # and any lines after
                want = want[:-1]
                got = got[: len(want)]
            if len(got) != len(want) or not all(
                re.fullmatch(".*".join(re.escape(p) for p in w.split("...")), g) for w, g in zip(want, got)
            ):
                why = "printed something else"
        if why:
            failed += 1
            print(f"FAIL: $ {s['cmd']}\n  {why}\n  expected:\n    " + "\n    ".join(s["out"]) +
                  f"\n  stdout:\n    {read('out')!r}\n  stderr:\n    {read('err')!r}", file=sys.stderr)
    print(f"{len(steps) - failed} of {len(steps)} session commands as the document says")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
