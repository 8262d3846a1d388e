#!/usr/bin/env python3
"""Measures the svmnet: simulateTransaction (sigVerify) of an x402 payment per second.

    Tools/svmnet/.venv/bin/python Tools/svmnet/bench.py --url http://127.0.0.1:8899 [--seconds 5] [--connections 1,4]

Bounded in time; sends only to the given (local) URL. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_svmnet import SIM_CFG, Client, Setup, b64  # noqa: E402


def run(url: str, body: str, method: str, params: list, seconds: float, connections: int) -> float:
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        c = Client(url)
        while time.monotonic() < stop:
            r = c(method, *params)
            assert method != "simulateTransaction" or r["value"]["err"] is None, r
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--connections", default="1,4")
    args = ap.parse_args()
    rpc = Client(args.url)
    state = rpc("svmnet_state")
    s = Setup(rpc, state)
    body = b64(s.tx(rpc, 1))
    for n in (int(x) for x in args.connections.split(",")):
        rate = run(args.url, body, "simulateTransaction", [body, SIM_CFG], args.seconds, n)
        print(f"simulateTransaction (sigVerify, x402 payment): {rate:.0f}/s on {n} connection(s)")
        rate = run(args.url, body, "getSlot", [], args.seconds / 2, n)
        print(f"getSlot: {rate:.0f}/s on {n} connection(s)")
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < args.seconds / 2:
        rpc("sendTransaction", b64(s.tx(rpc, 1, memo=f"bench-{n}".encode())), {"encoding": "base64"})
        n += 1
    print(f"sendTransaction (with preflight, client-side build+sign included): {n / (time.monotonic() - t0):.0f}/s")
    print(f"stats: {rpc('svmnet_stats')['calls']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
