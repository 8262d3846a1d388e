#!/usr/bin/env python3
"""Generate cross-check fixtures for the Swift EVM toolkit (X402EVM).

Every value in the JSON files next to this script is produced by independent,
widely used Python libraries (eth-hash, eth-utils, eth-keys, eth-abi, rlp,
eth-account). Where cheap, the script also re-derives values with a small
independent implementation (EIP-712 encoder, RLP encoder, EIP-55, signing
hashes, signature recovery) and asserts against the constants published in
shared/spec/test-vectors.md, so a library quirk cannot silently leak into the
fixtures.

The output is fully deterministic: all randomness comes from
random.Random(<fixed seed>) instances, one per file.

Regenerate (from the repository root):

    python3 -m venv .venv-vectors
    .venv-vectors/bin/pip install -r Tests/X402EVMTests/Fixtures/requirements.txt
    .venv-vectors/bin/python Tests/X402EVMTests/Fixtures/generate.py
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import random
import re
import sys

import eth_abi
import rlp
from Crypto.Hash import keccak as _pycryptodome_keccak
from eth_account import Account
from eth_account._utils.encode_typed_data.encoding_and_hashing import (
    hash_domain,
    hash_eip712_message,
)
from eth_account.messages import encode_typed_data
from eth_keys import keys as eth_keys_keys
from eth_keys.backends import NativeECCBackend
from eth_keys.datatypes import PrivateKey, Signature
from eth_utils import keccak, to_checksum_address

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
UINT256_MAX = 2**256 - 1

# x402 / spec constants (shared/spec/scheme-exact-evm.md, test-vectors.md)
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
EXACT_PERMIT2_PROXY = "0x402085c248EeA27D92E8b30b2C58ed07f9E20001"
UPTO_PERMIT2_PROXY = "0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002"
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
SPEC_FROM = "0x857b06519E91e3A54538791bDbb0E22373e36b66"
SPEC_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
USDC_BASE = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
ERC6492_MAGIC = bytes.fromhex("64926492649264926492649264926492" * 2)

# Well-known token contracts per chain (used as verifyingContract half the time)
TOKEN_BY_CHAIN = {
    8453: USDC_BASE,
    84532: USDC_BASE_SEPOLIA,
    137: "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
    1: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
    43114: "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E",
}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def hx(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def unhx(s: str) -> bytes:
    assert s.startswith("0x"), s
    return bytes.fromhex(s[2:])


def k256(b: bytes) -> bytes:
    """keccak-256 through pycryptodome directly (independent of eth_hash glue)."""
    h = _pycryptodome_keccak.new(digest_bits=256)
    h.update(b)
    return h.digest()


def rand_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def rand_address(rng: random.Random) -> str:
    return to_checksum_address(hx(rand_bytes(rng, 20)))


def rand_privkey(rng: random.Random) -> int:
    return rng.randrange(1, SECP256K1_N)


def key_hex(k: int) -> str:
    return "0x" + k.to_bytes(32, "big").hex()


def my_checksum(addr_lower: str) -> str:
    """Independent EIP-55 implementation."""
    a = addr_lower[2:].lower()
    h = k256(a.encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(h[i], 16) >= 8 else c for i, c in enumerate(a))


def rand_uint(rng: random.Random, bits: int = 256) -> int:
    """Random uint weighted to interesting values."""
    mx = 2**bits - 1
    r = rng.random()
    if r < 0.08:
        return 0
    if r < 0.16:
        return mx
    if r < 0.24:
        return 1
    if r < 0.40:
        return rng.getrandbits(bits)
    if r < 0.55:
        return min(mx, 2 ** rng.randrange(bits)) - rng.choice([0, 1])
    return rng.randrange(0, 2 ** rng.randint(1, bits))


def rand_int(rng: random.Random, bits: int = 256) -> int:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    r = rng.random()
    if r < 0.12:
        return lo
    if r < 0.24:
        return hi
    if r < 0.34:
        return -1
    if r < 0.40:
        return 0
    if r < 0.60:
        return rng.randint(lo, hi)
    v = rng.randrange(0, 2 ** rng.randint(1, bits - 1))
    return -v if rng.random() < 0.6 else v


def realistic_amount(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.05:
        return 0
    if r < 0.09:
        return UINT256_MAX
    if r < 0.14:
        return rng.getrandbits(256)
    if r < 0.20:
        return 2 ** rng.randrange(256)
    return rng.randrange(1, 10 ** rng.randint(1, 13))


STRINGS = [
    "",
    "a",
    "hello world",
    "USD Coin",
    "x402",
    "Ünïcödé naïve café",
    "日本語のテキスト",
    "emoji 💸🚀✨",
    "Ελληνικά",
    "mixed: ascii + кириллица + العربية",
    "exactly thirty-two bytes long!!!",
    "thirty-three bytes long string!!!",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "line\nbreak\ttab \"quote\" \\backslash",
    "0x1234 (a string that looks like hex)",
    "null \u0000 byte",
]


def rand_string(rng: random.Random) -> str:
    return rng.choice(STRINGS)


def write_json(name: str, obj) -> None:
    text = json.dumps(obj, indent=1, ensure_ascii=False) + "\n"
    with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    size = len(text.encode())
    assert size < 1_000_000, (name, size)
    print(f"{name}: {len(obj)} entries, {size} bytes")


# ---------------------------------------------------------------------------
# 1. keccak.json
# ---------------------------------------------------------------------------


KNOWN_TYPEHASHES = {
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)": "0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f",
    "EIP712Domain(string name,uint256 chainId,address verifyingContract)": "0x8cad95687ba82c2ce50e74f7b754645e5117c3a5bec8151c0726d5857980a866",
    "EIP712Domain(string name,string version,uint256 chainId)": "0xc2f8787176b8ac6bf7215b4adcc1e069bf4ab82d9ab1df05a57a91d425935b6e",
    "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)": "0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267",
    "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)": "0xd099cc98ef71107a616c4f0f941f04c322d8e254fe26b3c6668db87aae413de8",
    "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,uint256 validAfter)": "0xebc156cd23678a74c94df13d772ef5478420637f0c94bd10d509e1dc98f521c7",
    "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)": "0x51dff6974ad4388c499e7fcfe838d2bd767162553a144098ce20ea661d70c2ee",
    "TokenPermissions(address token,uint256 amount)": "0x618358ac3db8dc274f0cd8829da7e234bd48cd73c4a740aede1adec9846d06a1",
    "Witness(address to,uint256 validAfter)": "0xd97b3239a7f32295517bd14cb074edfdd188dfe5eb42f802bb26d4fd1eb12c37",
    "Witness(address to,address facilitator,uint256 validAfter)": "0xd4171c445a74218b01d4fd8af34ff1106580ea1e36ff837e64484bfaa2253b75",
    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)": "0x6e71edae12b1b97f4d1f60370fef10105fa2faae0126114a169c64845d6126c9",
    "Offer(uint256 version,string resourceUrl,string scheme,string network,string asset,string payTo,string amount,uint256 validUntil)": "0x85143d3249b5e62ed5edd3d59a352d4e1181c775ff4f762f9c8a617f6bf1e97d",
    "Receipt(uint256 version,string network,string resourceUrl,string payer,uint256 issuedAt,string transaction)": "0x616944bc4bb51b3d5fcbba8c559f76d57a93ac1e0d6659f1abbe95f92300c06f",
}


def gen_keccak():
    rng = random.Random(40201)
    inputs: list[bytes] = []
    # well-known values
    assert keccak(b"") == bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    assert keccak(b"hello world") == bytes.fromhex("47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad")
    inputs.append(b"")
    for b in (0x00, 0x01, 0x7F, 0x80, 0xFF):
        inputs.append(bytes([b]))
    # every length 1..300 with random data (covers rate boundaries 135/136/137, 271/272/273)
    for n in range(1, 301):
        inputs.append(rand_bytes(rng, n))
    # boundary lengths with constant fill, and longer multi-block inputs
    for n in (135, 136, 137, 271, 272, 273, 407, 408, 409):
        inputs.append(b"\x00" * n)
        inputs.append(b"\xff" * n)
    for n in (1000, 4096):
        inputs.append(rand_bytes(rng, n))
    # UTF-8 strings
    texts = [
        "hello world",
        "abc",
        "testing",
        "The quick brown fox jumps over the lazy dog",
        "The quick brown fox jumps over the lazy dog.",
        "héllo wörld",
        "日本語",
        "💸 x402 payment",
        "transfer(address,uint256)",
        "Error(string)",
        "Panic(uint256)",
    ] + list(KNOWN_TYPEHASHES.keys())
    for t in texts:
        inputs.append(t.encode("utf-8"))
    out = []
    for data in inputs:
        h = keccak(data)
        assert h == k256(data)
        out.append({"input": hx(data), "hash": hx(h)})
    for t, expected in KNOWN_TYPEHASHES.items():
        assert hx(keccak(t.encode())) == expected, t
    write_json("keccak.json", out)


# ---------------------------------------------------------------------------
# 2. eip55.json
# ---------------------------------------------------------------------------


def gen_eip55():
    rng = random.Random(40202)
    # Examples from the EIP-55 text itself (checksummed as published)
    eip55_examples = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
    ]
    x402 = [
        PERMIT2,
        EXACT_PERMIT2_PROXY,
        UPTO_PERMIT2_PROXY,
        MULTICALL3,
        SPEC_FROM,
        SPEC_TO,
        USDC_BASE,
        USDC_BASE_SEPOLIA,
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "0xdAcD51A54883eb67D95FAEb2BBfdC4a9a6BD2a3B",
    ] + list(TOKEN_BY_CHAIN.values())
    edge = [
        "0x" + "00" * 20,
        "0x" + "ff" * 20,
        "0x" + "00" * 19 + "01",
        "0x" + "80" + "00" * 19,
        "0x1234567890123456789012345678901234567890",
        "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd",
        "0x" + "aa" * 20,
        "0x" + "0f" * 20,
        "0x" + "f0" * 20,
        "0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
        "0xcccccccccccccccccccccccccccccccccccccccc",
    ]
    addrs = [a.lower() for a in eip55_examples + x402 + edge]
    for _ in range(80):
        addrs.append(hx(rand_bytes(rng, 20)))
    seen = set()
    out = []
    for a in addrs:
        if a in seen:
            continue
        seen.add(a)
        c = to_checksum_address(a)
        assert c == my_checksum(a)
        out.append({"lower": a, "checksummed": c})
    for a in eip55_examples + x402:
        assert to_checksum_address(a.lower()) == a, a
    write_json("eip55.json", out)


# ---------------------------------------------------------------------------
# 3. keys.json
# ---------------------------------------------------------------------------

KNOWN_KEYS = {
    # hardhat/anvil accounts #0..#2 (x402 go/ts tests use #0)
    0xAC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    0x59C6995E998F97A5A0044966F0945389DC9E86DAE88C7A8412F4603B6B78690D: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    0x5DE4111AFA1A4B94908F83103EB1F1706367C2E68CA870FC3FB9A804CDAB365A: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    1: "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf",
    # keccak("cow") from the EIP-712 Mail example
    int.from_bytes(keccak(b"cow"), "big"): "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826",
}


def gen_keys():
    rng = random.Random(40203)
    native = NativeECCBackend()
    ks = list(KNOWN_KEYS.keys()) + [
        2,
        3,
        0xFF,
        2**128,
        2**255,
        SECP256K1_N - 2,
        SECP256K1_N - 1,
        int("01" * 32, 16),
        int("7f" + "ff" * 31, 16),
    ]
    for _ in range(30):
        ks.append(rand_privkey(rng))
    out = []
    for k in ks:
        assert 1 <= k < SECP256K1_N
        pk = PrivateKey(k.to_bytes(32, "big"))
        pub = pk.public_key.to_bytes()
        pk_native = PrivateKey(k.to_bytes(32, "big"), backend=native)
        assert pk_native.public_key.to_bytes() == pub
        addr = to_checksum_address(k256(pub)[-20:])
        assert addr == pk.public_key.to_checksum_address() == Account.from_key(k.to_bytes(32, "big")).address
        if k in KNOWN_KEYS:
            assert addr == KNOWN_KEYS[k], (hex(k), addr)
        out.append({"privateKey": key_hex(k), "publicKey": "0x04" + pub.hex(), "address": addr})
    write_json("keys.json", out)


# ---------------------------------------------------------------------------
# Independent EIP-712 encoder (cross-check for eth_account)
# ---------------------------------------------------------------------------

_ARRAY_RE = re.compile(r"^(.*)\[(\d*)\]$")


def _deps(t: str, types: dict, acc: list):
    base = t[: t.index("[")] if "[" in t else t
    if base not in types or base in acc:
        return
    acc.append(base)
    for f in types[base]:
        _deps(f["type"], types, acc)


def my_encode_type(primary: str, types: dict) -> str:
    acc: list = []
    _deps(primary, types, acc)
    acc.remove(primary)
    order = [primary] + sorted(acc)
    return "".join(f"{t}(" + ",".join(f"{f['type']} {f['name']}" for f in types[t]) + ")" for t in order)


def _word_int(v: int, signed: bool, bits: int) -> bytes:
    if signed:
        assert -(2 ** (bits - 1)) <= v < 2 ** (bits - 1)
        return (v % 2**256).to_bytes(32, "big")
    assert 0 <= v < 2**bits
    return v.to_bytes(32, "big")


def my_encode_value(t: str, v, types: dict) -> bytes:
    m = _ARRAY_RE.match(t)
    if m:
        inner, n = m.group(1), m.group(2)
        assert isinstance(v, list)
        if n:
            assert len(v) == int(n)
        return k256(b"".join(my_encode_value(inner, x, types) for x in v))
    if t in types:
        return my_hash_struct(t, v, types)
    if t == "string":
        return k256(v.encode("utf-8"))
    if t == "bytes":
        return k256(unhx(v))
    if t == "bool":
        assert isinstance(v, bool)
        return (1 if v else 0).to_bytes(32, "big")
    if t == "address":
        assert v == to_checksum_address(v)
        return b"\x00" * 12 + unhx(v)
    if t.startswith("uint"):
        return _word_int(int(v), False, int(t[4:]))
    if t.startswith("int"):
        return _word_int(int(v), True, int(t[3:]))
    if t.startswith("bytes"):
        b = unhx(v)
        assert len(b) == int(t[5:])
        return b + b"\x00" * (32 - len(b))
    raise ValueError(t)


def my_hash_struct(t: str, v: dict, types: dict) -> bytes:
    enc = k256(my_encode_type(t, types).encode())
    for f in types[t]:
        enc += my_encode_value(f["type"], v[f["name"]], types)
    return k256(enc)


def eip712_entry(kind: str, privkey: int | None, td: dict, signature: str | None = None, signer: str | None = None) -> dict:
    signable = encode_typed_data(full_message=td)
    msg_types = {k: v for k, v in td["types"].items() if k != "EIP712Domain"}
    domain_sep = hash_domain(td["domain"])
    struct_hash = hash_eip712_message(msg_types, td["message"])
    digest = k256(b"\x19\x01" + domain_sep + struct_hash)
    assert bytes(signable.header) == domain_sep and bytes(signable.body) == struct_hash
    # independent re-derivation, using the declared EIP712Domain field order
    assert my_hash_struct("EIP712Domain", td["domain"], td["types"]) == domain_sep
    assert my_hash_struct(td["primaryType"], td["message"], td["types"]) == struct_hash
    # the JSON must survive a round trip unchanged (what the Swift side will read)
    assert json.loads(json.dumps(td)) == td
    if privkey is not None:
        acct = Account.from_key(privkey.to_bytes(32, "big"))
        sm = Account.sign_message(signable, privkey.to_bytes(32, "big"))
        assert bytes(sm.message_hash) == digest
        sig = bytes(sm.signature)
        signer = acct.address
    else:
        sig = unhx(signature)
    assert len(sig) == 65
    r, s, v = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
    assert v in (27, 28) and 0 < r < SECP256K1_N and 0 < s <= SECP256K1_N // 2
    rec = Signature(vrs=(v - 27, r, s), backend=NativeECCBackend()).recover_public_key_from_msg_hash(digest)
    assert rec.to_checksum_address() == signer
    return {
        "kind": kind,
        "privateKey": key_hex(privkey) if privkey is not None else None,
        "typedData": td,
        "domainSeparator": hx(domain_sep),
        "structHash": hx(struct_hash),
        "digest": hx(digest),
        "signature": hx(sig),
        "signer": signer,
    }


DOMAIN_FIELD_TYPES = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
]


def domain_types(domain: dict) -> list:
    # canonical EIP-712 order (eth_account always hashes in this order)
    return [{"name": n, "type": t} for n, t in DOMAIN_FIELD_TYPES if n in domain]


def typed_data(types: dict, primary: str, domain: dict, message: dict) -> dict:
    full_types = {"EIP712Domain": domain_types(domain)}
    full_types.update(types)
    return {"types": full_types, "primaryType": primary, "domain": domain, "message": message}


TWA_TYPES = {
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"},
        {"name": "validBefore", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ]
}

PERMIT2_TYPES = {
    "PermitWitnessTransferFrom": [
        {"name": "permitted", "type": "TokenPermissions"},
        {"name": "spender", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
        {"name": "witness", "type": "Witness"},
    ],
    "TokenPermissions": [
        {"name": "token", "type": "address"},
        {"name": "amount", "type": "uint256"},
    ],
    "Witness": [
        {"name": "to", "type": "address"},
        {"name": "validAfter", "type": "uint256"},
    ],
}


def rand_times(rng: random.Random):
    r = rng.random()
    if r < 0.75:
        now = rng.randint(1_700_000_000, 1_900_000_000)
        return now - rng.choice([0, 60, 600, 3600]), now + rng.choice([6, 30, 60, 300, 3600, 86400])
    if r < 0.80:
        return 0, UINT256_MAX
    if r < 0.85:
        return 0, 2**64 - 1
    if r < 0.90:
        return 2**53 + 1, 2**53 + 2
    if r < 0.95:
        return UINT256_MAX, UINT256_MAX
    return rng.getrandbits(256), rng.getrandbits(256)


def gen_twa(rng: random.Random) -> dict:
    k = rand_privkey(rng)
    frm = Account.from_key(k.to_bytes(32, "big")).address
    chain = rng.choice([8453, 84532, 137, 1, 43114])
    token = TOKEN_BY_CHAIN[chain] if rng.random() < 0.5 else rand_address(rng)
    name = rng.choice(["USD Coin", "USDC", "USDT0", "USD Coin", "USDC", "Bridged USDC", "EURC", "Tether USD", "Ünïcödé Dollar"])
    version = rng.choice(["1", "2", "2", "1"])
    va, vb = rand_times(rng)
    nr = rng.random()
    nonce = b"\x00" * 32 if nr < 0.04 else b"\xff" * 32 if nr < 0.08 else rand_bytes(rng, 32)
    to = SPEC_TO if rng.random() < 0.2 else rand_address(rng)
    domain = {"name": name, "version": version, "chainId": chain, "verifyingContract": token}
    message = {
        "from": frm,
        "to": to,
        "value": str(realistic_amount(rng)),
        "validAfter": str(va),
        "validBefore": str(vb),
        "nonce": hx(nonce),
    }
    return eip712_entry("transferWithAuthorization", k, typed_data(TWA_TYPES, "TransferWithAuthorization", domain, message))


def gen_permit2(rng: random.Random) -> dict:
    k = rand_privkey(rng)
    chain = rng.choice([8453, 84532, 137, 1, 43114])
    token = TOKEN_BY_CHAIN[chain] if rng.random() < 0.5 else rand_address(rng)
    va, deadline = rand_times(rng)
    nr = rng.random()
    nonce = 0 if nr < 0.05 else UINT256_MAX if nr < 0.1 else rng.randrange(1, 1000) if nr < 0.2 else rng.getrandbits(256)
    spender = EXACT_PERMIT2_PROXY if rng.random() < 0.9 else rand_address(rng)
    domain = {"name": "Permit2", "chainId": chain, "verifyingContract": PERMIT2}
    message = {
        "permitted": {"token": token, "amount": str(realistic_amount(rng))},
        "spender": spender,
        "nonce": str(nonce),
        "deadline": str(deadline),
        "witness": {"to": SPEC_TO if rng.random() < 0.2 else rand_address(rng), "validAfter": str(va)},
    }
    return eip712_entry("permit2Witness", k, typed_data(PERMIT2_TYPES, "PermitWitnessTransferFrom", domain, message))


def rand_domain(rng: random.Random) -> dict:
    while True:
        d = {}
        if rng.random() < 0.8:
            d["name"] = rng.choice(["Ether Mail", "Generic App", "x402 test", "Ünïcödé Dömäin", ""])
        if rng.random() < 0.6:
            d["version"] = rng.choice(["1", "2", "1.0.0", ""])
        if rng.random() < 0.8:
            d["chainId"] = rng.choice([1, 10, 137, 8453, 84532, 43114, 324705682, 2**53 - 1])
        if rng.random() < 0.7:
            d["verifyingContract"] = rand_address(rng)
        if rng.random() < 0.25:
            d["salt"] = hx(rand_bytes(rng, 32))
        if d:
            return d


def F(name, type_):
    return {"name": name, "type": type_}


def val_for(rng: random.Random, t: str, types: dict):
    """Random JSON value for an EIP-712 type."""
    m = _ARRAY_RE.match(t)
    if m:
        inner, n = m.group(1), m.group(2)
        length = int(n) if n else rng.choice([0, 1, 2, 3, 5])
        return [val_for(rng, inner, types) for _ in range(length)]
    if t in types:
        return {f["name"]: val_for(rng, f["type"], types) for f in types[t]}
    if t == "string":
        return rand_string(rng)
    if t == "bytes":
        return hx(rand_bytes(rng, rng.choice([0, 1, 4, 20, 32, 33, 64, 65, 100, 300])))
    if t == "bool":
        return rng.random() < 0.5
    if t == "address":
        return rand_address(rng)
    if t.startswith("uint"):
        return str(rand_uint(rng, int(t[4:])))
    if t.startswith("int"):
        return str(rand_int(rng, int(t[3:])))
    if t.startswith("bytes"):
        return hx(rand_bytes(rng, int(t[5:])))
    raise ValueError(t)


GENERIC_SHAPES = {
    # name: (types, primaryType)
    "mailPerson": (
        {"Person": [F("name", "string"), F("wallet", "address")], "Mail": [F("from", "Person"), F("to", "Person"), F("contents", "string")]},
        "Mail",
    ),
    "mailPersonArrays": (
        {
            "Person": [F("name", "string"), F("wallets", "address[]")],
            "Mail": [F("from", "Person"), F("to", "Person[]"), F("contents", "string")],
        },
        "Mail",
    ),
    "allUints": ({"AllUints": [F(f"u{b}", f"uint{b}") for b in range(8, 257, 8)]}, "AllUints"),
    "allInts": ({"AllInts": [F(f"i{b}", f"int{b}") for b in range(8, 257, 8)]}, "AllInts"),
    "allBytesN": ({"AllBytesN": [F(f"b{n}", f"bytes{n}") for n in range(1, 33)]}, "AllBytesN"),
    "dynamicArrays": (
        {
            "Arrays": [
                F("amounts", "uint256[]"),
                F("owners", "address[]"),
                F("ids", "bytes32[]"),
                F("flags", "bool[]"),
                F("labels", "string[]"),
                F("blobs", "bytes[]"),
                F("deltas", "int64[]"),
            ]
        },
        "Arrays",
    ),
    "fixedArrays": (
        {
            "Item": [F("id", "uint256"), F("owner", "address")],
            "Fixed": [F("triple", "uint256[3]"), F("pair", "address[2]"), F("one", "bytes32[1]"), F("items", "Item[2]"), F("bits", "bool[4]")],
        },
        "Fixed",
    ),
    "structArrays": (
        {
            "Item": [F("sku", "bytes32"), F("qty", "uint32"), F("note", "string")],
            "Order": [F("buyer", "address"), F("items", "Item[]"), F("total", "uint256"), F("paid", "bool")],
        },
        "Order",
    ),
    "bytesString": ({"Blob": [F("data", "bytes"), F("text", "string"), F("tag", "bytes4"), F("empty", "bytes"), F("blank", "string")]}, "Blob"),
    "boolMix": ({"Flags": [F("a", "bool"), F("b", "bool"), F("level", "uint8"), F("delta", "int8")]}, "Flags"),
    "deepNested": (
        {
            "Inner": [F("who", "address"), F("tag", "bytes32"), F("note", "string")],
            "Middle": [F("a", "Inner"), F("b", "Inner"), F("weight", "int128")],
            "Outer": [F("m", "Middle"), F("list", "Inner[]"), F("x", "uint256"), F("raw", "bytes")],
        },
        "Outer",
    ),
    # dependency names deliberately unsorted and of mixed case: encodeType sorts
    # referenced types by name (byte order: "Beta" < "Zeta" < "alpha")
    "depOrdering": (
        {
            "Root": [F("z", "Zeta"), F("a", "alpha"), F("b", "Beta")],
            "Zeta": [F("v", "uint16")],
            "alpha": [F("v", "address"), F("b", "Beta")],
            "Beta": [F("v", "string")],
        },
        "Root",
    ),
    "nestedArrays": ({"Matrix": [F("rows", "uint256[][]"), F("grid", "address[2][]"), F("label", "string")]}, "Matrix"),
    "eip2612Permit": (
        {"Permit": [F("owner", "address"), F("spender", "address"), F("value", "uint256"), F("nonce", "uint256"), F("deadline", "uint256")]},
        "Permit",
    ),
    "receiveWithAuthorization": (
        {"ReceiveWithAuthorization": [dict(f) for f in TWA_TYPES["TransferWithAuthorization"]]},
        "ReceiveWithAuthorization",
    ),
    "cancelAuthorization": ({"CancelAuthorization": [F("authorizer", "address"), F("nonce", "bytes32")]}, "CancelAuthorization"),
    "uptoPermit2Witness": (
        {
            "PermitWitnessTransferFrom": [dict(f) for f in PERMIT2_TYPES["PermitWitnessTransferFrom"]],
            "TokenPermissions": [dict(f) for f in PERMIT2_TYPES["TokenPermissions"]],
            "Witness": [F("to", "address"), F("facilitator", "address"), F("validAfter", "uint256")],
        },
        "PermitWitnessTransferFrom",
    ),
    "offer": (
        {
            "Offer": [
                F("version", "uint256"),
                F("resourceUrl", "string"),
                F("scheme", "string"),
                F("network", "string"),
                F("asset", "string"),
                F("payTo", "string"),
                F("amount", "string"),
                F("validUntil", "uint256"),
            ]
        },
        "Offer",
    ),
    "receipt": (
        {
            "Receipt": [
                F("version", "uint256"),
                F("network", "string"),
                F("resourceUrl", "string"),
                F("payer", "string"),
                F("issuedAt", "uint256"),
                F("transaction", "string"),
            ]
        },
        "Receipt",
    ),
    "singleField": ({"Ping": [F("n", "uint256")]}, "Ping"),
}


def gen_eip712():
    rng = random.Random(40204)
    out = []

    # spec real example (test-vectors.md §4): signature copied, no private key
    spec_td = typed_data(
        TWA_TYPES,
        "TransferWithAuthorization",
        {"name": "USDC", "version": "2", "chainId": 84532, "verifyingContract": USDC_BASE_SEPOLIA},
        {
            "from": SPEC_FROM,
            "to": SPEC_TO,
            "value": "10000",
            "validAfter": "1740672089",
            "validBefore": "1740672154",
            "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480",
        },
    )
    e = eip712_entry(
        "transferWithAuthorization",
        None,
        spec_td,
        signature="0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c",
        signer=SPEC_FROM,
    )
    assert e["domainSeparator"] == "0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818"
    assert e["structHash"] == "0x49ad644555c7bdf3ea4fc022a4940ae5589b230b1dde0065c5504fa19bbe39a4"
    assert e["digest"] == "0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6"
    out.append(e)

    # the spec's key (test-vectors.md §5) signing realistic Base mainnet / Sepolia payments
    hardhat0 = 0xAC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80
    for chain, name in ((8453, "USD Coin"), (84532, "USDC")):
        td = typed_data(
            TWA_TYPES,
            "TransferWithAuthorization",
            {"name": name, "version": "2", "chainId": chain, "verifyingContract": TOKEN_BY_CHAIN[chain]},
            {
                "from": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                "to": SPEC_TO,
                "value": "10000",
                "validAfter": "1740672089",
                "validBefore": "1740672154",
                "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480",
            },
        )
        e = eip712_entry("transferWithAuthorization", hardhat0, td)
        if chain == 8453:
            assert e["domainSeparator"] == "0x02fa7265e7c5d81118673727957699e4d68f74cd74b7db77da710fe8a2c7834f"
        out.append(e)

    for _ in range(110):
        out.append(gen_twa(rng))

    # Permit2: spec example message (test-vectors §3.3) signed by the hardhat key, both test chains
    for chain, sep in ((8453, "0x3b6f35e4fce979ef8eac3bcdc8c3fc38fe7911bb0c69c8fe72bf1fd1a17e6f07"), (84532, "0x010f27a92fb9a32622f44f001dc4d15706a85b33499cfc2ce9033113ab26592c")):
        td = typed_data(
            PERMIT2_TYPES,
            "PermitWitnessTransferFrom",
            {"name": "Permit2", "chainId": chain, "verifyingContract": PERMIT2},
            {
                "permitted": {"token": TOKEN_BY_CHAIN[chain], "amount": "10000"},
                "spender": EXACT_PERMIT2_PROXY,
                "nonce": "33247007178036348590600198031289925668252061821958005840077069883511451257277",
                "deadline": "1740672154",
                "witness": {"to": SPEC_TO, "validAfter": "1740672089"},
            },
        )
        e = eip712_entry("permit2Witness", hardhat0, td)
        assert e["domainSeparator"] == sep
        out.append(e)
    for _ in range(70):
        out.append(gen_permit2(rng))

    # canonical EIP-712 Mail example (digest published in the EIP)
    cow = int.from_bytes(keccak(b"cow"), "big")
    mail_types, _ = GENERIC_SHAPES["mailPerson"]
    td = typed_data(
        mail_types,
        "Mail",
        {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
        {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!",
        },
    )
    e = eip712_entry("generic", cow, td)
    assert e["digest"] == "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    assert e["signature"] == "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c"
    out.append(e)

    # spec offer example (test-vectors.md §6)
    offer_types, _ = GENERIC_SHAPES["offer"]
    td = typed_data(
        offer_types,
        "Offer",
        {"name": "x402 offer", "version": "1", "chainId": 1},
        {
            "version": "1",
            "resourceUrl": "https://api.example.com/premium-data",
            "scheme": "exact",
            "network": "eip155:8453",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "amount": "10000",
            "validUntil": "1703123516",
        },
    )
    e = eip712_entry("generic", hardhat0, td)
    assert e["domainSeparator"] == "0x5dc92544087ab60aa57c539b9543f9282416b0dcf2c2ae0d4d0051052a9e61b6"
    assert e["structHash"] == "0xbc1be3a7ddfbb672f3cb1d8d03c8af6fbd7b9dbdef6fe6798e2d2e83deca0b46"
    assert e["digest"] == "0x080c2947f96376213d3de762c32b1f56ba5869acdeb87c7a44b7be5d33d397ea"
    out.append(e)

    # hand-written extreme generic cases
    all_ints_types, _ = GENERIC_SHAPES["allInts"]
    for sign in (-1, 1):
        msg = {f"i{b}": str(-(2 ** (b - 1)) if sign < 0 else 2 ** (b - 1) - 1) for b in range(8, 257, 8)}
        out.append(eip712_entry("generic", rand_privkey(rng), typed_data(all_ints_types, "AllInts", rand_domain(rng), msg)))
    msg = {f"i{b}": "-1" for b in range(8, 257, 8)}
    out.append(eip712_entry("generic", rand_privkey(rng), typed_data(all_ints_types, "AllInts", rand_domain(rng), msg)))
    all_uints_types, _ = GENERIC_SHAPES["allUints"]
    msg = {f"u{b}": str(2**b - 1) for b in range(8, 257, 8)}
    out.append(eip712_entry("generic", rand_privkey(rng), typed_data(all_uints_types, "AllUints", rand_domain(rng), msg)))
    msg = {f"u{b}": "0" for b in range(8, 257, 8)}
    out.append(eip712_entry("generic", rand_privkey(rng), typed_data(all_uints_types, "AllUints", rand_domain(rng), msg)))
    # every single-field domain shape
    for field, _t in DOMAIN_FIELD_TYPES:
        while True:
            d = rand_domain(rng)
            if field in d:
                break
        d = {field: d[field]}
        types, primary = GENERIC_SHAPES["singleField"]
        out.append(eip712_entry("generic", rand_privkey(rng), typed_data(types, primary, d, {"n": str(rand_uint(rng))})))

    # random instances of every shape (3 each)
    for shape, (types, primary) in GENERIC_SHAPES.items():
        for _ in range(3):
            msg = val_for(rng, primary, types)
            out.append(eip712_entry("generic", rand_privkey(rng), typed_data(types, primary, rand_domain(rng), msg)))

    write_json("eip712.json", out)


# ---------------------------------------------------------------------------
# 5. abi.json, selectors.json, reverts.json
# ---------------------------------------------------------------------------


def split_top(s: str) -> list:
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += c == "("
        depth -= c == ")"
        cur += c
    if cur:
        parts.append(cur)
    return parts


def parse_abi_type(t: str):
    m = _ARRAY_RE.match(t)
    if m:
        return ("array", parse_abi_type(m.group(1)), int(m.group(2)) if m.group(2) else None)
    if t.startswith("("):
        assert t.endswith(")")
        return ("tuple", [parse_abi_type(p) for p in split_top(t[1:-1])])
    return ("base", t)


def abi_rand_value(rng: random.Random, pt):
    kind = pt[0]
    if kind == "array":
        n = pt[2] if pt[2] is not None else rng.choice([0, 1, 2, 3, 4])
        return [abi_rand_value(rng, pt[1]) for _ in range(n)]
    if kind == "tuple":
        return tuple(abi_rand_value(rng, c) for c in pt[1])
    t = pt[1]
    if t == "address":
        return rand_address(rng)
    if t == "bool":
        return rng.random() < 0.5
    if t == "string":
        return rand_string(rng)
    if t == "bytes":
        return rand_bytes(rng, rng.choice([0, 1, 4, 31, 32, 33, 64, 65, 100]))
    if t.startswith("uint"):
        return rand_uint(rng, int(t[4:]))
    if t.startswith("int"):
        return rand_int(rng, int(t[3:]))
    if t.startswith("bytes"):
        return rand_bytes(rng, int(t[5:]))
    raise ValueError(t)


def abi_to_json(pt, v, decoded=False):
    kind = pt[0]
    if kind == "array":
        return [abi_to_json(pt[1], x, decoded) for x in v]
    if kind == "tuple":
        return [abi_to_json(c, x, decoded) for c, x in zip(pt[1], v, strict=True)]
    t = pt[1]
    if t == "address":
        if decoded:
            return to_checksum_address(v)
        assert v == to_checksum_address(v)
        return v
    if t == "bool":
        return bool(v)
    if t == "string":
        return v
    if t.startswith("uint") or t.startswith("int"):
        return str(v)
    if t.startswith("bytes"):
        return hx(v)
    raise ValueError(t)


def abi_entry(types: list, values: list) -> dict:
    pts = [parse_abi_type(t) for t in types]
    encoded = eth_abi.encode(types, values)
    decoded = eth_abi.decode(types, encoded)
    assert abi_to_json(("tuple", pts), decoded, True) == abi_to_json(("tuple", pts), values)
    return {"types": types, "values": [abi_to_json(p, v) for p, v in zip(pts, values, strict=True)], "encoded": hx(encoded)}


def selector(sig: str) -> bytes:
    return keccak(text=sig)[:4]


SPEC_SIG = unhx("0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c")
SPEC_NONCE = unhx("0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480")


def twa_calldata_v_r_s() -> bytes:
    sig = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
    args = [SPEC_FROM, SPEC_TO, 10000, 1740672089, 1740672154, SPEC_NONCE, SPEC_SIG[64], SPEC_SIG[:32], SPEC_SIG[32:64]]
    return selector(sig) + eth_abi.encode(["address", "address", "uint256", "uint256", "uint256", "bytes32", "uint8", "bytes32", "bytes32"], args)


def gen_abi():
    rng = random.Random(40205)
    out = []
    # every integer width
    for b in range(8, 257, 8):
        out.append(abi_entry([f"uint{b}"] * 4, [0, 1, 2**b - 1, rng.getrandbits(b)]))
    for b in range(8, 257, 8):
        out.append(abi_entry([f"int{b}"] * 5, [-(2 ** (b - 1)), 2 ** (b - 1) - 1, -1, 0, rand_int(rng, b)]))
    # every bytesN
    for n in range(1, 33):
        out.append(abi_entry([f"bytes{n}", f"bytes{n}"], [rand_bytes(rng, n), b"\xff" * n]))
    # simple scalars
    out.append(abi_entry(["address"], ["0x" + "00" * 20]))
    out.append(abi_entry(["address", "address", "address"], [SPEC_FROM, PERMIT2, to_checksum_address("0x" + "ff" * 20)]))
    out.append(abi_entry(["bool"], [True]))
    out.append(abi_entry(["bool", "bool"], [False, True]))
    out.append(abi_entry([], []))
    # bytes / string of all interesting lengths
    for n in (0, 1, 31, 32, 33, 63, 64, 65, 100, 256):
        out.append(abi_entry(["bytes"], [rand_bytes(rng, n)]))
    for s in STRINGS:
        out.append(abi_entry(["string"], [s]))
    out.append(abi_entry(["string", "uint256", "bytes", "address"], ["mixed head/tail", 42, b"\x01\x02\x03", SPEC_TO]))
    # arrays
    out.append(abi_entry(["uint256[]"], [[]]))
    out.append(abi_entry(["uint256[]"], [[1, 2, 3]]))
    out.append(abi_entry(["address[]"], [[rand_address(rng) for _ in range(3)]]))
    out.append(abi_entry(["bytes32[]"], [[rand_bytes(rng, 32) for _ in range(2)]]))
    out.append(abi_entry(["bool[]"], [[True, False, True]]))
    out.append(abi_entry(["string[]"], [["", "a", "日本語", "exactly thirty-two bytes long!!!"]]))
    out.append(abi_entry(["bytes[]"], [[b"", b"\x00", rand_bytes(rng, 33)]]))
    out.append(abi_entry(["int8[]"], [[-128, -1, 0, 127]]))
    out.append(abi_entry(["uint256[3]"], [[1, 2, UINT256_MAX]]))
    out.append(abi_entry(["address[2]"], [[SPEC_FROM, SPEC_TO]]))
    out.append(abi_entry(["string[2]"], [["dynamic", "in fixed array"]]))
    out.append(abi_entry(["bytes[1]"], [[b"\xde\xad\xbe\xef"]]))
    out.append(abi_entry(["uint256[][]"], [[[1], [], [2, 3]]]))
    out.append(abi_entry(["uint8[2][3]"], [[[1, 2], [3, 4], [5, 6]]]))
    out.append(abi_entry(["uint256[2][]"], [[[1, 2], [3, 4]]]))
    out.append(abi_entry(["string[][2]"], [[["a", "b"], []]]))
    out.append(abi_entry(["uint256[]", "uint256[]"], [[], [7]]))
    # tuples
    out.append(abi_entry(["(address,uint256)"], [(SPEC_TO, 10000)]))
    out.append(abi_entry(["(uint256,string)"], [(1, "tuple with dynamic member")]))
    out.append(abi_entry(["(bytes,bool,(string,uint8))"], [(b"\x12\x34", True, ("nested", 255))]))
    out.append(abi_entry(["(address,uint256)[]"], [[(rand_address(rng), 1), (rand_address(rng), 2)]]))
    out.append(abi_entry(["(string,bytes)[]"], [[("a", b""), ("", b"\x01")]]))
    out.append(abi_entry(["(uint256,uint256)[2]"], [[(1, 2), (3, 4)]]))
    out.append(abi_entry(["(string,uint256)[2]"], [[("x", 1), ("y", 2)]]))
    out.append(abi_entry(["(uint256[],address)"], [([5, 6], SPEC_FROM)]))
    out.append(abi_entry(["(bool)"], [(False,)]))

    # ---- exact x402 shapes ----
    # transferWithAuthorization v,r,s overload (spec example)
    out.append(
        abi_entry(
            ["address", "address", "uint256", "uint256", "uint256", "bytes32", "uint8", "bytes32", "bytes32"],
            [SPEC_FROM, SPEC_TO, 10000, 1740672089, 1740672154, SPEC_NONCE, SPEC_SIG[64], SPEC_SIG[:32], SPEC_SIG[32:64]],
        )
    )
    # bytes-signature overload (65-byte and longer smart-wallet signature)
    out.append(
        abi_entry(
            ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"],
            [SPEC_FROM, SPEC_TO, 10000, 1740672089, 1740672154, SPEC_NONCE, SPEC_SIG],
        )
    )
    inner = rand_bytes(rng, 65)
    wrapped = eth_abi.encode(["address", "bytes", "bytes"], [rand_address(rng), rand_bytes(rng, 68), inner]) + ERC6492_MAGIC
    out.append(
        abi_entry(
            ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"],
            [rand_address(rng), rand_address(rng), 1, 0, UINT256_MAX, rand_bytes(rng, 32), wrapped],
        )
    )
    for _ in range(3):
        out.append(
            abi_entry(
                ["address", "address", "uint256", "uint256", "uint256", "bytes32", "uint8", "bytes32", "bytes32"],
                [rand_address(rng), rand_address(rng), realistic_amount(rng), rand_uint(rng), rand_uint(rng), rand_bytes(rng, 32), rng.choice([27, 28]), rand_bytes(rng, 32), rand_bytes(rng, 32)],
            )
        )
    # ERC-6492 wrapper body
    out.append(abi_entry(["address", "bytes", "bytes"], [rand_address(rng), rand_bytes(rng, 100), inner]))
    out.append(abi_entry(["address", "bytes", "bytes"], ["0x" + "00" * 20, b"", SPEC_SIG]))
    # Multicall3 tryAggregate args (the diagnostic batch from scheme-exact-evm.md §2.3)
    token = USDC_BASE_SEPOLIA
    calls = [
        (token, selector("balanceOf(address)") + eth_abi.encode(["address"], [SPEC_FROM])),
        (token, selector("name()")),
        (token, selector("version()")),
        (token, selector("authorizationState(address,bytes32)") + eth_abi.encode(["address", "bytes32"], [SPEC_FROM, SPEC_NONCE])),
    ]
    out.append(abi_entry(["bool", "(address,bytes)[]"], [False, calls]))
    out.append(abi_entry(["bool", "(address,bytes)[]"], [True, []]))
    out.append(abi_entry(["bool", "(address,bytes)[]"], [False, [(rand_address(rng), rand_bytes(rng, 100)), (token, twa_calldata_v_r_s())]]))
    # and its return value
    results = [
        (True, eth_abi.encode(["uint256"], [123456789])),
        (True, eth_abi.encode(["string"], ["USDC"])),
        (True, eth_abi.encode(["string"], ["2"])),
        (True, eth_abi.encode(["bool"], [False])),
    ]
    out.append(abi_entry(["(bool,bytes)[]"], [results]))
    out.append(abi_entry(["(bool,bytes)[]"], [[(False, selector("Error(string)") + eth_abi.encode(["string"], ["FiatTokenV2: invalid signature"])), (True, b"")]]))
    out.append(abi_entry(["(bool,bytes)[]"], [[]]))
    # Permit2 proxy settle(permit, owner, witness, signature)
    settle_types = ["((address,uint256),uint256,uint256)", "address", "(address,uint256)", "bytes"]
    out.append(
        abi_entry(
            settle_types,
            [((USDC_BASE_SEPOLIA, 10000), 33247007178036348590600198031289925668252061821958005840077069883511451257277, 1740672154), SPEC_FROM, (SPEC_TO, 1740672089), SPEC_SIG],
        )
    )
    for _ in range(3):
        out.append(
            abi_entry(
                settle_types,
                [((rand_address(rng), realistic_amount(rng)), rand_uint(rng), rand_uint(rng)), rand_address(rng), (rand_address(rng), rand_uint(rng)), rand_bytes(rng, rng.choice([65, 65, 200]))],
            )
        )
    # settleWithPermit
    out.append(
        abi_entry(
            ["(uint256,uint256,bytes32,bytes32,uint8)", "((address,uint256),uint256,uint256)", "address", "(address,uint256)", "bytes"],
            [(10000, 1740672154, rand_bytes(rng, 32), rand_bytes(rng, 32), 27), ((USDC_BASE, 10000), rng.getrandbits(256), 1740672154), SPEC_FROM, (SPEC_TO, 1740672089), rand_bytes(rng, 65)],
        )
    )
    # upto proxy settle
    out.append(
        abi_entry(
            ["((address,uint256),uint256,uint256)", "uint256", "address", "(address,address,uint256)", "bytes"],
            [((USDC_BASE, 10**6), rng.getrandbits(256), 1740672154), 5000, SPEC_FROM, (SPEC_TO, rand_address(rng), 1740672089), rand_bytes(rng, 65)],
        )
    )
    # random compositions
    base = ["uint8", "uint32", "uint64", "uint128", "uint256", "int16", "int64", "int256", "address", "bool", "bytes1", "bytes4", "bytes20", "bytes32", "bytes", "string"]

    def rand_type(depth: int) -> str:
        r = rng.random()
        if depth >= 3 or r < 0.5:
            return rng.choice(base)
        if r < 0.75:
            inner_t = rand_type(depth + 1)
            return inner_t + (f"[{rng.randint(1, 3)}]" if rng.random() < 0.4 else "[]")
        return "(" + ",".join(rand_type(depth + 1) for _ in range(rng.randint(1, 4))) + ")"

    for _ in range(60):
        types = [rand_type(0) for _ in range(rng.randint(1, 5))]
        values = [abi_rand_value(rng, parse_abi_type(t)) for t in types]
        out.append(abi_entry(types, values))
    write_json("abi.json", out)


SELECTORS = [
    ("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", "0xe3ee160e"),
    ("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", "0xcf092995"),
    ("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", None),
    ("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)", None),
    ("authorizationState(address,bytes32)", "0xe94a0102"),
    ("balanceOf(address)", "0x70a08231"),
    ("approve(address,uint256)", "0x095ea7b3"),
    ("allowance(address,address)", "0xdd62ed3e"),
    ("transfer(address,uint256)", "0xa9059cbb"),
    ("transferFrom(address,address,uint256)", "0x23b872dd"),
    ("name()", "0x06fdde03"),
    ("symbol()", "0x95d89b41"),
    ("decimals()", "0x313ce567"),
    ("totalSupply()", "0x18160ddd"),
    ("version()", "0x54fd4d50"),
    ("nonces(address)", "0x7ecebe00"),
    ("DOMAIN_SEPARATOR()", "0x3644e515"),
    ("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", "0xd505accf"),
    ("settle(((address,uint256),uint256,uint256),address,(address,uint256),bytes)", "0x13cd3b53"),
    ("settleWithPermit((uint256,uint256,bytes32,bytes32,uint8),((address,uint256),uint256,uint256),address,(address,uint256),bytes)", "0xfa340378"),
    ("settle(((address,uint256),uint256,uint256),uint256,address,(address,address,uint256),bytes)", "0xff11e7b4"),
    ("settleWithPermit((uint256,uint256,bytes32,bytes32,uint8),((address,uint256),uint256,uint256),uint256,address,(address,address,uint256),bytes)", "0x016c1748"),
    ("PERMIT2()", "0x6afdd850"),
    ("isValidSignature(bytes32,bytes)", "0x1626ba7e"),
    ("tryAggregate(bool,(address,bytes)[])", "0xbce38bd7"),
    ("aggregate3((address,bool,bytes)[])", "0x82ad56cb"),
    ("getEthBalance(address)", "0x4d2301cc"),
    ("Error(string)", "0x08c379a0"),
    ("Panic(uint256)", "0x4e487b71"),
    ("AuthorizationExpired()", None),
    ("ERC20InsufficientBalance(address,uint256,uint256)", "0xe450d38c"),
]


def gen_selectors():
    out = []
    for sig, expected in SELECTORS:
        sel = hx(selector(sig))
        assert sel == hx(k256(sig.encode())[:4])
        if expected is not None:
            assert sel == expected, (sig, sel)
        out.append({"signature": sig, "selector": sel})
    write_json("selectors.json", out)


def gen_reverts():
    rng = random.Random(40206)
    out = []
    err_sel = selector("Error(string)")
    panic_sel = selector("Panic(uint256)")
    for msg in [
        "FiatTokenV2: invalid signature",
        "ERC20: transfer amount exceeds balance",
        "FiatTokenV2: authorization is expired",
        "FiatTokenV2: authorization is not yet valid",
        "FiatTokenV2: authorization is used or canceled",
        "FiatTokenV2: invalid signature length",
        "EIP2612: invalid signature",
        "",
        "exactly thirty-two bytes long!!!",
        "支払いに失敗しました 💸",
        "A much longer revert reason that spans several 32-byte words of ABI encoded string data to exercise the length handling.",
    ]:
        data = err_sel + eth_abi.encode(["string"], [msg])
        out.append({"data": hx(data), "kind": "error", "message": msg, "code": None, "selector": hx(err_sel)})
    for code in (0x00, 0x01, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32, 0x41, 0x51):
        data = panic_sel + eth_abi.encode(["uint256"], [code])
        out.append({"data": hx(data), "kind": "panic", "message": None, "code": str(code), "selector": hx(panic_sel)})
    customs = [
        ("AuthorizationExpired()", [], []),
        ("AuthorizationNotYetValid()", [], []),
        ("AuthorizationAlreadyUsed()", [], []),
        ("InvalidSignature()", [], []),
        ("InvalidAmount()", [], []),
        ("PaymentTooEarly()", [], []),
        ("Permit2612AmountMismatch()", [], []),
        ("InvalidNonce()", [], []),
        ("SignatureExpired(uint256)", ["uint256"], [1740672154]),
        ("ERC20InsufficientBalance(address,uint256,uint256)", ["address", "uint256", "uint256"], [SPEC_FROM, 5000, 10000]),
        ("ERC20InsufficientAllowance(address,uint256,uint256)", ["address", "uint256", "uint256"], [PERMIT2, 0, UINT256_MAX]),
        ("InvalidSignatureS()", [], []),
    ]
    for sig, types, values in customs:
        sel = selector(sig)
        data = sel + (eth_abi.encode(types, values) if types else b"")
        out.append({"data": hx(data), "kind": "custom", "message": sig, "code": None, "selector": hx(sel)})
    out.append({"data": "0x", "kind": "empty", "message": None, "code": None, "selector": None})
    # sanity: decode our own Error/Panic data back
    for e in out:
        d = unhx(e["data"])
        if e["kind"] == "error":
            assert eth_abi.decode(["string"], d[4:])[0] == e["message"]
        if e["kind"] == "panic":
            assert str(eth_abi.decode(["uint256"], d[4:])[0]) == e["code"]
    del rng
    write_json("reverts.json", out)


# ---------------------------------------------------------------------------
# 6. rlp.json
# ---------------------------------------------------------------------------


def my_rlp(item) -> bytes:
    def length_prefix(n: int, short: int) -> bytes:
        if n < 56:
            return bytes([short + n])
        ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([short + 55 + len(ln)]) + ln

    if isinstance(item, (bytes, bytearray)):
        if len(item) == 1 and item[0] < 0x80:
            return bytes(item)
        return length_prefix(len(item), 0x80) + bytes(item)
    payload = b"".join(my_rlp(x) for x in item)
    return length_prefix(len(payload), 0xC0) + payload


def int_bytes(n: int) -> bytes:
    return b"" if n == 0 else n.to_bytes((n.bit_length() + 7) // 8, "big")


def rlp_to_json(item):
    if isinstance(item, (bytes, bytearray)):
        return hx(item)
    return [rlp_to_json(x) for x in item]


def gen_rlp():
    rng = random.Random(40207)
    items: list = [
        b"",
        b"\x00",
        b"\x01",
        b"\x7f",
        b"\x80",
        b"\x81",
        b"\xff",
        b"dog",
        b"cat",
        b"Lorem ipsum dolor sit amet, consectetur adipisicing elit",  # 56 bytes
        [],
        [b"cat", b"dog"],
        [[], [[]], [[], [[]]]],  # set-theoretical representation of three
        [b""],
        [b"\x00"],
        [[[[[]]]]],
        [b"zw", [b"\x04"], b"\x01"],
    ]
    for n in (2, 54, 55, 56, 57, 255, 256, 1024, 65536):
        items.append(rand_bytes(rng, n))
    # integers as minimal big-endian byte strings
    for v in (0, 1, 15, 127, 128, 255, 256, 1024, 0xFFFFFF, 2**32, 2**64 - 1, 2**64, 2**255, UINT256_MAX):
        items.append(int_bytes(v))
    # lists whose payload is exactly 55 / 56 bytes (and neighbours)
    for payload in (54, 55, 56, 57, 255, 256):
        # k items of 1-byte-prefixed strings: each item of len L<56 costs L+1
        lst, remaining = [], payload
        while remaining > 0:
            take = min(remaining, 40)
            if take == 1:
                lst.append(b"\x01")  # single byte < 0x80 encodes to itself
            else:
                lst.append(rand_bytes(rng, take - 1))
            remaining -= take
        assert len(my_rlp(lst)) - (1 if payload < 56 else 1 + len(int_bytes(payload))) == payload
        items.append(lst)
    # a list with a long string inside, a list of a big list
    items.append([rand_bytes(rng, 300), b"\x05"])
    items.append([[rand_bytes(rng, 20) for _ in range(20)]])

    # random nested structures
    def rand_item(depth: int):
        if depth > 3 or rng.random() < 0.55:
            r = rng.random()
            if r < 0.2:
                return bytes([rng.randrange(0x80)])
            if r < 0.3:
                return b""
            return rand_bytes(rng, rng.choice([1, 2, 20, 32, 55, 56, 60]))
        return [rand_item(depth + 1) for _ in range(rng.randint(0, 5))]

    for _ in range(25):
        items.append(rand_item(0))

    out = []
    for it in items:
        enc = rlp.encode(it)
        assert enc == my_rlp(it)
        dec = rlp.decode(enc)
        assert rlp_to_json(dec) == rlp_to_json(it)
        out.append({"input": rlp_to_json(it), "encoded": hx(enc)})
    assert out[9]["encoded"].startswith("0xb838")
    assert out[11]["encoded"] == "0xc88363617483646f67"
    write_json("rlp.json", out)


# ---------------------------------------------------------------------------
# 7. transactions.json
# ---------------------------------------------------------------------------


def tx_data(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.3:
        return b""
    if r < 0.45:
        return twa_calldata_v_r_s()
    if r < 0.55:
        return selector("transfer(address,uint256)") + eth_abi.encode(["address", "uint256"], [rand_address(rng), realistic_amount(rng)])
    if r < 0.62:
        return selector("approve(address,uint256)") + eth_abi.encode(["address", "uint256"], [PERMIT2, UINT256_MAX])
    if r < 0.7:
        return selector("settle(((address,uint256),uint256,uint256),address,(address,uint256),bytes)") + eth_abi.encode(
            ["((address,uint256),uint256,uint256)", "address", "(address,uint256)", "bytes"],
            [((USDC_BASE, 10000), rng.getrandbits(256), 1740672154), rand_address(rng), (SPEC_TO, 1740672089), rand_bytes(rng, 65)],
        )
    return rand_bytes(rng, rng.choice([1, 4, 36, 100, 500]))


def tx_common(rng: random.Random, i: int):
    chain = rng.choice([1, 1, 8453, 8453, 84532, 84532, 137, 43114, 10, 42161, 324705682, 2**32 - 1, 2**53 - 1])
    nr = rng.random()
    nonce = 0 if nr < 0.25 else rng.randrange(1, 1000) if nr < 0.8 else 2**64 - 2 if nr < 0.9 else rng.randrange(2**64 - 1)
    gas = rng.choice([21000, 65000, 100000, 300000, 30_000_000, 2**64 - 1, rng.randrange(21000, 10**7)])
    to = None if rng.random() < 0.1 else rand_address(rng)
    vr = rng.random()
    value = 0 if vr < 0.45 else 1 if vr < 0.5 else 10**18 if vr < 0.6 else UINT256_MAX if vr < 0.65 else rng.randrange(10 ** rng.randint(1, 25))
    data = tx_data(rng)
    if to is None and not data:
        data = bytes.fromhex("6080604052348015600f57600080fd5b50")  # init code prefix
    return chain, nonce, gas, to, value, data


def gwei_price(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.1:
        return 0
    if r < 0.15:
        return UINT256_MAX
    if r < 0.2:
        return 1
    return rng.randrange(10**6, 500 * 10**9)


def gen_transactions():
    rng = random.Random(40208)
    out = []
    hardhat0 = 0xAC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80
    native = NativeECCBackend()

    def finish(kind: str, k: int, tx_json: dict, txd: dict, unsigned_fields: list):
        acct = Account.from_key(k.to_bytes(32, "big"))
        signed = acct.sign_transaction(txd)
        raw = bytes(signed.raw_transaction)
        if kind == "legacy":
            chain = tx_json["chainId"]
            signing_hash = k256(rlp.encode(unsigned_fields + [int_bytes(chain), b"", b""]))
            dec = rlp.decode(raw)
            assert len(dec) == 9 and [bytes(x) for x in dec[:6]] == unsigned_fields
            v = int.from_bytes(dec[6], "big")
            assert v in (chain * 2 + 35, chain * 2 + 36)
            y = v - chain * 2 - 35
        else:
            signing_hash = k256(b"\x02" + rlp.encode(unsigned_fields))
            assert raw[0] == 2
            dec = rlp.decode(raw[1:])
            assert len(dec) == 12
            assert rlp_to_json(dec[:9]) == rlp_to_json(unsigned_fields)
            y = int.from_bytes(dec[9], "big")
            assert y in (0, 1)
        r, s = int.from_bytes(dec[-2], "big"), int.from_bytes(dec[-1], "big")
        assert s <= SECP256K1_N // 2
        rec = Signature(vrs=(y, r, s), backend=native).recover_public_key_from_msg_hash(signing_hash)
        assert rec.to_checksum_address() == acct.address
        tx_hash = k256(raw)
        assert tx_hash == bytes(signed.hash)
        assert Account.recover_transaction(raw) == acct.address
        out.append({"type": kind, "privateKey": key_hex(k), "tx": tx_json, "signingHash": hx(signing_hash), "raw": hx(raw), "hash": hx(tx_hash), "from": acct.address})

    # ---- legacy (EIP-155) ----
    fixed_legacy = [
        # (chain, nonce, gasPrice, gas, to, value, data)
        (1, 9, 20 * 10**9, 21000, "0x3535353535353535353535353535353535353535", 10**18, b""),  # the EIP-155 example
        (8453, 0, 10**6, 100000, USDC_BASE, 0, None),
        (84532, 7, 1_500_000_000, 120000, USDC_BASE_SEPOLIA, 0, None),
        (324705682, 0, 0, 21000, SPEC_TO, 0, b""),
        (1, 2**64 - 2, UINT256_MAX, 2**64 - 1, SPEC_TO, UINT256_MAX, b"\x00"),
        (1, 0, 0, 53000, None, 0, bytes.fromhex("6080604052348015600f57600080fd5b50603f80601d6000396000f3fe")),
    ]
    keys_cycle = [hardhat0, 1, SECP256K1_N - 1]
    for i in range(56):
        k = keys_cycle[i] if i < len(keys_cycle) else rand_privkey(rng)
        if i == 0:
            k = int("46" * 32, 16)  # EIP-155 example key
        if i < len(fixed_legacy):
            chain, nonce, gp, gas, to, value, data = fixed_legacy[i]
            if data is None:
                data = twa_calldata_v_r_s()
        else:
            chain, nonce, gas, to, value, data = tx_common(rng, i)
            gp = gwei_price(rng)
        tx_json = {"chainId": chain, "nonce": str(nonce), "gasPrice": str(gp), "gas": str(gas), "to": to, "value": str(value), "data": hx(data)}
        txd = {"chainId": chain, "nonce": nonce, "gasPrice": gp, "gas": gas, "to": to, "value": value, "data": data}
        fields = [int_bytes(nonce), int_bytes(gp), int_bytes(gas), unhx(to) if to else b"", int_bytes(value), data]
        finish("legacy", k, tx_json, txd, fields)
        if i == 0:  # published in EIP-155
            assert out[-1]["signingHash"] == "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"
            assert out[-1]["raw"] == (
                "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a0"
                "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b"
                "3800ccf555c9f3dc64214b297fb1966a3b6d83"
            )

    # ---- EIP-1559 (type 2) ----
    fixed_1559 = [
        (8453, 0, 10**6, 10**8, 100000, USDC_BASE, 0, None, []),
        (84532, 3, 0, 10**9, 120000, USDC_BASE_SEPOLIA, 0, None, []),
        (1, 0, 0, 0, 21000, SPEC_TO, 0, b"", []),
        (324705682, 1, 1, 2, 21000, SPEC_TO, 10**18, b"", []),
        (1, 2**64 - 2, UINT256_MAX, UINT256_MAX, 2**64 - 1, SPEC_TO, UINT256_MAX, b"\x00", [{"address": USDC_BASE, "storageKeys": ["0x" + "00" * 32, "0x" + "ff" * 32]}]),
        (8453, 5, 10**6, 10**8, 200000, None, 0, bytes.fromhex("6080604052348015600f57600080fd5b50603f80601d6000396000f3fe"), []),
        (8453, 9, 10**6, 10**8, 200000, USDC_BASE, 0, None, [{"address": USDC_BASE, "storageKeys": []}]),
    ]
    for i in range(56):
        k = keys_cycle[i] if i < len(keys_cycle) else rand_privkey(rng)
        if i < len(fixed_1559):
            chain, nonce, tip, maxfee, gas, to, value, data, al = fixed_1559[i]
            if data is None:
                data = twa_calldata_v_r_s()
        else:
            chain, nonce, gas, to, value, data = tx_common(rng, i)
            tip = gwei_price(rng)
            maxfee = gwei_price(rng)
            al = []
            if rng.random() < 0.25:
                al = [
                    {"address": rand_address(rng), "storageKeys": [hx(rand_bytes(rng, 32)) for _ in range(rng.randint(0, 3))]}
                    for _ in range(rng.randint(1, 3))
                ]
        tx_json = {
            "chainId": chain,
            "nonce": str(nonce),
            "maxPriorityFeePerGas": str(tip),
            "maxFeePerGas": str(maxfee),
            "gas": str(gas),
            "to": to,
            "value": str(value),
            "data": hx(data),
            "accessList": al,
        }
        txd = {
            "type": 2,
            "chainId": chain,
            "nonce": nonce,
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": maxfee,
            "gas": gas,
            "to": to,
            "value": value,
            "data": data,
            "accessList": [{"address": a["address"], "storageKeys": list(a["storageKeys"])} for a in al],
        }
        fields = [
            int_bytes(chain),
            int_bytes(nonce),
            int_bytes(tip),
            int_bytes(maxfee),
            int_bytes(gas),
            unhx(to) if to else b"",
            int_bytes(value),
            data,
            [[unhx(a["address"]), [unhx(s) for s in a["storageKeys"]]] for a in al],
        ]
        finish("eip1559", k, tx_json, txd, fields)

    write_json("transactions.json", out)


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------

PINNED = ["eth-account", "eth-abi", "eth-keys", "eth-utils", "eth-hash", "rlp", "pycryptodome", "coincurve", "eth-rlp", "eth-typing", "hexbytes"]


def write_readme():
    versions = "\n".join(f"| {p} | {importlib.metadata.version(p)} |" for p in PINNED)
    text = f"""# X402EVM cross-check fixtures

Generated by `generate.py` from independent Python tools (eth-account, eth-abi,
eth-keys, eth-utils / eth-hash, rlp). The Swift EVM toolkit must reproduce
these byte for byte. Do not edit the JSON by hand: change `generate.py` and
regenerate.

## Regenerate

From the repository root:

```sh
python3 -m venv .venv-vectors \\
  && .venv-vectors/bin/pip install -r Tests/X402EVMTests/Fixtures/requirements.txt \\
  && .venv-vectors/bin/python Tests/X402EVMTests/Fixtures/generate.py
```

The script is deterministic (fixed `random.Random` seeds, one per file): running
it twice yields identical files. It also asserts many independent cross-checks
(own EIP-712 / RLP / EIP-55 implementations, signature recovery with the pure
Python eth-keys backend, signing hashes recomputed from the RLP fields, and the
derived constants of `shared/spec/test-vectors.md`).

## Library versions that produced these files

| package | version |
| --- | --- |
{versions}

Python {sys.version.split()[0]}.

## Files

| file | content |
| --- | --- |
| `keccak.json` | `[{{input, hash}}]` keccak-256 of every length 0..300, rate boundaries, multi-block inputs, UTF-8 strings, EIP-712 type strings |
| `eip55.json` | `[{{lower, checksummed}}]` EIP-55 checksums (EIP examples, x402 constants, edge cases, random) |
| `keys.json` | `[{{privateKey, publicKey, address}}]` secp256k1 keys (`publicKey` = `0x04‖X‖Y`) |
| `eip712.json` | `[{{kind, privateKey, typedData, domainSeparator, structHash, digest, signature, signer}}]` |
| `abi.json` | `[{{types, values, encoded}}]` for `eth_abi.encode(types, values)` |
| `selectors.json` | `[{{signature, selector}}]` |
| `reverts.json` | `[{{data, kind, message, code, selector}}]` |
| `rlp.json` | `[{{input, encoded}}]` |
| `transactions.json` | `[{{type, privateKey, tx, signingHash, raw, hash, from}}]` legacy EIP-155 and EIP-1559 |

## Conventions

* Hex is lower-case and `0x`-prefixed; addresses are EIP-55 checksummed
  wherever they are values (typed data, ABI values, tx `to`, signer/from).
  `eip55.json`'s `lower` column is the only lower-case address form.
* Integers are decimal strings (ABI values, typed-data `message` uints/ints,
  tx numeric fields), except `typedData.domain.chainId` and `tx.chainId`,
  which are JSON numbers (all below 2^53).
* `eip712.json`
  * `typedData` is a complete `eth_signTypedData_v4` object. `types.EIP712Domain`
    lists the domain fields present, always in canonical order
    (name, version, chainId, verifyingContract, salt); some domains have only
    some fields (Permit2: no version; some with `salt`; one per single-field
    domain).
  * `signature` is 65 bytes `r‖s‖v`, `v ∈ {{27, 28}}`, low `s`.
  * The first entry is the real spec signature (test-vectors.md §4) with
    `"privateKey": null` (signature copied, not generated).
  * `generic` entries include the EIP-712 `Mail` example (its published digest and
    signature are asserted), the spec's `Offer` example (test-vectors.md §6),
    nested structs, struct arrays, fixed arrays (`uint256[3]`, `Item[2]`),
    nested arrays (`uint256[][]`, `address[2][]`: encoded as
    keccak(concat(encodeData of each inner array)), as MetaMask v4 / viem /
    ethers do), every uint/int width with extremes, `bytes1`..`bytes32`,
    `bytes`/`string` (empty, unicode, embedded NUL), `bool`, and dependency
    names of mixed case (`Beta` < `Zeta` < `alpha`: dependencies are sorted by
    byte order).
* `abi.json`: uint/int → decimal string, address → checksummed, bool → JSON
  bool, `bytesN`/`bytes` → hex, string → JSON string, arrays and tuples →
  JSON arrays.
* `reverts.json`: every entry has all five keys; those that do not apply are
  `null`. `kind`: `error` (`Error(string)`, `message` = the decoded string),
  `panic` (`code` = decimal panic code, `message` null), `custom` (`message` =
  the error's signature, e.g. `ERC20InsufficientBalance(address,uint256,uint256)`,
  `selector` = its selector; arguments, if any, are ABI-encoded after it),
  `empty` (`data` = `0x`, `selector` null).
* `rlp.json`: `input` is nested JSON arrays of hex byte strings; integers
  appear as their minimal big-endian bytes (0 → `0x`). One input is 65536 bytes.
* `transactions.json`: `to` is `null` for contract creation. `signingHash` is
  keccak(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])) for
  legacy, keccak(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas,
  maxFeePerGas, gas, to, value, data, accessList])) for EIP-1559; `hash` =
  keccak(raw).
"""
    with open(os.path.join(OUT_DIR, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    gen_keccak()
    gen_eip55()
    gen_keys()
    gen_selectors()
    gen_reverts()
    gen_abi()
    gen_rlp()
    gen_eip712()
    gen_transactions()
    write_readme()


if __name__ == "__main__":
    main()
