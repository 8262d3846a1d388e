#!/usr/bin/env python3
"""Measure the official Python SDK facilitator's verify (and settle) speed on the devnet.

    bench_verify.py --rpc-url http://127.0.0.1:8548 --key-env FAC_KEY --payer-key-env PAYER_KEY \
        [--facilitator-url http://127.0.0.1:18402] [--n 100] [--settle-n 20]

* in-process: the SDK's x402FacilitatorSync.verify() called directly N times, sequentially,
  on one valid payload (verify is side-effect free), counting JSON-RPC calls per verify.
* http (with --facilitator-url, e.g. a running py_facilitator.py): N sequential
  POST /verify on one keep-alive connection; then --settle-n sequential POST /settle,
  each with a freshly signed payload (signing is not timed).
Prints one JSON line: {"inProcess": {...}, "http": {...}, "settle": {...}} with req/s, p50,
p90, p99, max in milliseconds; inProcess also has rpcCallsPerVerify (by method) and
rpcMsPerVerify (time spent waiting on the node). Use a payer that holds USDC for the settle part.
Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    DEFAULT_NETWORK,
    add_common_args,
    build_facilitator,
    dump_model,
    emit,
    fail,
    load_key,
    setup_logging,
)
from py_sign import build_client  # noqa: E402


def summarize(samples: list[float], wall: float) -> dict:
    s = sorted(samples)

    def pct(p: float) -> float:
        return round(s[min(len(s) - 1, int(round(p * (len(s) - 1))))] * 1000, 2)

    return {"n": len(s), "reqPerSec": round(len(s) / wall, 1), "p50Ms": pct(0.50), "p90Ms": pct(0.90),
            "p99Ms": pct(0.99), "maxMs": round(s[-1] * 1000, 2),
            "meanMs": round(statistics.fmean(s) * 1000, 2)}


def sign(client, pay_to: str, amount: str, network: str, asset: str):
    from x402.schemas import PaymentRequired

    pr = PaymentRequired.model_validate({
        "x402Version": 2, "resource": {"url": "http://127.0.0.1:9/bench"},
        "accepts": [{"scheme": "exact", "network": network, "amount": amount, "asset": asset,
                     "payTo": pay_to, "maxTimeoutSeconds": 300,
                     "extra": {"name": "USDC", "version": "2"}}]})
    payload = client.create_payment_payload(pr)
    return payload, pr.accepts[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rpc-url", required=True)
    p.add_argument("--facilitator-url", help="also measure this HTTP facilitator (py_facilitator.py)")
    p.add_argument("--payer-key-env", required=True, help="env var with the payer's key (holds USDC)")
    p.add_argument("--pay-to", default="0xa0Ee7A142d267C1f36714E4a8F75612F20a79720")
    p.add_argument("--network", default=DEFAULT_NETWORK)
    p.add_argument("--asset", default="0x036CbD53842c5426634e7929541eC2318f3dCF7e")
    p.add_argument("--amount", default="10000")
    p.add_argument("--n", type=int, default=100, help="verifies per mode (default 100)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--settle-n", type=int, default=20, help="sequential HTTP settles (0 = skip)")
    add_common_args(p)
    args = p.parse_args()
    setup_logging(args.log_level)
    fac_key = load_key(args)
    payer_key = os.environ.get(args.payer_key_env)
    if not payer_key:
        fail(f"environment variable {args.payer_key_env} is not set")

    client = build_client(payer_key, sync=True, no_spend_controls=False, max_amount=None,
                          allow_any_asset=False)
    facilitator, signer = build_facilitator(fac_key, args.rpc_url, [args.network], [])
    payload, requirements = sign(client, args.pay_to, args.amount, args.network, args.asset)

    # count JSON-RPC calls the SDK makes
    calls: collections.Counter = collections.Counter()
    rpc_time = [0.0]
    provider = signer._w3.provider  # noqa: SLF001 - measurement only
    original = provider.make_request

    def counting(method, params):
        calls[str(method)] += 1
        t0 = time.perf_counter()
        try:
            return original(method, params)
        finally:
            rpc_time[0] += time.perf_counter() - t0

    provider.make_request = counting

    result: dict = {"network": args.network, "sdk": "x402==2.25.0"}
    for _ in range(args.warmup):
        assert facilitator.verify(payload, requirements).is_valid
    calls.clear()
    rpc_time[0] = 0.0
    samples = []
    t_start = time.perf_counter()
    for _ in range(args.n):
        t0 = time.perf_counter()
        r = facilitator.verify(payload, requirements)
        samples.append(time.perf_counter() - t0)
        if not r.is_valid:
            fail(f"verify unexpectedly invalid: {dump_model(r)}")
    result["inProcess"] = summarize(samples, time.perf_counter() - t_start)
    result["inProcess"]["rpcCallsPerVerify"] = {m: c / args.n for m, c in sorted(calls.items())}
    result["inProcess"]["rpcMsPerVerify"] = round(rpc_time[0] / args.n * 1000, 2)

    if args.facilitator_url:
        import httpx

        url = args.facilitator_url.rstrip("/")
        body = {"x402Version": 2, "paymentPayload": dump_model(payload),
                "paymentRequirements": dump_model(requirements)}
        with httpx.Client(timeout=60) as http:
            for _ in range(args.warmup):
                assert http.post(f"{url}/verify", json=body).json()["isValid"]
            samples = []
            t_start = time.perf_counter()
            for _ in range(args.n):
                t0 = time.perf_counter()
                out = http.post(f"{url}/verify", json=body).json()
                samples.append(time.perf_counter() - t0)
                if out.get("isValid") is not True:
                    fail(f"HTTP verify unexpectedly invalid: {out}")
            result["http"] = summarize(samples, time.perf_counter() - t_start)

            if args.settle_n > 0:
                bodies = []
                for _ in range(args.settle_n):
                    pl, rq = sign(client, args.pay_to, args.amount, args.network, args.asset)
                    bodies.append({"x402Version": 2, "paymentPayload": dump_model(pl),
                                   "paymentRequirements": dump_model(rq)})
                samples = []
                t_start = time.perf_counter()
                for b in bodies:
                    t0 = time.perf_counter()
                    out = http.post(f"{url}/settle", json=b).json()
                    samples.append(time.perf_counter() - t0)
                    if out.get("success") is not True:
                        fail(f"HTTP settle failed: {out}")
                result["settle"] = summarize(samples, time.perf_counter() - t_start)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
