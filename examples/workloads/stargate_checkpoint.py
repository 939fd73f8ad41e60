"""Checkpoints as Stargate's site stores keep them, for Python jobs.

A checkpoint is a directory step-<12 digits> in the job's checkpoint area
($STARGATE_CHECKPOINT_DIR) with the job's files and MANIFEST.json (every
file's size and SHA-256; the format is in
src/control/agent/checkpoint_store.h, and `stargate checkpoint
seal|verify|latest` is the same for shell scripts). It is complete when the
manifest exists and every file matches it: a checkpoint cut short by a
crash, truncated or corrupted is never restored, and replication copies
complete ones only.

    def write(d): torch.save(state, os.path.join(d, "ckpt.pt"))
    save(area, step, write)               # files, then the manifest, then the rename
    found = latest(area)                  # (directory, manifest) or None
"""
import hashlib
import json
import os
import shutil
import sys
import time

MANIFEST = "MANIFEST.json"
FORMAT = "stargate-checkpoint/1"


def dir_name(step):
    return f"step-{step:012d}"


def step_of(name):
    if not name.startswith("step-") or len(name) != 17 or not name[5:].isdigit():
        return None
    return int(name[5:])


def _fsync(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash(path):
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def seal(directory, step):
    """Writes the manifest of every file in `directory`, atomically."""
    files = []
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, directory).replace(os.sep, "/")
            if rel == MANIFEST or rel.startswith(MANIFEST + ".tmp"):
                continue
            size, digest = _hash(path)
            _fsync(path)
            files.append({"path": rel, "size": size, "sha256": digest})
    files.sort(key=lambda f: f["path"])
    manifest = {"format": FORMAT, "step": step, "time_unix_ms": int(time.time() * 1000), "files": files}
    tmp = os.path.join(directory, MANIFEST + ".tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(directory, MANIFEST))
    _fsync(directory, directory=True)
    return manifest


def save(area, step, write, keep=2):
    """Writes a checkpoint of `step`: write(tmpdir) makes the files, then it
    is sealed and renamed to step-N, and only the newest `keep` complete
    ones stay. Returns its directory."""
    os.makedirs(area, exist_ok=True)
    tmp = os.path.join(area, f".{dir_name(step)}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    write(tmp)
    seal(tmp, step)
    final = os.path.join(area, dir_name(step))
    if os.path.exists(final):  # the same step again (a rerun): the new one wins
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync(area, directory=True)
    prune(area, keep)
    return final


def verify(directory):
    """The manifest when `directory` is a complete checkpoint, else raises
    ValueError saying why."""
    try:
        with open(os.path.join(directory, MANIFEST)) as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{directory}: no {MANIFEST} (not sealed: cut short?)")
    except json.JSONDecodeError as e:
        raise ValueError(f"{directory}: {MANIFEST}: {e}")
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{directory}: {MANIFEST}: format is not {FORMAT}")
    for entry in manifest.get("files", []):
        rel = entry["path"]
        if rel.startswith("/") or ".." in rel.split("/"):
            raise ValueError(f"{directory}: {rel}: outside the checkpoint")
        path = os.path.join(directory, rel)
        if not os.path.isfile(path):
            raise ValueError(f"{directory}: {rel} is missing")
        size, digest = _hash(path)
        if size != entry["size"]:
            raise ValueError(f"{directory}: {rel} is {size} bytes, the manifest says {entry['size']} (truncated?)")
        if digest != entry["sha256"]:
            raise ValueError(f"{directory}: {rel} does not match its SHA-256 (corrupted)")
    return manifest


def latest(area, log=sys.stderr):
    """(directory, manifest) of the newest complete checkpoint in `area`, or
    None; newer incomplete ones are named on `log` and skipped."""
    try:
        names = os.listdir(area)
    except FileNotFoundError:
        return None
    steps = sorted(((step_of(n), n) for n in names if step_of(n) is not None), reverse=True)
    for step, name in steps:
        directory = os.path.join(area, name)
        try:
            manifest = verify(directory)
        except ValueError as e:
            print(f"checkpoint skipped: {e}", file=log, flush=True)
            continue
        if manifest["step"] != step:
            print(f"checkpoint skipped: {directory}: its manifest says step {manifest['step']}", file=log, flush=True)
            continue
        return directory, manifest
    return None


def prune(area, keep):
    """Removes sealed checkpoints beyond the newest `keep`, and unsealed
    ones older than the newest sealed one (never a newer one: it may be
    being written). Sealed, not verified: reading every byte back on each
    save would cost more than the save; latest() verifies."""
    steps = sorted(((step_of(n), n) for n in os.listdir(area) if step_of(n) is not None), reverse=True)
    sealed = 0
    for step, name in steps:
        directory = os.path.join(area, name)
        if os.path.isfile(os.path.join(directory, MANIFEST)):
            sealed += 1
            if sealed > keep:
                shutil.rmtree(directory, ignore_errors=True)
        elif sealed > 0:
            shutil.rmtree(directory, ignore_errors=True)
