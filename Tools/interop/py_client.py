#!/usr/bin/env python3
"""Fetch a URL with the official Python SDK's httpx payment client (pays a 402 once).

    py_client.py --key-env PAYER_KEY http://127.0.0.1:18403/weather
    py_client.py --svm-key-env PAYER_SVM_KEY [--svm-rpc-url URL] http://127.0.0.1:18403/weather

With a Solana keypair the SDK client can also pay solana:* requirements (RPC: --svm-rpc-url,
default $X402_SVMNET_URL); see py_sign.py.

stdout, one JSON line:
  {"status": 200,
   "body": <response body: parsed JSON, else text>,
   "paymentResponse": <decoded PAYMENT-RESPONSE (or X-PAYMENT-RESPONSE) JSON, or null>,
   "paymentRequired": <decoded PAYMENT-REQUIRED of the final response, or null>,
   "paymentPayload": <the PaymentPayload the SDK sent, or null if it did not pay>,
   "headers": {"PAYMENT-RESPONSE": "<raw base64>", ...}   (x402 headers of the final response, raw)}
The decoded objects are the wire JSON (json.loads of the base64), not re-serialised models.
Exit 0 if an HTTP response was received (any status); 2 with {"error": ...} if the SDK
refused to pay (e.g. spend controls) or the request failed.
Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import add_common_args, dump_model, emit, fail, setup_logging  # noqa: E402
from py_sign import add_client_args, build_client, load_client_keys  # noqa: E402

X402_HEADERS = ("PAYMENT-REQUIRED", "PAYMENT-RESPONSE", "X-PAYMENT-RESPONSE")


def decode_header(value: str | None):
    if not value:
        return None
    try:
        return json.loads(base64.b64decode(value.strip(), validate=True))
    except Exception as e:  # noqa: BLE001
        return {"undecodable": value, "error": str(e)}


async def fetch(args, key: str | None, svm_key=None) -> dict:
    from x402.http.clients import x402HttpxClient

    client = build_client(key, sync=False, no_spend_controls=args.no_spend_controls,
                          max_amount=args.max_amount, allow_any_asset=args.allow_any_asset,
                          svm_key=svm_key, svm_rpc_url=args.svm_rpc_url)
    sent = {}
    client.on_after_payment_creation(lambda ctx: sent.setdefault("payload", ctx.payment_payload))
    async with x402HttpxClient(client, timeout=args.timeout) as http:
        response = await http.request(args.method, args.url)
        await response.aread()
    try:
        body = response.json()
    except Exception:  # noqa: BLE001
        body = response.text
    raw = {h: response.headers[h] for h in X402_HEADERS if h in response.headers}
    payment_response = decode_header(raw.get("PAYMENT-RESPONSE") or raw.get("X-PAYMENT-RESPONSE"))
    return {
        "status": response.status_code,
        "body": body,
        "paymentResponse": payment_response,
        "paymentRequired": decode_header(raw.get("PAYMENT-REQUIRED")),
        "paymentPayload": dump_model(sent["payload"]) if "payload" in sent else None,
        "headers": raw,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("--method", default="GET")
    p.add_argument("--timeout", type=float, default=120.0, help="HTTP timeout in seconds")
    add_common_args(p, key_required=False)
    add_client_args(p)
    args = p.parse_args()
    setup_logging(args.log_level)
    key, svm_key = load_client_keys(args)
    try:
        result = asyncio.run(fetch(args, key, svm_key))
    except Exception as e:  # noqa: BLE001
        fail(f"{type(e).__name__}: {e}")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
