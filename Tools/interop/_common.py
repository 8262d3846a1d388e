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


def build_facilitator(private_key: str | None, rpc_url: str | None, networks: list[str], v1_networks: list[str],
                      *, simulate_in_settle: bool = False, confirmation_timeout: float = 60.0,
                      svm_keys: list | None = None, svm_rpc_url: str | None = None):
    """An x402FacilitatorSync with the SDK's exact-EVM schemes (v2 + v1) on one RPC.

    Uses the SDK classes that register_exact_evm_facilitator uses, but registers v1
    only for the legacy names given (the helper would register all 21 v1 EVM names,
    which all point at the same RPC here and would be listed in /supported).
    Solana networks (``solana:*`` / ``solana-devnet`` ...) among `networks` / `v1_networks`
    are served by the SDK's exact-SVM schemes instead; see build_facilitator_multi.
    Returns (facilitator, EVM signer or None).
    """
    facilitator, signer, _ = build_facilitator_multi(
        private_key, rpc_url, networks, v1_networks, simulate_in_settle=simulate_in_settle,
        confirmation_timeout=confirmation_timeout, svm_keys=svm_keys, svm_rpc_url=svm_rpc_url)
    return facilitator, signer


def build_facilitator_multi(private_key: str | None, rpc_url: str | None, networks: list[str],
                            v1_networks: list[str], *, simulate_in_settle: bool = False,
                            confirmation_timeout: float = 60.0, svm_keys: list | None = None,
                            svm_rpc_url: str | None = None):
    """(facilitator, EVM signer or None, SVM signer or None) serving EVM and/or Solana networks.

    Solana: the SDK's FacilitatorKeypairSigner (all `svm_keys` as fee payers, rotated by the
    SDK) on `svm_rpc_url`, with the v2 and v1 ExactSvmScheme sharing one settlement cache as
    register_exact_svm_facilitator does, but v1 registered only for the names given.
    """
    from x402 import x402FacilitatorSync

    evm_v2 = [n for n in networks if not is_svm_network(n)]
    evm_v1 = [n for n in v1_networks if not is_svm_network(n)]
    svm_v2 = [n for n in networks if is_svm_network(n)]
    svm_v1 = [n for n in v1_networks if is_svm_network(n)]
    facilitator = x402FacilitatorSync()
    signer = svm_signer = None
    if evm_v2 or evm_v1:
        from x402.mechanisms.evm import FacilitatorWeb3Signer
        from x402.mechanisms.evm.exact.facilitator import ExactEvmScheme, ExactEvmSchemeConfig
        from x402.mechanisms.evm.exact.v1.facilitator import ExactEvmSchemeV1, ExactEvmSchemeV1Config

        if not private_key or not rpc_url:
            raise ValueError("EVM networks need --rpc-url and a key (--key-file / --key-env)")
        signer = FacilitatorWeb3Signer(private_key=private_key, rpc_url=rpc_url,
                                       confirmation_timeout_seconds=confirmation_timeout)
        if evm_v2:
            facilitator.register(evm_v2, ExactEvmScheme(
                signer, ExactEvmSchemeConfig(simulate_in_settle=simulate_in_settle)))
        if evm_v1:
            facilitator.register_v1(evm_v1, ExactEvmSchemeV1(
                signer, ExactEvmSchemeV1Config(simulate_in_settle=simulate_in_settle)))
    if svm_v2 or svm_v1:
        from x402.mechanisms.svm import FacilitatorKeypairSigner
        from x402.mechanisms.svm.exact.facilitator import ExactSvmScheme
        from x402.mechanisms.svm.exact.v1.facilitator import ExactSvmSchemeV1
        from x402.mechanisms.svm.settlement_cache import SettlementCache

        if not svm_keys or not svm_rpc_url:
            raise ValueError("Solana networks need --svm-rpc-url (or X402_SVMNET_URL) and a fee-payer key "
                             "(--svm-key-env / --svm-key-file / --svm-key-from-state)")
        svm_signer = FacilitatorKeypairSigner(list(svm_keys), svm_rpc_url)
        cache = SettlementCache()
        if svm_v2:
            facilitator.register(svm_v2, ExactSvmScheme(svm_signer, cache))
        if svm_v1:
            facilitator.register_v1(svm_v1, ExactSvmSchemeV1(svm_signer, cache))
    return facilitator, signer, svm_signer


def add_facilitator_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rpc-url", help="JSON-RPC URL of the EVM chain (e.g. the devnet); required when an "
                                          "EVM network is served")
    parser.add_argument("--network", action="append", default=None,
                        help=f"CAIP-2 network served for v2 (repeatable; default {DEFAULT_NETWORK})")
    parser.add_argument("--v1-network", action="append", default=None,
                        help="v1 legacy network name served (repeatable; default: the SDK's v1 name "
                             "for the first --network's chain id, e.g. base-sepolia, plus the v1 name of "
                             "each solana:* network, e.g. solana-devnet; 'none' disables v1)")
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
        v1 += [n for n in (svm_v1_name_for(x) for x in networks) if n and n not in v1]
    else:
        v1 = [n for n in args.v1_network if n.lower() != "none"]
    return networks, v1


# --------------------------------------------------------------------------- Solana

SVM_V1_NAMES = ("solana", "solana-devnet", "solana-testnet")


def is_svm_network(network: str) -> bool:
    """A Solana network: CAIP-2 `solana:<genesis prefix>` (v2) or a v1 name (solana, solana-devnet, ...)."""
    return network.startswith("solana:") or network in SVM_V1_NAMES


def svm_v1_name_for(network: str) -> str | None:
    """The v1 legacy name of a CAIP-2 Solana network (the SDK's V1_TO_V2_NETWORK_MAP, reversed)."""
    if not network.startswith("solana:"):
        return None
    from x402.mechanisms.svm.constants import V1_TO_V2_NETWORK_MAP

    for name, caip2 in V1_TO_V2_NETWORK_MAP.items():
        if caip2 == network:
            return name
    return None


def add_svm_args(parser: argparse.ArgumentParser, *, what: str = "key") -> None:
    """Solana flags: the RPC (default $X402_SVMNET_URL) and where the keypair(s) come from."""
    g = parser.add_argument_group(f"Solana {what} (never on the command line)")
    g.add_argument("--svm-rpc-url", default=os.environ.get("X402_SVMNET_URL"),
                   help="Solana JSON-RPC URL (default: $X402_SVMNET_URL, e.g. Tools/svmnet)")
    g.add_argument("--svm-key-env", metavar="VAR",
                   help="environment variable holding the Solana keypair: base58 of the 64-byte secret key "
                        "(as wallets export it) or a JSON array of 64 numbers; several keypairs may be given "
                        "separated by whitespace or commas (base58 only)")
    g.add_argument("--svm-key-file", metavar="PATH",
                   help="file holding the keypair in one of the same formats (e.g. a solana-keygen JSON file)")
    g.add_argument("--svm-key-from-state", metavar="ROLE:INDEX",
                   help="take the keypair from the svmnet state JSON ($X402_SVMNET_STATE or --svmnet-state): "
                        "e.g. facilitator:0, facilitator:all, payer:1")
    g.add_argument("--svmnet-state", default=os.environ.get("X402_SVMNET_STATE"),
                   help="path of the svmnet state JSON (default: $X402_SVMNET_STATE)")


def _parse_svm_keypairs(raw: str, source: str) -> list:
    from solders.keypair import Keypair

    text = raw.strip()
    try:
        if text.startswith("["):
            nums = json.loads(text)
            if not isinstance(nums, list) or len(nums) != 64 or not all(
                    isinstance(n, int) and 0 <= n <= 255 for n in nums):
                raise ValueError("expected a JSON array of 64 byte values")
            keys = [Keypair.from_bytes(bytes(nums))]
        else:
            keys = [Keypair.from_base58_string(k) for k in text.replace(",", " ").split()]
    except Exception as e:  # noqa: BLE001 - never echo the key material itself
        fail(f"{source} does not hold a Solana keypair (base58 of 64 bytes or a JSON array of 64 bytes): "
             f"{type(e).__name__}")
    if not keys:
        fail(f"{source} is empty")
    for k in keys:  # a 64-byte keypair carries its public key: it must match the secret half
        if Keypair.from_seed(bytes(k)[:32]).pubkey() != k.pubkey():
            fail(f"{source}: a keypair's public half does not match its secret half")
    return keys


def load_svm_keys(args: argparse.Namespace, *, required: bool) -> list:
    """The Solana keypair(s) named by --svm-key-env / --svm-key-file / --svm-key-from-state."""
    given = [x for x in (args.svm_key_env, args.svm_key_file, args.svm_key_from_state) if x]
    if len(given) > 1:
        fail("give only one of --svm-key-env, --svm-key-file and --svm-key-from-state")
    if args.svm_key_env:
        raw = os.environ.get(args.svm_key_env)
        if raw is None:
            fail(f"environment variable {args.svm_key_env} (from --svm-key-env) is not set")
        return _parse_svm_keypairs(raw, f"${args.svm_key_env}")
    if args.svm_key_file:
        try:
            with open(args.svm_key_file, encoding="utf-8") as fh:
                raw = fh.read()
        except OSError as e:
            fail(f"cannot read --svm-key-file: {e}")
        return _parse_svm_keypairs(raw, "--svm-key-file")
    if args.svm_key_from_state:
        if not args.svmnet_state:
            fail("--svm-key-from-state needs the svmnet state JSON: --svmnet-state PATH or X402_SVMNET_STATE")
        try:
            with open(args.svmnet_state, encoding="utf-8") as fh:
                state = json.load(fh)
        except (OSError, ValueError) as e:
            fail(f"cannot read the svmnet state {args.svmnet_state}: {e}")
        role, _, index = args.svm_key_from_state.partition(":")
        group = {"facilitator": "facilitators", "payer": "payers", "seller": "sellers"}.get(role)
        wallets = state.get(group) if group else None
        if not isinstance(wallets, list) or not wallets:
            fail(f"--svm-key-from-state: no role {role!r} in the svmnet state (facilitator, payer, seller)")
        if index in ("", "all"):
            chosen = wallets if index == "all" else wallets[:1]
        elif index.isdigit() and int(index) < len(wallets):
            chosen = [wallets[int(index)]]
        else:
            fail(f"--svm-key-from-state: index {index!r} out of range (0...{len(wallets) - 1} or all)")
        return [k for w in chosen for k in _parse_svm_keypairs(w["secretKey"], f"the svmnet state's {role}")]
    if required:
        fail("a Solana keypair is required: --svm-key-env VAR, --svm-key-file PATH or --svm-key-from-state ROLE:N")
    return []
