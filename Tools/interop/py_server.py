#!/usr/bin/env python3
"""A FastAPI seller protected by the official Python SDK's payment middleware (v2, exact EVM or SVM).

    py_server.py --port 18403 --facilitator-url http://127.0.0.1:18402 \
        --pay-to 0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f [--price '$0.01'] [--network eip155:84532]
        [--siwx-origin http://127.0.0.1:18403] [--payment-identifier optional|required]
    py_server.py --port 18403 --facilitator-url http://127.0.0.1:18402 \
        --network solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1 --pay-to <base58 wallet> [--price '$0.01']

A solana:* network uses the SDK's exact-SVM server scheme (default asset: USDC of that network;
extra.feePayer from the facilitator's /supported). --price also takes an AssetAmount as JSON,
e.g. '{"amount": "10000", "asset": "<mint>"}' (a Token-2022 mint, say). --svm-blockhash-hints
passes the Solana RPC (--svm-rpc-url, default $X402_SVMNET_URL) to the SDK so that it adds
extra.recentBlockhash / lastValidBlockHeight.

Routes (127.0.0.1 only):
  GET /weather   paid: `--price` in the network's default stablecoin (USDC on eip155:84532),
                 JSON body {"report": {"weather": "sunny", "temperature": 70}}
  GET /health    free: {"status": "ok"}
  GET /login     with --siwx-origin only: sign-in-with-x without payment (auth-only), {"member": true}

--siwx-origin ORIGIN  registers the SDK's sign-in-with-x server extension (in-memory storage,
                      origin ORIGIN, which must be this server's http://127.0.0.1:PORT) and declares
                      it on GET /weather (a wallet that paid signs in instead of paying again) and
                      on the auth-only GET /login.
--payment-identifier  declares the SDK's payment-identifier extension on GET /weather.
--bazaar              declares the SDK's bazaar discovery extension on GET /weather (example query
                      city=Paris, output example WEATHER) with its resource-server extension.

The facilitator must answer GET /supported at start-up (the SDK middleware fetches it);
otherwise this exits with {"error": ...}. When listening, prints one JSON line:
  {"url": "http://127.0.0.1:18403", "paidUrl": ".../weather", "price": "$0.01", "network": ..., "payTo": ...}
Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import DEFAULT_NETWORK, emit, fail, setup_logging  # noqa: E402
from py_facilitator import serve  # noqa: E402

WEATHER = {"report": {"weather": "sunny", "temperature": 70}}


def create_app(facilitator_url: str, pay_to: str, price, network: str, max_timeout: int | None,
               description: str, svm_rpc_url: str | None = None, siwx_origin: str | None = None,
               payment_identifier: str | None = None, bazaar: bool = False):
    import httpx
    from fastapi import FastAPI
    from x402.http import FacilitatorConfig, HTTPFacilitatorClient
    from x402.http.middleware.fastapi import payment_middleware
    from x402.http.types import PaymentOption, RouteConfig
    from x402.mechanisms.evm.exact import register_exact_evm_server
    from x402.server import x402ResourceServer

    url = facilitator_url.rstrip("/")
    try:  # fail fast and clearly if the facilitator is not there
        r = httpx.get(f"{url}/supported", timeout=10)
        r.raise_for_status()
    except Exception as e:  # noqa: BLE001
        fail(f"facilitator {url} did not answer GET /supported: {e}")

    server = x402ResourceServer(HTTPFacilitatorClient(FacilitatorConfig(url=url)))
    if network.startswith("solana:"):
        from x402.mechanisms.svm.exact import register_exact_svm_server

        register_exact_svm_server(server, network, rpc_url=svm_rpc_url)
    else:
        register_exact_evm_server(server, network)
    extensions: dict = {}
    if payment_identifier:
        from x402.extensions.payment_identifier import declare_payment_identifier_extension
        extensions["payment-identifier"] = declare_payment_identifier_extension(
            required=payment_identifier == "required")
    if siwx_origin:
        from x402.extensions.sign_in_with_x import (
            CreateSIWxResourceServerExtensionOptions, DeclareSIWxOptions, InMemorySIWxStorage,
            create_siwx_resource_server_extension, declare_siwx_extension)
        server.register_extension(create_siwx_resource_server_extension(
            CreateSIWxResourceServerExtensionOptions(storage=InMemorySIWxStorage(), origin=siwx_origin)))
        extensions.update(declare_siwx_extension(
            DeclareSIWxOptions(statement="Sign in to read the weather", network=network, expiration_seconds=300)))
    if bazaar:
        from x402.extensions.bazaar import OutputConfig, bazaar_resource_server_extension, declare_discovery_extension
        server.register_extension(bazaar_resource_server_extension)
        extensions.update(declare_discovery_extension(
            input={"city": "Paris"},
            input_schema={"properties": {"city": {"type": "string"}}, "required": ["city"]},
            output=OutputConfig(example=WEATHER, schema={"properties": {"report": {"type": "object"}}})))
    routes = {
        "GET /weather": RouteConfig(
            accepts=PaymentOption(scheme="exact", pay_to=pay_to, price=price, network=network,
                                  max_timeout_seconds=max_timeout),
            description=description,
            mime_type="application/json",
            extensions=extensions or None,
        ),
    }
    if siwx_origin:
        routes["GET /login"] = RouteConfig(
            accepts=[], description="Members", mime_type="application/json",
            extensions=declare_siwx_extension(DeclareSIWxOptions(statement="Sign in", network=network)))
    middleware = payment_middleware(routes, server)  # fetches /supported, may exit on misconfig

    app = FastAPI(title="x402 SDK seller (swift-x402 interop harness)",
                  docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def x402(request, call_next):
        return await middleware(request, call_next)

    @app.get("/weather")
    async def weather():
        return WEATHER

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.get("/login")
    async def login():
        return {"member": True}

    return app


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--facilitator-url", required=True)
    p.add_argument("--pay-to", required=True, help="recipient address (payTo)")
    p.add_argument("--price", default="$0.01", help="price of GET /weather (default $0.01)")
    p.add_argument("--network", default=DEFAULT_NETWORK, help=f"CAIP-2 network (default {DEFAULT_NETWORK})")
    p.add_argument("--max-timeout", type=int, default=None,
                   help="maxTimeoutSeconds of the requirement (SDK default 300)")
    p.add_argument("--description", default="Weather report", help="resource description")
    p.add_argument("--svm-rpc-url", default=os.environ.get("X402_SVMNET_URL"),
                   help="Solana RPC for --svm-blockhash-hints (default $X402_SVMNET_URL)")
    p.add_argument("--svm-blockhash-hints", action="store_true",
                   help="let the SDK put extra.recentBlockhash/lastValidBlockHeight into Solana requirements")
    p.add_argument("--siwx-origin", default=None,
                   help="enable sign-in-with-x bound to this origin (this server's http://127.0.0.1:PORT)")
    p.add_argument("--payment-identifier", choices=["optional", "required"], default=None,
                   help="declare the payment-identifier extension on GET /weather")
    p.add_argument("--bazaar", action="store_true",
                   help="declare the bazaar discovery extension on GET /weather (SDK helpers, method enriched per request)")
    p.add_argument("--access-log", action="store_true", help="log every HTTP request to stderr")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args()
    setup_logging(args.log_level)
    price = args.price
    if price.lstrip().startswith("{"):
        import json

        try:
            price = json.loads(price)
        except ValueError as e:
            fail(f"--price is neither money nor AssetAmount JSON: {e}")
    if args.svm_blockhash_hints and not args.svm_rpc_url:
        fail("--svm-blockhash-hints needs --svm-rpc-url or X402_SVMNET_URL")
    app = create_app(args.facilitator_url, args.pay_to, price, args.network, args.max_timeout,
                     args.description, args.svm_rpc_url if args.svm_blockhash_hints else None,
                     args.siwx_origin, args.payment_identifier, args.bazaar)
    info = lambda url: {"paidUrl": f"{url}/weather", "price": args.price,  # noqa: E731
                        "network": args.network, "payTo": args.pay_to}
    return asyncio.run(serve(app, args.port, info, args.access_log, args.log_level))


if __name__ == "__main__":
    sys.exit(main())
