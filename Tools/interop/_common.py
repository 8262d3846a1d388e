"""Shared helpers for the interop entry points (test infrastructure only).

Conventions every entry point follows:
  * stdout carries exactly one line of JSON (the result); everything else
    (logs, tracebacks) goes to stderr.
  * private keys come from --key-file PATH or --key-env VAR, never from argv.
  * exit status 0 = a result object was printed; 2 = usage / input / runtime
    error, in which case stdout carries {"error": "..."}.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, NoReturn

DEFAULT_NETWORK = "eip155:84532"

# The real stdout, kept for the one result line. protect_stdout() points sys.stdout at
# stderr so that stray print()s (the SDK prints some warnings) cannot corrupt it.
_RESULT_OUT = sys.stdout


def protect_stdout() -> None:
    sys.stdout = sys.stderr


def emit(obj: Any) -> None:
    """Print one line of compact JSON on the real stdout and flush."""
    _RESULT_OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    _RESULT_OUT.flush()


def fail(message: str, code: int = 2, **extra: Any) -> NoReturn:
    """Print {"error": message, ...} on stdout, the message on stderr, and exit."""
    print(f"error: {message}", file=sys.stderr)
    emit({"error": message, **extra})
    sys.exit(code)


def setup_logging(level: str) -> None:
    protect_stdout()
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def add_common_args(parser: argparse.ArgumentParser, *, key_required: bool = True) -> None:
    group = parser.add_argument_group("key (never pass a key on the command line)")
    group.add_argument("--key-file", metavar="PATH",
                       help="file holding the hex private key (0x optional, whitespace ignored)")
    group.add_argument("--key-env", metavar="VAR",
                       help="name of the environment variable holding the hex private key")
    parser.add_argument("--log-level", default="WARNING",
                        help="stderr log level: DEBUG, INFO, WARNING (default), ERROR")
    parser.set_defaults(_key_required=key_required)


def load_key(args: argparse.Namespace, *, required: bool | None = None) -> str | None:
    """Return the 0x-prefixed private key named by --key-file / --key-env."""
    if required is None:
        required = getattr(args, "_key_required", True)
    if args.key_file and args.key_env:
        fail("give only one of --key-file and --key-env")
    raw: str | None = None
    if args.key_file:
        try:
            with open(args.key_file, encoding="utf-8") as fh:
                raw = fh.read()
        except OSError as e:
            fail(f"cannot read --key-file: {e}")
    elif args.key_env:
        raw = os.environ.get(args.key_env)
        if raw is None:
            fail(f"environment variable {args.key_env} (from --key-env) is not set")
    if raw is None:
        if required:
            fail("a private key is required: --key-file PATH or --key-env VAR")
        return None
    key = "".join(raw.split())
    if not key.startswith(("0x", "0X")):
        key = "0x" + key
    body = key[2:]
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        fail("the private key must be 32 bytes of hex (64 hex digits, 0x optional)")
    return "0x" + body.lower()


def read_stdin_json() -> Any:
    data = sys.stdin.read()
    if not data.strip():
        fail("expected a JSON document on stdin, got nothing")
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        fail(f"stdin is not valid JSON: {e}")


def dump_model(model: Any) -> Any:
    """Serialise an SDK (pydantic) model exactly as the SDK puts it on the wire."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def v1_name_for(network: str) -> str | None:
    """The v1 legacy network name the SDK maps to the chain id of a CAIP-2 eip155 network."""
    from x402.mechanisms.evm.v1.constants import V1_NETWORK_CHAIN_IDS

    if not network.startswith("eip155:"):
        return None
    try:
        chain_id = int(network.split(":", 1)[1])
    except ValueError:
        return None
    for name, cid in V1_NETWORK_CHAIN_IDS.items():
        if cid == chain_id:
            return name
    return None


def build_facilitator(private_key: str, rpc_url: str, networks: list[str], v1_networks: list[str],
                      *, simulate_in_settle: bool = False, confirmation_timeout: float = 60.0):
    """An x402FacilitatorSync with the SDK's exact-EVM schemes (v2 + v1) on one RPC.

    Uses the SDK classes that register_exact_evm_facilitator uses, but registers v1
    only for the legacy names given (the helper would register all 21 v1 EVM names,
    which all point at the same RPC here and would be listed in /supported).
    """
    from x402 import x402FacilitatorSync
    from x402.mechanisms.evm import FacilitatorWeb3Signer
    from x402.mechanisms.evm.exact.facilitator import ExactEvmScheme, ExactEvmSchemeConfig
    from x402.mechanisms.evm.exact.v1.facilitator import ExactEvmSchemeV1, ExactEvmSchemeV1Config

    signer = FacilitatorWeb3Signer(private_key=private_key, rpc_url=rpc_url,
                                   confirmation_timeout_seconds=confirmation_timeout)
    facilitator = x402FacilitatorSync()
    facilitator.register(networks, ExactEvmScheme(
        signer, ExactEvmSchemeConfig(simulate_in_settle=simulate_in_settle)))
    if v1_networks:
        facilitator.register_v1(v1_networks, ExactEvmSchemeV1(
            signer, ExactEvmSchemeV1Config(simulate_in_settle=simulate_in_settle)))
    return facilitator, signer


def add_facilitator_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rpc-url", required=True, help="JSON-RPC URL of the chain (e.g. the devnet)")
    parser.add_argument("--network", action="append", default=None,
                        help=f"CAIP-2 network served for v2 (repeatable; default {DEFAULT_NETWORK})")
    parser.add_argument("--v1-network", action="append", default=None,
                        help="v1 legacy network name served (repeatable; default: the SDK's v1 name "
                             "for the first --network's chain id, e.g. base-sepolia; 'none' disables v1)")
    parser.add_argument("--simulate-in-settle", action="store_true",
                        help="SDK option: re-run the eth_call simulation inside /settle (default off, "
                             "as in the SDK)")
    parser.add_argument("--confirmation-timeout", type=float, default=60.0,
                        help="seconds to wait for a settlement receipt (SDK default 120; here 60)")


def resolve_networks(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    networks = args.network or [DEFAULT_NETWORK]
    if args.v1_network is None:
        name = v1_name_for(networks[0])
        v1 = [name] if name else []
    else:
        v1 = [n for n in args.v1_network if n.lower() != "none"]
    return networks, v1
