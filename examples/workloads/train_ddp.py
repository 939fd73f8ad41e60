#!/usr/bin/python3
"""Data-parallel training (PyTorch DDP) that survives failures.

Trains a small MLP on scikit-learn's digits (8x8 images, 10 classes; the
data set ships in Debian's python3-sklearn, so no download) across
WORLD_SIZE processes. Launched by Stargate (or torchrun) it reads:

  RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT   torchrun env
  STARGATE_CHECKPOINT_DIR        where checkpoints go (default ./checkpoints)
  STARGATE_CHECKPOINT_INTERVAL_S seconds between checkpoints (with --ckpt-every)
  STARGATE_RESTART_COUNT         how many times the job was restarted
  STARGATE_CHECKPOINT_KEEP       complete checkpoints kept (default 2)

Checkpoints are step-N directories sealed with a manifest of every file's
size and SHA-256 (stargate_checkpoint.py: files, fsync, manifest, rename),
written every --ckpt-every steps, every
STARGATE_CHECKPOINT_INTERVAL_S seconds, and on SIGTERM (a preemption
warning or a stop: the ranks agree on the step to stop at, rank 0 writes,
all exit 143). On start the newest complete checkpoint is loaded (a torn,
truncated or corrupted one is skipped, and named), so a restarted job
continues its step count. Gloo on CPU, NCCL when every rank has a GPU.

Output (rank 0): "step S loss L acc A steps/s R" every --log-every steps,
one "checkpoint ..." line per checkpoint, and at the end a JSON line
starting with "RESULT " (final test accuracy, steps, timings).
"""
import argparse
import datetime
import json
import os
import signal
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stargate_checkpoint  # noqa: E402  (beside this file)

CHECKPOINT = "ckpt.pt"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=600, help="optimizer steps in all")
    p.add_argument("--batch", type=int, default=32, help="per-rank batch size")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--ckpt-every", type=int, default=50, help="checkpoint every N steps (0 = by time only)")
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--step-sleep", type=float, default=0.0,
                   help="seconds to sleep per step: stretches a demo or test run so it can be interrupted")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def load_digits(seed):
    """Digits as float tensors, split 80/20 the same way on every rank."""
    from sklearn.datasets import load_digits as sk_digits
    x, y = sk_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x), generator=g)
    cut = int(0.8 * len(x))
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


def model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def accuracy(net, x, y):
    with torch.no_grad():
        return (net(x).argmax(dim=1) == y).float().mean().item()


def main():
    args = parse_args()
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    ckpt_dir = os.environ.get("STARGATE_CHECKPOINT_DIR", "checkpoints")
    interval_s = float(os.environ.get("STARGATE_CHECKPOINT_INTERVAL_S", "0") or 0)
    restarts = int(os.environ.get("STARGATE_RESTART_COUNT", "0"))
    keep = int(os.environ.get("STARGATE_CHECKPOINT_KEEP", "2") or 2)
    os.makedirs(ckpt_dir, exist_ok=True)

    stop = {"asked": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("asked", True))

    gpu = torch.cuda.is_available() and torch.cuda.device_count() > local_rank
    backend = "nccl" if gpu and dist.is_nccl_available() else "gloo"
    device = torch.device(f"cuda:{local_rank}") if backend == "nccl" else torch.device("cpu")
    started = time.time()
    # A lost peer shows as a collective that times out; Stargate stops the
    # survivors before then.
    dist.init_process_group(backend, rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60))
    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits(args.seed)
    # Each rank trains on its own shard of the training set.
    x_mine, y_mine = x_train[rank::world].to(device), y_train[rank::world].to(device)

    net = model().to(device)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    step = 0
    found = stargate_checkpoint.latest(ckpt_dir)  # complete ones only: never a torn or truncated one
    if found is not None:
        state = torch.load(os.path.join(found[0], CHECKPOINT), map_location=device)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step = state["step"]
    resumed_at = step
    ddp = DDP(net, device_ids=[local_rank] if backend == "nccl" else None)
    loss_fn = nn.CrossEntropyLoss()
    if rank == 0:
        print(f"rank 0 of {world} ({backend}, {device}); restart {restarts}; resuming at step {resumed_at}",
              flush=True)

    saved = {"step": step, "count": 0, "seconds": 0.0}

    def checkpoint(why):
        t = time.time()
        saved["step"] = step
        if rank == 0:
            state = {"model": net.state_dict(), "optimizer": opt.state_dict(), "step": step}
            stargate_checkpoint.save(ckpt_dir, step, lambda d: torch.save(state, os.path.join(d, CHECKPOINT)), keep)
            print(f"checkpoint at step {step} ({why})", flush=True)
        dist.barrier()
        saved["count"] += 1
        saved["seconds"] += time.time() - t

    g = torch.Generator().manual_seed(args.seed * 1000 + rank)
    last_ckpt = time.time()
    first_step_at = time.time()
    window_t, window_steps = time.time(), 0
    preempted = False
    while step < args.steps:
        if step == resumed_at and rank == 0:  # for goodput: when useful work (re)starts
            print(f"timing: process start {started:.3f} first step {time.time():.3f} (unix s)", flush=True)
        idx = torch.randint(0, len(x_mine), (args.batch,), generator=g)
        opt.zero_grad()
        loss = loss_fn(ddp(x_mine[idx]), y_mine[idx])
        loss.backward()  # DDP all-reduces the gradients here
        opt.step()
        step += 1
        window_steps += 1
        if args.step_sleep > 0:
            time.sleep(args.step_sleep)
        # The ranks agree on stopping (SIGTERM reaches them at different
        # steps) and on time-based checkpoints (clocks differ).
        flags = torch.tensor([float(stop["asked"]),
                              float(interval_s > 0 and time.time() - last_ckpt >= interval_s)], device=device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        if flags[0] > 0:
            checkpoint("SIGTERM")
            preempted = True
            break
        if (args.ckpt_every > 0 and step % args.ckpt_every == 0) or flags[1] > 0:
            checkpoint("interval")
            last_ckpt = time.time()
        if rank == 0 and step % args.log_every == 0:
            now = time.time()
            acc = accuracy(net, x_test.to(device), y_test.to(device))
            print(f"step {step} loss {loss.item():.4f} acc {acc:.3f} steps/s {window_steps / (now - window_t):.1f}",
                  flush=True)
            window_t, window_steps = now, 0
    if not preempted and saved["step"] != step:
        checkpoint("final")  # what a serving job loads
    if rank == 0:
        acc = accuracy(net, x_test.to(device), y_test.to(device))
        result = {"rank": rank, "world": world, "backend": backend, "restart": restarts,
                  "resumed_at": resumed_at, "step": step, "steps_this_attempt": step - resumed_at,
                  "test_accuracy": round(acc, 4), "chance": 0.1, "preempted": preempted,
                  "seconds": round(time.time() - started, 3),
                  "step_seconds": round(time.time() - first_step_at, 3),
                  "checkpoints": saved["count"], "checkpoint_seconds": round(saved["seconds"], 4),
                  "end_unix": round(time.time(), 3)}
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()
    sys.exit(143 if preempted else 0)


if __name__ == "__main__":
    main()
