#!/usr/bin/env python3
"""The official Python SDK's bazaar (discovery) helpers on swift-x402's data.

    py_bazaar.py validate [--input FILE] < extension.json
    py_bazaar.py extract  [--input FILE] < {"paymentPayload": ..., "paymentRequirements": ...}
    py_bazaar.py list   --facilitator-url URL [--type http] [--limit N]
    py_bazaar.py search --facilitator-url URL --query WORDS [--limit N]

validate: stdin is one `extensions["bazaar"]` object (as a seller emits it). Prints
  {"valid": bool, "errors": [...], "specValid": bool, "specErrors": [...]} from the SDK's
  validate_discovery_extension (info against schema) and validate_discovery_extension_spec.
extract: runs the SDK facilitator's extract_discovery_info on a payment and prints
  {"found": bool, "resourceUrl", "method", "routeTemplate", "description", "mimeType", "discoveryInfo"}.
list / search: the SDK's bazaar client (with_bazaar(HTTPFacilitatorClientSync).extensions.bazaar)
  against a facilitator; prints {"x402Version", "resources": [item.to_dict() ...], "pagination"}.

Exit 0 when a result was printed; 2 with {"error": ...} otherwise.
Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, fail, read_stdin_json, setup_logging  # noqa: E402


def validate(doc) -> dict:
    from x402.extensions.bazaar import validate_discovery_extension, validate_discovery_extension_spec
    from x402.extensions.bazaar.types import parse_discovery_extension

    if not isinstance(doc, dict):
        fail("stdin must be the bazaar extension object")
    try:
        ext = parse_discovery_extension(doc)
    except Exception as e:  # noqa: BLE001
        return {"valid": False, "errors": [f"unparseable: {e}"], "specValid": False, "specErrors": []}
    result = validate_discovery_extension(ext)
    spec = validate_discovery_extension_spec(doc)
    return {"valid": result.valid, "errors": result.errors, "specValid": spec.valid, "specErrors": spec.errors}


def extract(doc) -> dict:
    from x402.extensions.bazaar import extract_discovery_info
    from x402.schemas import parse_payment_payload, parse_payment_requirements

    payload = parse_payment_payload(doc["paymentPayload"])
    requirements = parse_payment_requirements(payload.x402_version, doc["paymentRequirements"])
    found = extract_discovery_info(payload, requirements, validate=True)
    if found is None:
        return {"found": False}
    info = found.discovery_info
    return {
        "found": True, "resourceUrl": found.resource_url, "method": found.method, "routeTemplate": found.route_template,
        "description": found.description, "mimeType": found.mime_type,
        "discoveryInfo": info.model_dump(by_alias=True, exclude_none=True) if hasattr(info, "model_dump") else info,
    }


def catalog(args) -> dict:
    from x402.extensions.bazaar import (ListDiscoveryResourcesParams, SearchDiscoveryResourcesParams,
                                        with_bazaar)
    from x402.http.facilitator_client import FacilitatorConfig, HTTPFacilitatorClientSync

    # The bazaar client runs on the synchronous facilitator client (it calls its _get_client()).
    client = with_bazaar(HTTPFacilitatorClientSync(FacilitatorConfig(url=args.facilitator_url.rstrip("/"))))
    if args.op == "list":
        page = client.extensions.bazaar.list_resources(ListDiscoveryResourcesParams(type=args.type, limit=args.limit))
        return {"x402Version": page.x402_version, "resources": [r.to_dict() for r in page.items],
                "pagination": dataclasses.asdict(page.pagination)}
    page = client.extensions.bazaar.search(SearchDiscoveryResourcesParams(query=args.query, type=args.type, limit=args.limit))
    return {"x402Version": page.x402_version, "resources": [r.to_dict() for r in page.resources],
            "partialResults": page.partial_results,
            "pagination": dataclasses.asdict(page.pagination) if page.pagination else None}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("op", choices=["validate", "extract", "list", "search"])
    p.add_argument("--facilitator-url")
    p.add_argument("--query", default="")
    p.add_argument("--type", default=None)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--input", default=None, help="read the JSON document from this file instead of stdin")
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args()
    setup_logging(args.log_level)

    def document():
        if args.input is None:
            return read_stdin_json()
        import json
        with open(args.input, encoding="utf-8") as f:
            return json.load(f)

    try:
        if args.op == "validate":
            emit(validate(document()))
        elif args.op == "extract":
            emit(extract(document()))
        else:
            if not args.facilitator_url:
                fail("--facilitator-url is required")
            emit(catalog(args))
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001
        fail(f"{type(e).__name__}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
