#!/usr/bin/python3
"""Requests through a `stargate serve` router, for the serving test.

serve_load.py URL COUNT CONCURRENCY [REGION]: COUNT requests spread over
CONCURRENCY keep-alive connections, each with X-Stargate-Region: REGION if
given. Prints one line: ok=N failed=N by=replica:count,... and exits 0.
"""
import collections
import http.client
import sys
import threading
from urllib.parse import urlparse


def main():
    url, count, concurrency = urlparse(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    region = sys.argv[4] if len(sys.argv) > 4 else ""
    target = url.path + ("?" + url.query if url.query else "")
    lock = threading.Lock()
    left = [count]
    ok, failed, by = [0], [0], collections.Counter()

    def worker():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            headers = {"X-Stargate-Region": region} if region else {}
            try:
                conn.request("POST", target, body=b"{}", headers=headers)
                resp = conn.getresponse()
                resp.read()
                good = resp.status == 200
                replica = resp.getheader("X-Stargate-Replica", "-")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                good, replica = False, "-"
            with lock:
                if good:
                    ok[0] += 1
                    by[replica] += 1
                else:
                    failed[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("ok=%d failed=%d by=%s" % (ok[0], failed[0], ",".join("%s:%d" % kv for kv in sorted(by.items()))))


if __name__ == "__main__":
    main()
