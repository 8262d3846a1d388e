#!/usr/bin/env python3
"""Fetch a URL with the official Python SDK's httpx payment client (pays a 402 once).

    py_client.py --key-env PAYER_KEY http://127.0.0.1:18403/weather [--siwx] [--payment-id ID]
    py_client.py --svm-key-env PAYER_SVM_KEY [--svm-rpc-url URL] http://127.0.0.1:18403/weather

With a Solana keypair the SDK client can also pay solana:* requirements (RPC: --svm-rpc-url,
default $X402_SVMNET_URL); see py_sign.py.

--siwx         registers the SDK's sign-in-with-x client extension with the payer's keys (EVM
               and/or the Solana keypair: SIWS, Ed25519): on a 402 offering it, the SDK retries with a SIGN-IN-WITH-X proof first and pays only if
               that retry is answered 402 again.
--payment-id   adds this payment-identifier id (through the SDK's
               append_payment_identifier_to_extensions) when the 402 declares the extension.

stdout, one JSON line:
  {"status": 200,
   "body": <response body: parsed JSON, else text>,
   "paymentResponse": <decoded PAYMENT-RESPONSE (or X-PAYMENT-RESPONSE) JSON, or null>,
   "paymentRequired": <decoded PAYMENT-REQUIRED of the final response, or null>,
   "paymentPayload": <the PaymentPayload the SDK sent, or null if it did not pay>,
   "headers": {"PAYMENT-RESPONSE": "<raw base64>", ...}   (x402 headers of the final response, raw)}
A 2xx answer from a paid URL with "paymentPayload": null was served on a sign-in (--siwx).
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
    if args.siwx:
        from x402.extensions.sign_in_with_x import CreateSIWxClientExtensionOptions, create_siwx_client_extension
        signers = []
        if key is not None:
            from eth_account import Account
            signers.append(Account.from_key(key))
        if svm_key is not None:
            # The SDK's Solana SIWx signer: the paying keypair (Ed25519 over the SIWS text).
            from x402.mechanisms.svm import KeypairSigner
            signers.append(KeypairSigner(svm_key))
        client.register_extension(create_siwx_client_extension(CreateSIWxClientExtensionOptions(signers=signers)))
    if args.payment_id:
        client.register_extension(PaymentIdentifierExtension(args.payment_id, sent))

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
        # The payload as sent: after the extensions' enrichment when one ran (--payment-id).
        "paymentPayload": dump_model(sent.get("enriched") or sent["payload"]) if "payload" in sent else None,
        "headers": raw,
    }


class PaymentIdentifierExtension:
    """Adds a fixed payment-identifier id through the SDK's own helper (harness glue only)."""

    key = "payment-identifier"

    def __init__(self, payment_id: str, sent: dict) -> None:
        self.payment_id = payment_id
        self.sent = sent

    def enrich_payment_payload(self, payload, payment_required):
        from x402.extensions.payment_identifier import append_payment_identifier_to_extensions
        extensions = dict(payload.extensions or payment_required.extensions or {})
        append_payment_identifier_to_extensions(extensions, self.payment_id)
        enriched = payload.model_copy(update={"extensions": extensions})
        self.sent["enriched"] = enriched
        return enriched


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("--method", default="GET")
    p.add_argument("--timeout", type=float, default=120.0, help="HTTP timeout in seconds")
    p.add_argument("--siwx", action="store_true", help="sign in with x before paying, when offered")
    p.add_argument("--payment-id", default=None, help="payment-identifier id to send when declared")
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
