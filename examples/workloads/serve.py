#!/usr/bin/python3
"""Serve the digits classifier over HTTP: something real to route to.

Loads the model train_ddp.py checkpointed (--checkpoint FILE, or by default
ckpt.pt of the newest complete checkpoint in $STARGATE_CHECKPOINT_DIR,
stargate_checkpoint.py); with no checkpoint it trains one in a
few seconds first (the same MLP, one process). Endpoints:

  GET  /health                 {"status": "ok", "step": N, "requests": N}
  POST /v1/predict             {"pixels": [64 numbers in 0..16]} or
                               {"instances": [[64 numbers], ...]}
                               -> {"classes": [...], "probabilities": [[10], ...]}
  GET  /metrics                Prometheus text: requests, errors, latency sum

Listens on --host/--port (default 127.0.0.1 and $STARGATE_SERVE_PORT or
8500) and writes the port it bound to --port-file if given (port 0 picks a
free one). Bad requests get 400 with a JSON error; SIGTERM stops it.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stargate_checkpoint  # noqa: E402
from train_ddp import CHECKPOINT, load_digits, model  # noqa: E402  (same network and data as training)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default="", help="a ckpt.pt (default: the newest complete checkpoint's)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("STARGATE_SERVE_PORT", "8500")))
    p.add_argument("--port-file", default="")
    return p.parse_args()


def quick_train(net, steps=300):
    (x, y), _ = load_digits(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (32,), generator=g)
        opt.zero_grad()
        nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
        opt.step()
    return steps


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.errors = 0
        self.latency_s = 0.0


def make_handler(net, step, stats):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # one line per request is too much at load
            pass

        def reply(self, code, body, content_type="application/json"):
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, code, message):
            with stats.lock:
                stats.errors += 1
            self.reply(code, {"error": {"code": code, "message": message}})

        def do_GET(self):
            if self.path == "/health":
                self.reply(200, {"status": "ok", "step": step, "requests": stats.requests})
            elif self.path == "/metrics":
                with stats.lock:
                    text = (f"serve_requests_total {stats.requests}\n"
                            f"serve_errors_total {stats.errors}\n"
                            f"serve_latency_seconds_sum {stats.latency_s:.6f}\n")
                self.reply(200, text, "text/plain; version=0.0.4")
            else:
                self.error(404, f"no such resource {self.path}")

        def do_POST(self):
            start = time.perf_counter()
            if self.path != "/v1/predict":
                return self.error(404, f"no such resource {self.path}")
            try:
                length = int(self.headers.get("Content-Length", "0"))
                if length <= 0 or length > 1 << 20:
                    return self.error(400, "body must be 1 byte to 1 MiB of JSON")
                doc = json.loads(self.rfile.read(length))
                rows = doc["instances"] if "instances" in doc else [doc["pixels"]]
                x = torch.tensor(rows, dtype=torch.float32)
                if x.dim() != 2 or x.shape[1] != 64 or len(rows) > 1024:
                    return self.error(400, "expected up to 1024 rows of 64 pixel values")
            except (ValueError, KeyError, TypeError) as e:
                return self.error(400, f"bad request: {e}")
            with torch.no_grad():
                p = torch.softmax(net(x / 16.0), dim=1)
            self.reply(200, {"classes": p.argmax(dim=1).tolist(),
                             "probabilities": [[round(v, 5) for v in row] for row in p.tolist()]})
            with stats.lock:
                stats.requests += 1
                stats.latency_s += time.perf_counter() - start

    return Handler


def main():
    args = parse_args()
    net = model()
    path = args.checkpoint
    if not path:
        found = stargate_checkpoint.latest(os.environ.get("STARGATE_CHECKPOINT_DIR", "checkpoints"))
        path = os.path.join(found[0], CHECKPOINT) if found else ""
    if path and os.path.exists(path):
        state = torch.load(path, map_location="cpu")
        net.load_state_dict(state["model"])
        step = state["step"]
    else:
        step = quick_train(net)
    net.eval()
    stats = Stats()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(net, step, stats))
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.rename(tmp, args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"serving the digits model (step {step}) on http://{args.host}:{port}", flush=True)
    server.serve_forever()
    print(f"stopped after {stats.requests} requests", flush=True)


if __name__ == "__main__":
    main()
