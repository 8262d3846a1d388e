#!/usr/bin/env python3
"""Build a PaymentPayload with the official Python SDK's client (exact EVM and/or SVM, v2 or v1).

    echo '{"x402Version": 2, "paymentRequired": {...}}' | py_sign.py --key-env PAYER_KEY
    echo '{...solana accepts...}' | py_sign.py --svm-key-env PAYER_SVM_KEY [--svm-rpc-url URL]

With a Solana keypair (--svm-key-env / --svm-key-file / --svm-key-from-state) the SDK's exact-SVM
client is registered too (solana:* and the v1 Solana names); it reads the mint and a recent
blockhash from --svm-rpc-url (default $X402_SVMNET_URL). At least one of the two keys is needed.

stdin, one of:
  {"x402Version": 1|2, "paymentRequired": <PaymentRequired (v2) or v1 402 body>}
  <PaymentRequired (v2)> or <v1 402 body>          (anything with "accepts")
  {"paymentRequiredHeader": "<base64 PAYMENT-REQUIRED header value>"}

stdout: the PaymentPayload JSON exactly as the SDK serialises it into PAYMENT-SIGNATURE /
X-PAYMENT (by alias, None fields omitted), for the requirement the SDK client selects
(its default selector: the first acceptable entry after spend controls). With --envelope:
  {"paymentPayload": ..., "paymentRequirements": <the selected entry>,
   "header": {"name": "PAYMENT-SIGNATURE"|"X-PAYMENT", "value": "<base64>"}}
which is directly the stdin format of py_check.py.

Spend controls are the SDK's defaults (known default assets only, at most $1 per payment)
unless --max-amount / --no-spend-controls are given.
Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    add_common_args,
    add_svm_args,
    dump_model,
    emit,
    fail,
    load_key,
    load_svm_keys,
    read_stdin_json,
    setup_logging,
)


def build_client(key: str | None, *, sync: bool, no_spend_controls: bool, max_amount: str | None,
                 allow_any_asset: bool, svm_key=None, svm_rpc_url: str | None = None):
    from x402 import x402Client, x402ClientSync

    client = x402ClientSync() if sync else x402Client()
    if key is not None:
        from eth_account import Account
        from x402.mechanisms.evm.exact import register_exact_evm_client
        from x402.mechanisms.evm.signers import EthAccountSigner

        register_exact_evm_client(client, EthAccountSigner(Account.from_key(key)))
    if svm_key is not None:
        from x402.mechanisms.svm import KeypairSigner
        from x402.mechanisms.svm.exact import register_exact_svm_client

        register_exact_svm_client(client, KeypairSigner(svm_key), rpc_url=svm_rpc_url)
    if no_spend_controls:
        client.set_spend_controls(False)
    elif max_amount is not None or allow_any_asset:
        controls: dict = {}
        if max_amount is not None:
            controls["max_amount_per_payment"] = max_amount
        if allow_any_asset:
            controls["allowed_assets"] = True
        client.set_spend_controls(controls)
    return client


def load_client_keys(args: argparse.Namespace):
    """(EVM key or None, Solana keypair or None); at least one is required."""
    svm = load_svm_keys(args, required=False)
    if len(svm) > 1:
        fail("a client takes one Solana keypair")
    key = load_key(args, required=not svm)
    return key, (svm[0] if svm else None)


def add_client_args(p: argparse.ArgumentParser) -> None:
    add_svm_args(p, what="payer keypair")
    g = p.add_argument_group("SDK client spend controls (default: the SDK's)")
    g.add_argument("--max-amount", metavar="MONEY",
                   help="per-payment cap in USD for default assets, e.g. '$5' (SDK default '$1')")
    g.add_argument("--allow-any-asset", action="store_true",
                   help="allow non-default assets (spend_controls allowed_assets=True)")
    g.add_argument("--no-spend-controls", action="store_true",
                   help="disable the SDK's spend controls entirely (spend_controls=False)")


def parse_input(doc):
    from x402.http.utils import decode_payment_required_header
    from x402.schemas import parse_payment_required

    if isinstance(doc, dict) and "paymentRequiredHeader" in doc:
        return decode_payment_required_header(str(doc["paymentRequiredHeader"]).strip())
    if isinstance(doc, dict) and "paymentRequired" in doc:
        obj = doc["paymentRequired"]
        if not isinstance(obj, dict):
            fail("paymentRequired must be a JSON object")
        version = doc.get("x402Version", obj.get("x402Version"))
        if obj.get("x402Version") is None and version is not None:
            obj = {**obj, "x402Version": version}
        elif version is not None and obj.get("x402Version") != version:
            fail(f"x402Version {version} disagrees with paymentRequired.x402Version "
                 f"{obj.get('x402Version')}")
        doc = obj
    if not isinstance(doc, dict) or "accepts" not in doc:
        fail("stdin must be {x402Version, paymentRequired}, a PaymentRequired / v1 402 body "
             "(with accepts), or {paymentRequiredHeader}")
    return parse_payment_required(doc)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(p, key_required=False)
    add_client_args(p)
    p.add_argument("--envelope", action="store_true",
                   help="print {paymentPayload, paymentRequirements, header} instead of the bare payload")
    args = p.parse_args()
    setup_logging(args.log_level)
    key, svm_key = load_client_keys(args)
    doc = read_stdin_json()
    try:
        payment_required = parse_input(doc)
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001
        fail(f"cannot parse the PaymentRequired input: {e}")

    client = build_client(key, sync=True, no_spend_controls=args.no_spend_controls,
                          max_amount=args.max_amount, allow_any_asset=args.allow_any_asset,
                          svm_key=svm_key, svm_rpc_url=args.svm_rpc_url)
    selected = {}
    client.on_after_payment_creation(lambda ctx: selected.setdefault("req", ctx.selected_requirements))
    try:
        payload = client.create_payment_payload(payment_required)
    except Exception as e:  # noqa: BLE001 - NoMatchingRequirementsError, signing errors, ...
        fail(f"{type(e).__name__}: {e}")

    payload_json = dump_model(payload)
    if not args.envelope:
        emit(payload_json)
        return 0
    from x402.http.x402_http_client_base import x402HTTPClientBase

    (name, value), = x402HTTPClientBase().encode_payment_signature_header(payload).items()
    emit({"paymentPayload": payload_json,
          "paymentRequirements": dump_model(selected["req"]),
          "header": {"name": name, "value": value}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
