#!/usr/bin/env python3
"""HTTP facilitator around the official Python SDK's facilitator logic (exact EVM and SVM, v2 + v1).

    py_facilitator.py --port 18402 --rpc-url http://127.0.0.1:8548 --key-env FAC_KEY \
        [--network eip155:84532] [--v1-network base-sepolia]
    py_facilitator.py --port 18402 --network solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1 \
        --svm-key-from-state facilitator:all [--svm-rpc-url http://127.0.0.1:8899]

Solana networks (solana:*; v1 solana-devnet, ...) use the SDK's exact-SVM facilitator with the
fee-payer keypair(s) from --svm-key-env / --svm-key-file / --svm-key-from-state on the Solana RPC
--svm-rpc-url (default $X402_SVMNET_URL). EVM and Solana networks can be served together.

Endpoints (127.0.0.1 only):
  POST /verify    {"x402Version", "paymentPayload", "paymentRequirements"} -> VerifyResponse
  POST /settle    same body                                                -> SettleResponse
  GET  /supported                                                          -> SupportedResponse
  GET  /health                                                             -> {"status": "ok", ...}

Negative results are HTTP 200 with isValid:false / success:false (as the SDK's FastAPI
example). Malformed requests -> 400 {"error": ...}; no scheme registered for the
payload's (version, scheme, network) -> 400 {"error": ...}; an exception inside the SDK
-> 500 {"error": ...}.

When listening, prints one JSON line on stdout:
  {"url": "http://127.0.0.1:18402", "signer": "0x..." | null, "networks": [...], "v1Networks": [...]}
  (plus "svmFeePayers": [base58, ...] when Solana networks are served)
Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    add_common_args,
    add_facilitator_args,
    add_svm_args,
    build_facilitator_multi,
    dump_model,
    emit,
    fail,
    is_svm_network,
    load_key,
    load_svm_keys,
    resolve_networks,
    setup_logging,
)

from starlette.requests import Request  # noqa: E402 - module level: FastAPI resolves annotations here

log = logging.getLogger("py_facilitator")


def create_app(facilitator, signer, networks, v1_networks, rpc_url, svm_signer=None, svm_rpc_url=None):
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from pydantic import ValidationError
    from starlette.concurrency import run_in_threadpool
    from x402.schemas import PaymentError, parse_payment_payload, parse_payment_requirements

    app = FastAPI(title="x402 SDK facilitator (swift-x402 interop harness)",
                  docs_url=None, redoc_url=None, openapi_url=None)
    stats = {"verify": 0, "settle": 0}

    async def parse(request: Request):
        try:
            body = await request.json()
        except Exception:
            return None, JSONResponse({"error": "request body is not valid JSON"}, status_code=400)
        if not isinstance(body, dict):
            return None, JSONResponse({"error": "request body must be a JSON object"}, status_code=400)
        raw_payload = body.get("paymentPayload")
        raw_requirements = body.get("paymentRequirements")
        if not isinstance(raw_payload, dict) or not isinstance(raw_requirements, dict):
            return None, JSONResponse({"error": "Missing paymentPayload or paymentRequirements"},
                                      status_code=400)
        try:
            payload = parse_payment_payload(raw_payload)  # version from paymentPayload.x402Version
            requirements = parse_payment_requirements(payload.x402_version, raw_requirements)
        except (ValidationError, ValueError) as e:
            return None, JSONResponse({"error": f"invalid paymentPayload/paymentRequirements: {e}"},
                                      status_code=400)
        return (payload, requirements), None

    async def run(op: str, request: Request):
        parsed, error = await parse(request)
        if error is not None:
            return error
        payload, requirements = parsed
        fn = facilitator.verify if op == "verify" else facilitator.settle
        t0 = time.perf_counter()
        try:
            # The SDK's EVM and SVM mechanisms are synchronous (web3.py, solana-py); keep the loop free.
            result = await run_in_threadpool(fn, payload, requirements)
        except PaymentError as e:  # SchemeNotFoundError, PaymentAbortedError, ...
            log.warning("%s: %s: %s", op, type(e).__name__, e)
            return JSONResponse({"error": str(e)}, status_code=400)
        except Exception as e:  # noqa: BLE001 - surface SDK exceptions as 500
            log.exception("%s raised", op)
            return JSONResponse({"error": f"{type(e).__name__}: {e}"}, status_code=500)
        stats[op] += 1
        out = dump_model(result)
        log.info("%s v%s -> %s in %.1f ms", op, payload.x402_version,
                 out.get("isValid", out.get("success")), (time.perf_counter() - t0) * 1000)
        return JSONResponse(out)

    @app.post("/verify")
    async def verify(request: Request):
        return await run("verify", request)

    @app.post("/settle")
    async def settle(request: Request):
        return await run("settle", request)

    @app.get("/supported")
    async def supported():
        return JSONResponse(dump_model(facilitator.get_supported()))

    @app.get("/health")
    async def health():
        out = {"status": "ok", "signer": signer.address if signer else None, "networks": networks,
               "v1Networks": v1_networks, "rpcUrl": rpc_url, "served": stats}
        if svm_signer is not None:
            out.update(svmFeePayers=svm_signer.get_addresses(), svmRpcUrl=svm_rpc_url)
        return out

    return app


async def serve(app, port: int, info: dict, access_log: bool, log_level: str) -> int:
    import uvicorn

    # A bounded graceful shutdown: SIGTERM must end the server even while a client holds a
    # keep-alive connection open (uvicorn otherwise waits for it indefinitely).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, access_log=access_log,
                            log_level=log_level.lower(), lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            exc = task.exception()
            fail(f"server did not start on 127.0.0.1:{port}: {exc or 'exited'}")
        await asyncio.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{bound}"
    emit({"url": url, **(info(url) if callable(info) else info)})
    await task
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 (0 = any free port)")
    add_facilitator_args(p)
    add_common_args(p, key_required=False)
    add_svm_args(p, what="fee-payer keypair(s)")
    p.add_argument("--access-log", action="store_true", help="log every HTTP request to stderr")
    args = p.parse_args()
    setup_logging(args.log_level)
    networks, v1_networks = resolve_networks(args)
    has_evm = any(not is_svm_network(n) for n in networks + v1_networks)
    has_svm = any(is_svm_network(n) for n in networks + v1_networks)
    key = load_key(args, required=has_evm)
    svm_keys = load_svm_keys(args, required=has_svm) if has_svm else []
    if has_evm and not args.rpc_url:
        fail("--rpc-url is required for the EVM network(s)")
    if has_svm and not args.svm_rpc_url:
        fail("--svm-rpc-url (or X402_SVMNET_URL) is required for the Solana network(s)")
    try:
        facilitator, signer, svm_signer = build_facilitator_multi(
            key, args.rpc_url, networks, v1_networks,
            simulate_in_settle=args.simulate_in_settle,
            confirmation_timeout=args.confirmation_timeout,
            svm_keys=svm_keys, svm_rpc_url=args.svm_rpc_url)
    except Exception as e:  # noqa: BLE001
        fail(f"cannot build the SDK facilitator: {e}")
    app = create_app(facilitator, signer, networks, v1_networks, args.rpc_url, svm_signer, args.svm_rpc_url)
    info = {"signer": signer.address if signer else None, "networks": networks, "v1Networks": v1_networks}
    if svm_signer is not None:
        info["svmFeePayers"] = svm_signer.get_addresses()
    return asyncio.run(serve(app, args.port, info, args.access_log, args.log_level))


if __name__ == "__main__":
    sys.exit(main())
