#!/usr/bin/env python3
"""Throughput/latency measurements of a running devnet (numbers quoted in README.md).

    Tools/devnet/.venv/bin/python Tools/devnet/bench.py [--url http://127.0.0.1:8545] [--burst 200]

Measures eth_call of transferWithAuthorization per second, idle
sendRawTransaction → receipt latency, and how a burst of concurrent
transactions is mined. Uses the facilitator and payer accounts.

    bench.py --ceiling [--batch 32] [--seconds 10]

measures only the simulation ceiling: transfers simulated per second when
they are packed into one Multicall3 aggregate3 eth_call each (allowFailure,
as a coalescing facilitator sends them), one keep-alive connection. The
devnet is single-threaded, so this bounds any facilitator that simulates
every payment on it, however few node calls it makes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_devnet import MULTICALL3, TOKEN, Client, sign_auth, twa_vrs  # noqa: E402

from eth_abi import decode, encode  # noqa: E402
from eth_account import Account  # noqa: E402



def simulation_ceiling(rpc, fac, payers, payees, batch: int, seconds: float) -> None:
    """Transfers simulated per second in aggregate3 calls of `batch` transfers each."""
    calls = []
    for i in range(batch):
        m, sg = sign_auth(payers[i % len(payers)], payees[i % len(payees)], 1)
        calls.append((TOKEN, True, bytes.fromhex(twa_vrs(m, sg.v, sg.r, sg.s)[2:])))
    data = "0x82ad56cb" + encode(["(address,bool,bytes)[]"], [calls]).hex()
    call = {"from": fac.address, "to": MULTICALL3, "data": data}
    results = decode(["(bool,bytes)[]"], bytes.fromhex(rpc("eth_call", call, "pending")[2:]))[0]
    assert all(ok for ok, _ in results), "every transfer of the batch must succeed in the simulation"
    n = 0
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        rpc("eth_call", call, "pending")
        n += 1
    elapsed = time.perf_counter() - t
    print(f"eth_call aggregate3 of {batch} transferWithAuthorization: {n / elapsed:.1f} calls/s = "
          f"{n * batch / elapsed:.0f} simulated transfers/s ({elapsed / (n * batch) * 1000:.2f} ms per transfer), "
          f"1 keep-alive connection, {n} calls")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=os.environ.get("X402_DEVNET_URL", "http://127.0.0.1:8545"))
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--ceiling", action="store_true", help="measure only the simulation ceiling")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    rpc = Client(args.url)
    acc = rpc("devnet_accounts")
    fac = Account.from_key(acc["accounts"][0]["privateKey"])
    payers = [Account.from_key(a["privateKey"]) for a in acc["accounts"] if a["role"] == "payer"]
    payees = [a["address"] for a in acc["accounts"] if a["role"] == "payee"]
    if args.ceiling:
        for batch in sorted({1, args.batch}):
            simulation_ceiling(rpc, fac, payers, payees, batch, args.seconds)
        return 0

    msg, s = sign_auth(payers[0], payees[0], 1)
    call = {"from": fac.address, "to": TOKEN, "data": twa_vrs(msg, s.v, s.r, s.s)}
    assert rpc("eth_call", call, "latest") == "0x"

    n = 500
    t = time.perf_counter()
    for _ in range(n):
        rpc("eth_call", call, "latest")
    print(f"eth_call transferWithAuthorization: {n / (time.perf_counter() - t):.0f}/s (1 keep-alive connection)")
    t = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: rpc("eth_call", call, "latest"), range(n)))
    print(f"eth_call transferWithAuthorization: {n / (time.perf_counter() - t):.0f}/s (4 connections)")
    t = time.perf_counter()
    for _ in range(n):
        rpc("eth_chainId")
    print(f"eth_chainId: {n / (time.perf_counter() - t):.0f}/s")

    base = int(rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)

    def signed_twa(nonce: int, i: int) -> str:
        m, sg = sign_auth(payers[i % len(payers)], payees[i % len(payees)], 1)
        tx = {"type": 2, "chainId": 84532, "nonce": nonce, "to": TOKEN, "data": twa_vrs(m, sg.v, sg.r, sg.s),
              "gas": 150_000, "maxFeePerGas": 2 * base + 10**6, "maxPriorityFeePerGas": 10**6, "value": 0}
        return "0x" + fac.sign_transaction(tx).raw_transaction.hex()

    # idle latency: wait until the latest block is from an earlier second, then send one
    lat = []
    for i in range(5):
        time.sleep(1.2)
        nonce = int(rpc("eth_getTransactionCount", fac.address, "pending"), 16)
        raw = signed_twa(nonce, i)
        t = time.perf_counter()
        h = rpc("eth_sendRawTransaction", raw)
        t_sent = time.perf_counter()
        while rpc("eth_getTransactionReceipt", h) is None:
            time.sleep(0.002)
        lat.append((t_sent - t, time.perf_counter() - t))
    print("idle sendRawTransaction: %.1f ms; send → receipt visible: median %.1f ms (max %.1f)" % (
        statistics.median(a for a, _ in lat) * 1000, statistics.median(b for _, b in lat) * 1000,
        max(b for _, b in lat) * 1000))

    # burst
    time.sleep(1.2)
    nonce0 = int(rpc("eth_getTransactionCount", fac.address, "pending"), 16)
    raws = [signed_twa(nonce0 + i, i) for i in range(args.burst)]
    start_block = int(rpc("eth_blockNumber"), 16)
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        hashes = list(pool.map(lambda r: rpc("eth_sendRawTransaction", r), raws))
    t_sent = time.perf_counter() - t0
    pending = set(hashes)
    receipts = {}
    ahead = []
    while pending:
        batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}
                 for i, h in enumerate(sorted(pending))]
        for r in rpc.raw(json.dumps(batch).encode()):
            if r.get("result"):
                receipts[r["result"]["transactionHash"]] = r["result"]
                pending.discard(r["result"]["transactionHash"])
        time.sleep(0.02)
    t_all = time.perf_counter() - t0
    blocks = sorted({int(r["blockNumber"], 16) for r in receipts.values()})
    per_block = []
    for b in range(start_block + 1, blocks[-1] + 1):
        blk = rpc("eth_getBlockByNumber", hex(b), False)
        per_block.append((b, int(blk["timestamp"], 16), len(blk["transactions"])))
        ahead.append(int(blk["timestamp"], 16) - time.time())
    ok = sum(r["status"] == "0x1" for r in receipts.values())
    print(f"burst of {args.burst} txs over {args.threads} connections: all accepted in {t_sent:.2f}s "
          f"({args.burst / t_sent:.0f} tx/s), all receipts after {t_all:.2f}s, {ok} succeeded")
    print("  blocks (number, timestamp, txs): " + ", ".join(f"({b}, {ts}, {k})" for b, ts, k in per_block))
    print(f"  block timestamp minus wall clock when read: max {max(ahead):+.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
