#!/usr/bin/python3
"""A stand-in model server for the serving tests and benchmark (stdlib only).

Listens on 127.0.0.1:$PORT. GET /health answers 200. Any other request
answers {"replica": $STARGATE_REPLICA, "path": ..., "bytes": len(body)};
a query `ms=N` makes it take N milliseconds first (a slow model).
"""
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

NAME = os.environ.get("STARGATE_REPLICA", "replica")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the router reuses its connections
    # Headers and body in one segment: with Nagle on, a second small write
    # waits for the peer's delayed ACK (~40 ms on Linux).
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_message(self, *args):
        pass

    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        url = urlparse(self.path)
        if url.path == "/health":
            data = b'{"status":"ok"}'
        else:
            ms = float(parse_qs(url.query).get("ms", ["0"])[0])
            if ms > 0:
                time.sleep(ms / 1000)
            data = json.dumps({"replica": NAME, "path": url.path, "bytes": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = answer
    do_POST = answer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    server = Server(("127.0.0.1", int(os.environ["PORT"])), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
