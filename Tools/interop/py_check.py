#!/usr/bin/env python3
"""Run the official Python SDK's facilitator logic in-process on one payment.

    py_check.py verify --rpc-url http://127.0.0.1:8548 [--key-env FAC_KEY] < in.json
    py_check.py settle --rpc-url http://127.0.0.1:8548 --key-env FAC_KEY   < in.json

stdin: {"paymentPayload": ..., "paymentRequirements": ...} (an optional top-level
"x402Version" is ignored, as the SDK takes the version from paymentPayload.x402Version;
py_sign.py --envelope output works as is).

stdout: the SDK's VerifyResponse / SettleResponse JSON (by alias, None fields omitted),
e.g. {"isValid":true,"payer":"0x..."} or
{"success":true,"payer":"0x...","transaction":"0x...","network":"eip155:84532"}.
Exit 0 whenever such a response was printed (also isValid:false / success:false);
exit 2 with {"error": ...} if the input could not be parsed or the SDK raised.

verify needs no funded key: without --key-file/--key-env a throwaway key is used
(the SDK's FacilitatorWeb3Signer wants one). settle sends a transaction and needs a key
with ETH for gas.

Solana (--network solana:..., v1 solana-devnet): the fee-payer keypair(s) come from
--svm-key-env / --svm-key-file / --svm-key-from-state (needed for verify too: the SDK refuses a
feePayer it does not manage) and the RPC from --svm-rpc-url (default $X402_SVMNET_URL).
Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    add_common_args,
    add_facilitator_args,
    add_svm_args,
    build_facilitator,
    is_svm_network,
    dump_model,
    emit,
    fail,
    load_key,
    load_svm_keys,
    read_stdin_json,
    resolve_networks,
    setup_logging,
)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("op", choices=["verify", "settle"])
    add_facilitator_args(p)
    add_common_args(p, key_required=False)
    add_svm_args(p, what="fee-payer keypair(s)")
    args = p.parse_args()
    setup_logging(args.log_level)
    networks, v1_networks = resolve_networks(args)
    has_evm = any(not is_svm_network(n) for n in networks + v1_networks)
    has_svm = any(is_svm_network(n) for n in networks + v1_networks)
    key = load_key(args, required=(args.op == "settle" and has_evm))
    if key is None:
        key = "0x" + os.urandom(32).hex()
    svm_keys = load_svm_keys(args, required=True) if has_svm else []
    if has_evm and not args.rpc_url:
        fail("--rpc-url is required for the EVM network(s)")

    doc = read_stdin_json()
    if not isinstance(doc, dict) or not isinstance(doc.get("paymentPayload"), dict) \
            or not isinstance(doc.get("paymentRequirements"), dict):
        fail("stdin must be {\"paymentPayload\": {...}, \"paymentRequirements\": {...}}")

    from x402.schemas import parse_payment_payload, parse_payment_requirements

    try:
        payload = parse_payment_payload(doc["paymentPayload"])
        requirements = parse_payment_requirements(payload.x402_version, doc["paymentRequirements"])
    except Exception as e:  # noqa: BLE001
        fail(f"invalid paymentPayload/paymentRequirements: {e}")

    facilitator, _ = build_facilitator(key, args.rpc_url, networks, v1_networks,
                                       simulate_in_settle=args.simulate_in_settle,
                                       confirmation_timeout=args.confirmation_timeout,
                                       svm_keys=svm_keys, svm_rpc_url=args.svm_rpc_url)
    fn = facilitator.verify if args.op == "verify" else facilitator.settle
    try:
        result = fn(payload, requirements)
    except Exception as e:  # noqa: BLE001
        fail(f"{type(e).__name__}: {e}")
    emit(dump_model(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
