#!/usr/bin/python3
"""Geo-distributed training in the DiLoCo style (Douillard et al., "DiLoCo:
Distributed Low-Communication Training of Language Models", arXiv
2311.08455, 2023).

Each worker (one per site, RANK/WORLD_SIZE as torchrun sets them) trains
its own copy of the model for --inner-steps H steps with AdamW on its own
shard of the data, then the workers average their outer gradients (the
change since the last sync, one all-reduce of the parameters) and apply
them with SGD + Nesterov momentum (the paper's outer lr 0.7, momentum
0.9). So the WAN carries one model's worth of bytes every H steps instead
of every step, as plain DDP would: --mode ddp runs the same job that way
for comparison. Same data and model as train_ddp.py (scikit-learn digits).

Checkpoints (sealed step-N directories, as in train_ddp.py:
stargate_checkpoint.py) hold the global model and the
outer optimizer, written every --ckpt-every outer steps and on SIGTERM (the
stop flag rides along with the outer all-reduce, so the ranks agree at a
sync point without an extra round trip); a restart resumes at the outer
step it saved. Rank 0 prints one line per outer step and a final
"RESULT {json}" with the bytes each worker sent.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stargate_checkpoint  # noqa: E402
from train_ddp import accuracy, load_digits, model  # noqa: E402

CHECKPOINT = "diloco.pt"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["diloco", "ddp"], default="diloco")
    p.add_argument("--outer-steps", type=int, default=30)
    p.add_argument("--inner-steps", type=int, default=20, help="H: local steps between syncs (diloco)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--inner-lr", type=float, default=3e-3)
    p.add_argument("--outer-lr", type=float, default=0.7)
    p.add_argument("--outer-momentum", type=float, default=0.9)
    p.add_argument("--ckpt-every", type=int, default=5, help="checkpoint every N outer steps")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def ring_wire_bytes(payload, world):
    """Bytes one worker sends in a ring all-reduce of `payload` bytes:
    reduce-scatter plus all-gather, 2 (n-1)/n of the payload."""
    return 2 * (world - 1) / world * payload if world > 1 else 0.0


def main():
    args = parse_args()
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    ckpt_dir = os.environ.get("STARGATE_CHECKPOINT_DIR", "checkpoints")
    os.makedirs(ckpt_dir, exist_ok=True)
    stop = {"asked": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("asked", True))

    started = time.time()
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=120))
    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits(args.seed)
    x_mine, y_mine = x_train[rank::world], y_train[rank::world]

    global_net = model()  # the synchronised parameters (identical on every rank)
    outer = torch.optim.SGD(global_net.parameters(), lr=args.outer_lr, momentum=args.outer_momentum, nesterov=True)
    outer_step = 0
    found = stargate_checkpoint.latest(ckpt_dir)  # complete ones only
    if found is not None:
        state = torch.load(os.path.join(found[0], CHECKPOINT))
        global_net.load_state_dict(state["model"])
        outer.load_state_dict(state["outer"])
        outer_step = state["outer_step"]
    resumed_at = outer_step
    local = model()
    local.load_state_dict(global_net.state_dict())
    inner = torch.optim.AdamW(local.parameters(), lr=args.inner_lr)
    params = sum(p.numel() for p in global_net.parameters())
    payload = params * 4  # float32
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(args.seed * 1000 + rank)
    sent = 0.0
    comm_s = 0.0
    preempted = False
    if rank == 0:
        print(f"{args.mode}: {world} workers, {params} parameters; resuming at outer step {resumed_at}", flush=True)

    while outer_step < args.outer_steps:
        steps = args.inner_steps
        for _ in range(steps):
            idx = torch.randint(0, len(x_mine), (args.batch,), generator=g)
            inner.zero_grad()
            loss = loss_fn(local(x_mine[idx]), y_mine[idx])
            loss.backward()
            if args.mode == "ddp":  # plain data parallelism: average gradients every step
                t = time.time()
                for p in local.parameters():
                    dist.all_reduce(p.grad)
                    p.grad /= world
                comm_s += time.time() - t
                sent += ring_wire_bytes(payload, world)
            inner.step()
        # The outer step: average (global - local) and apply it to the global
        # model; the stop flag rides in the same all-reduce.
        flat = torch.cat([(gp.data - lp.data).reshape(-1)
                          for gp, lp in zip(global_net.parameters(), local.parameters())])
        if args.mode == "ddp":  # replicas are already equal: only the flag travels
            flat = torch.zeros(0)
        msg = torch.cat([flat, torch.tensor([float(stop["asked"])])])
        t = time.time()
        dist.all_reduce(msg)
        comm_s += time.time() - t
        if args.mode == "diloco":
            sent += ring_wire_bytes(payload, world)
            delta = msg[:-1] / world
            offset = 0
            outer.zero_grad()
            for gp in global_net.parameters():
                n = gp.numel()
                gp.grad = delta[offset:offset + n].view_as(gp).clone()
                offset += n
            outer.step()
        else:
            global_net.load_state_dict(local.state_dict())
        local.load_state_dict(global_net.state_dict())
        outer_step += 1
        if rank == 0:
            acc = accuracy(global_net, x_test, y_test)
            print(f"outer {outer_step} loss {loss.item():.4f} acc {acc:.3f} sent {sent / 1e6:.3f} MB", flush=True)
        if msg[-1] > 0 or outer_step % args.ckpt_every == 0 or outer_step == args.outer_steps:
            if rank == 0:
                state = {"model": global_net.state_dict(), "outer": outer.state_dict(), "outer_step": outer_step}
                stargate_checkpoint.save(ckpt_dir, outer_step, lambda d: torch.save(state, os.path.join(d, CHECKPOINT)))
                print(f"checkpoint at outer step {outer_step}{' (SIGTERM)' if msg[-1] > 0 else ''}", flush=True)
            dist.barrier()
        if msg[-1] > 0:
            preempted = True
            break
    if rank == 0:
        inner_steps = (outer_step - resumed_at) * args.inner_steps
        result = {"mode": args.mode, "world": world, "parameters": params, "inner_steps_per_sync": args.inner_steps,
                  "outer_step": outer_step, "resumed_at": resumed_at,
                  "test_accuracy": round(accuracy(global_net, x_test, y_test), 4),
                  "bytes_sent_per_worker": int(sent),
                  "bytes_per_step": round(sent / max(1, inner_steps), 1),
                  "comm_seconds": round(comm_s, 3), "seconds": round(time.time() - started, 3),
                  "preempted": preempted}
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()
    sys.exit(143 if preempted else 0)


if __name__ == "__main__":
    main()
