#!/usr/bin/env python3
"""Generates siws-vectors.json: Solana sign-in-with-x (SIWS) messages and their Ed25519 signatures,
made with tools independent of swift-x402.

* The message text is formatted here from the spec (shared/spec/extensions.md §2.4) and, when the
  official x402 SDK is importable (Tools/interop/.venv with requirements-extensions.txt: x402==2.25.0), checked byte for byte
  against its `format_siws_message`.
* Keys and signatures come from solders (the Rust solana-sdk / ed25519-dalek); when PyNaCl is
  importable (libsodium) every signature is verified with it too.

Run with either venv (both already have solders):
    Tools/svmnet/.venv/bin/python Tests/X402SolanaTests/Fixtures/siws_vectors.py
    Tools/interop/.venv/bin/python Tests/X402SolanaTests/Fixtures/siws_vectors.py   # + SDK and PyNaCl checks
Writes the JSON beside this file; Ed25519 is deterministic, so a rerun reproduces it exactly.
"""
import json
import pathlib
import sys

from solders.keypair import Keypair

HERE = pathlib.Path(__file__).resolve().parent

try:
    from x402.extensions.sign_in_with_x.solana import format_siws_message as sdk_format
except ImportError:
    sdk_format = None
try:
    from nacl.signing import VerifyKey
except ImportError:
    VerifyKey = None


def siws_text(f, address):
    lines = [f"{f['domain']} wants you to sign in with your Solana account:", address, ""]
    if f.get("statement"):
        lines += [f["statement"], ""]
    lines += [
        f"URI: {f['uri']}",
        f"Version: {f['version']}",
        f"Chain ID: {f['chainId'].split(':', 1)[1]}",
        f"Nonce: {f['nonce']}",
        f"Issued At: {f['issuedAt']}",
    ]
    for key, label in (("expirationTime", "Expiration Time"), ("notBefore", "Not Before"), ("requestId", "Request ID")):
        if f.get(key):
            lines.append(f"{label}: {f[key]}")
    if f.get("resources"):
        lines.append("Resources:")
        lines += [f"- {r}" for r in f["resources"]]
    return "\n".join(lines)


BASE = {
    "domain": "api.example.com",
    "uri": "https://api.example.com/premium-data",
    "version": "1",
    "chainId": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "nonce": "a1b2c3d4e5f67890a1b2c3d4e5f67890",
    "issuedAt": "2024-01-15T10:30:00.000Z",
}
CASES = [
    ("spec example (statement, expiration, resources)", 1, {
        "statement": "Sign in to access premium data",
        "expirationTime": "2024-01-15T10:35:00.000Z",
        "resources": ["https://api.example.com/premium-data"],
    }),
    ("no statement: one empty line before URI", 2, {}),
    ("devnet, every optional field", 3, {
        "chainId": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
        "statement": "Sign in",
        "expirationTime": "2024-01-15T10:35:00.000Z",
        "notBefore": "2024-01-15T10:29:00.000Z",
        "requestId": "req-42",
        "resources": ["https://api.example.com/a", "https://api.example.com/b"],
    }),
    ("non-ASCII statement and a port in the domain", 4, {
        "domain": "127.0.0.1:8080",
        "uri": "http://127.0.0.1:8080/report",
        "statement": "Anmelden für den Bericht ✓",
    }),
    ("empty statement and request id: no lines", 5, {"statement": "", "requestId": ""}),
]

vectors = []
for name, seed_byte, edits in CASES:
    fields = {**BASE, **edits}
    keypair = Keypair.from_seed(bytes([seed_byte] * 32))
    address = str(keypair.pubkey())
    message = siws_text(fields, address)
    if sdk_format is not None:
        sdk = sdk_format(fields, address)
        if sdk != message:
            sys.exit(f"{name}: the SDK formats the message differently:\n{sdk!r}\n{message!r}")
    signature = keypair.sign_message(message.encode("utf-8"))
    if not signature.verify(keypair.pubkey(), message.encode("utf-8")):
        sys.exit(f"{name}: solders does not verify its own signature")
    if VerifyKey is not None:
        VerifyKey(bytes(keypair.pubkey())).verify(message.encode("utf-8"), bytes(signature))
    vectors.append({
        "name": name,
        "seed": bytes([seed_byte] * 32).hex(),
        "fields": fields,
        "address": address,
        "message": message,
        "signature": str(signature),
    })

out = {
    "generator": "Tests/X402SolanaTests/Fixtures/siws_vectors.py (solders; checked with x402 SDK and PyNaCl when present)",
    "checkedWithSDK": sdk_format is not None,
    "checkedWithPyNaCl": VerifyKey is not None,
    "vectors": vectors,
}
(HERE / "siws-vectors.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
print(f"wrote {len(vectors)} vectors (SDK check: {sdk_format is not None}, PyNaCl check: {VerifyKey is not None})")
