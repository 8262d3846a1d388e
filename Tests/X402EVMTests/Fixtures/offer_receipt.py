#!/usr/bin/env python3
"""Generate offer-receipt cross-check vectors (spec extensions.md §4) with independent tools.

* EIP-712: eth-account (`encode_typed_data` + `Account.sign_message` / `recover_message`);
  the spec example's digest is asserted against shared/spec/test-vectors.md §6.
* JWS ES256K: SHA-256 + the pure-Python ECDSA of eth-keys (NativeECCBackend, no libsecp256k1).
* JWS EdDSA: pycryptodome's Ed25519 (`Crypto.Signature.eddsa`).
* JCS, base64url, base58btc and did:key are re-implemented here from their RFCs.

Writes offer-receipt.json beside this script and offer-receipt-eddsa.json into
Tests/X402SolanaTests/Fixtures. Deterministic (fixed keys and times). Regenerate from the
repository root with the devnet venv (it holds every pinned package; see the requirements file
beside this script):

    Tools/devnet/.venv/bin/python Tests/X402EVMTests/Fixtures/offer_receipt.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import KeyAPI
from eth_keys.backends import NativeECCBackend

HERE = os.path.dirname(os.path.abspath(__file__))
SOLANA_FIXTURES = os.path.join(HERE, "..", "..", "X402SolanaTests", "Fixtures")

EVM_KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
OTHER_EVM_KEY = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
ED_SEED = bytes(range(1, 33))
OTHER_ED_SEED = bytes(range(101, 133))

OFFER_TYPES = [
    ("version", "uint256"), ("resourceUrl", "string"), ("scheme", "string"), ("network", "string"),
    ("asset", "string"), ("payTo", "string"), ("amount", "string"), ("validUntil", "uint256"),
]
RECEIPT_TYPES = [
    ("version", "uint256"), ("network", "string"), ("resourceUrl", "string"), ("payer", "string"),
    ("issuedAt", "uint256"), ("transaction", "string"),
]

SPEC_OFFER = {
    "version": 1, "resourceUrl": "https://api.example.com/premium-data", "scheme": "exact", "network": "eip155:8453",
    "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
    "amount": "10000", "validUntil": 1703123516,
}
SPEC_OFFER_DIGEST = "0x080c2947f96376213d3de762c32b1f56ba5869acdeb87c7a44b7be5d33d397ea"


def typed(kind: str, message: dict) -> dict:
    fields = OFFER_TYPES if kind == "offer" else RECEIPT_TYPES
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}],
            ("Offer" if kind == "offer" else "Receipt"): [{"name": n, "type": t} for n, t in fields],
        },
        "primaryType": "Offer" if kind == "offer" else "Receipt",
        "domain": {"name": "x402 offer" if kind == "offer" else "x402 receipt", "version": "1", "chainId": 1},
        "message": message,
    }


def eip712_vector(name: str, kind: str, message: dict, key: bytes) -> dict:
    signable = encode_typed_data(full_message=typed(kind, message))
    signed = Account.sign_message(signable, private_key=key)
    from eth_account.messages import _hash_eip191_message  # type: ignore[attr-defined]

    digest = "0x" + _hash_eip191_message(signable).hex()
    signer = Account.recover_message(signable, signature=signed.signature)
    assert signer == Account.from_key(key).address
    return {
        "name": name, "kind": kind, "payload": message, "digest": digest,
        "signature": "0x" + bytes(signed.signature).hex(), "signer": signer.lower(),
    }


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jcs(obj: dict) -> bytes:
    # RFC 8785 for flat objects of ASCII strings and small integers: sorted keys, no whitespace.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def did_key(multicodec: bytes, public: bytes) -> str:
    return "did:key:z" + b58(multicodec + public)


def es256k_key(secret: bytes) -> tuple[str, object]:
    api = KeyAPI(NativeECCBackend)
    pk = api.PrivateKey(secret)
    compressed = pk.public_key.to_compressed_bytes()
    return did_key(b"\xe7\x01", compressed), pk


def es256k_sign(pk, signing_input: bytes) -> bytes:
    api = KeyAPI(NativeECCBackend)
    sig = api.ecdsa_sign(hashlib.sha256(signing_input).digest(), pk)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big")


def ed_key(seed: bytes):
    key = ECC.construct(curve="Ed25519", seed=seed)
    public = key.public_key().export_key(format="raw")
    return did_key(b"\xed\x01", public), key


def ed_sign(key, signing_input: bytes) -> bytes:
    return eddsa.new(key, "rfc8032").sign(signing_input)


def jws(alg: str, kid: str, payload: dict, sign) -> dict:
    header = json.dumps({"alg": alg, "kid": kid}, separators=(",", ":")).encode()
    signing_input = (b64url(header) + "." + b64url(jcs(payload))).encode("ascii")
    signature = sign(signing_input)
    return {"payload": payload, "kid": kid, "jws": signing_input.decode() + "." + b64url(signature)}


def main() -> None:
    receipt = {"version": 1, "network": "eip155:8453", "resourceUrl": "https://api.example.com/premium-data",
               "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66", "issuedAt": 1703123456, "transaction": ""}
    receipt_tx = dict(receipt, transaction="0x" + "ab" * 32)
    spec = eip712_vector("spec offer", "offer", SPEC_OFFER, EVM_KEY)
    assert spec["digest"] == SPEC_OFFER_DIGEST, spec["digest"]
    signer_address = Account.from_key(EVM_KEY).address
    own_offer = dict(SPEC_OFFER, payTo=signer_address)
    eip712 = [
        spec,
        eip712_vector("offer paid to its signer", "offer", own_offer, EVM_KEY),
        eip712_vector("offer without validUntil", "offer", dict(own_offer, validUntil=0), EVM_KEY),
        eip712_vector("receipt", "receipt", receipt, EVM_KEY),
        eip712_vector("receipt with transaction", "receipt", receipt_tx, EVM_KEY),
        eip712_vector("receipt by another key", "receipt", receipt, OTHER_EVM_KEY),
    ]

    kid_k, pk = es256k_key(EVM_KEY)
    other_kid_k, other_pk = es256k_key(OTHER_EVM_KEY)
    jws_offer = {k: v for k, v in own_offer.items()}
    jws_receipt = {k: v for k, v in receipt.items() if k != "transaction"}
    es256k = {
        "didKey": kid_k,
        "otherDidKey": other_kid_k,
        "vectors": [
            dict(name="offer", kind="offer", **jws("ES256K", kid_k + "#" + kid_k[8:], jws_offer, lambda m: es256k_sign(pk, m))),
            dict(name="receipt", kind="receipt", **jws("ES256K", kid_k + "#" + kid_k[8:], jws_receipt, lambda m: es256k_sign(pk, m))),
            dict(name="receipt with transaction", kind="receipt",
                 **jws("ES256K", kid_k + "#" + kid_k[8:], dict(jws_receipt, transaction=receipt_tx["transaction"]),
                       lambda m: es256k_sign(pk, m))),
            dict(name="receipt with did:web kid", kind="receipt",
                 **jws("ES256K", "did:web:api.example.com#key-1", jws_receipt, lambda m: es256k_sign(pk, m))),
        ],
        # Signed by the other key but naming the first key: must be rejected.
        "wrongKey": dict(kind="receipt", **jws("ES256K", kid_k + "#" + kid_k[8:], jws_receipt, lambda m: es256k_sign(other_pk, m))),
    }
    # A high-s form of the receipt signature (n - s): the same signature under RFC 8812, accepted.
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    head, sig = es256k["vectors"][1]["jws"].rsplit(".", 1)
    raw = base64.urlsafe_b64decode(sig + "==")
    high = raw[:32] + (n - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    es256k["highS"] = head + "." + b64url(high)

    kid_e, ek = ed_key(ED_SEED)
    other_kid_e, other_ek = ed_key(OTHER_ED_SEED)
    ed = {
        "seed": ED_SEED.hex(),
        "didKey": kid_e,
        "otherDidKey": other_kid_e,
        "vectors": [
            dict(name="offer", kind="offer", **jws("EdDSA", kid_e + "#" + kid_e[8:], jws_offer, lambda m: ed_sign(ek, m))),
            dict(name="receipt", kind="receipt", **jws("EdDSA", kid_e + "#" + kid_e[8:], jws_receipt, lambda m: ed_sign(ek, m))),
        ],
        "wrongKey": dict(kind="receipt", **jws("EdDSA", kid_e + "#" + kid_e[8:], jws_receipt, lambda m: ed_sign(other_ek, m))),
    }

    evm = {"note": "generated by offer_receipt.py; do not edit", "privateKey": EVM_KEY.hex(),
           "otherPrivateKey": OTHER_EVM_KEY.hex(), "signer": signer_address.lower(), "eip712": eip712, "es256k": es256k}
    with open(os.path.join(HERE, "offer-receipt.json"), "w") as f:
        json.dump(evm, f, indent=2)
        f.write("\n")
    with open(os.path.join(SOLANA_FIXTURES, "offer-receipt-eddsa.json"), "w") as f:
        json.dump(dict(note="generated by Tests/X402EVMTests/Fixtures/offer_receipt.py; do not edit", **ed), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
