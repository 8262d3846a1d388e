#!/usr/bin/env python3
"""Writes the fuzz seed corpora under Fuzz/Seeds/<target>/ from the committed test vectors.

Sources: Tests/X402Tests/Fixtures/header-vectors.json, Tests/X402EVMTests/Fixtures/*.json,
/work/shared/spec/vectors/ when present, plus hand-written hostile inputs (the F1 number family,
deep nesting, many keys, huge length prefixes). Deterministic: run it again after changing a
fixture and commit the result. Standard library only.
"""
import base64
import hashlib
import json
import os
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "Fuzz" / "Seeds"
CRASH_NUMBERS = ["1e9223372036854775807", "10e9223372036854775807", "0.1e-9223372036854775808",
                 "-1e-9223372036854775808", "1e10000", "1e10001", "-0.5e-10000", "1E+0000000000000000000002"]

seeds = {}


def add(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    name = name or hashlib.sha1(data).hexdigest()[:16]
    seeds.setdefault(target, {})[name] = data


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- header codec and messages ------------------------------------------------------------
headers = load(ROOT / "Tests/X402Tests/Fixtures/header-vectors.json")
payloads, requirements = [], []
for v in headers:
    add("header", v["base64"])
    add("header", v["json"])
    add("json", v["json"])
    if not v.get("validJSON", True):
        continue
    try:
        obj = json.loads(v["json"])
    except ValueError:
        continue
    if v["header"] in ("X-PAYMENT", "PAYMENT-SIGNATURE"):
        payloads.append(obj)
    if isinstance(obj, dict) and isinstance(obj.get("accepts"), list) and obj["accepts"]:
        requirements.append((obj.get("x402Version"), obj["accepts"][0]))
for literal in CRASH_NUMBERS:
    hostile = '{"x402Version":%s,"accepted":{},"payload":{}}' % literal
    add("header", base64.b64encode(hostile.encode()).decode())
    add("header", '{"x402Version":%s,"accepts":[]}' % literal)
add("header", "{" + ",".join('"k%d":0' % i for i in range(300)) + ',"x402Version":2}')

# --- JSON parser ---------------------------------------------------------------------------
for literal in CRASH_NUMBERS + ["-0", "0.0e-0", "123456789012345678901234567890", "1.5", "-9223372036854775808"]:
    add("json", literal)
    add("json", '{"a":[%s]}' % literal)
add("json", '["\\ud83d\\ude00","\\u00e9","e\\u0301","\\/\\b\\f\\n\\r\\t",""]')
add("json", "[" * 64 + "]" * 64)
add("json", '{"a":' * 63 + "1" + "}" * 63)
add("json", "{" + ",".join('"k%d":%d' % (i, i) for i in range(200)) + "}")
add("json", '{"\u00e9":1,"e\u0301":2}')

# --- facilitator request bodies -----------------------------------------------------------
for payload in payloads:
    for version, req in requirements:
        if version == payload.get("x402Version"):
            add("facilitator-request", compact({"x402Version": version, "paymentPayload": payload,
                                                 "paymentRequirements": req}))
            break
    add("facilitator-request", compact({"paymentPayload": payload, "paymentRequirements": {}}))
for literal in CRASH_NUMBERS:
    add("facilitator-request", '{"paymentPayload":{"x402Version":%s},"paymentRequirements":{"network":"eip155:8453"}}' % literal)
add("facilitator-request", '{"paymentPayload":{"x402Version":3},"paymentRequirements":{"network":"eip155:8453"}}')

# --- JSON-RPC answers ---------------------------------------------------------------------
zero32 = "0x" + "00" * 32
log = {"address": "0x036cbd53842c5426634e7929541ec2318f3dcf7e",
       "topics": ["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", zero32, zero32],
       "data": "0x" + "00" * 31 + "01"}
receipt = {"transactionHash": "0x" + "ab" * 32, "status": "0x1", "blockNumber": "0x10", "from": "0x" + "11" * 20,
           "to": "0x" + "22" * 20, "gasUsed": "0x5208", "effectiveGasPrice": "0x3b9aca00", "logs": [log],
           "blockHash": "0x" + "cd" * 32, "contractAddress": None}
history = {"oldestBlock": "0x1", "baseFeePerGas": ["0x1", "0x2"], "gasUsedRatio": [0.5, 1e-3],
           "reward": [["0x1"], ["0x2"]]}
for result in ["0x1", "0x0", "0x" + "f" * 64, "0x" + "f" * 65, "0x", "0xdeadbeef", "0x" + "11" * 20, zero32,
               None, receipt, history, log, 1]:
    add("jsonrpc", compact({"jsonrpc": "2.0", "id": 1, "result": result}))
add("jsonrpc", compact([{"jsonrpc": "2.0", "id": i, "result": "0x%x" % i} for i in (3, 1, 2)]))
add("jsonrpc", compact({"jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "execution reverted",
                                                               "data": "0x08c379a0" + "00" * 4}}))
add("jsonrpc", '{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x","data":"Reverted 0x4e487b71"}}')
for literal in CRASH_NUMBERS:
    add("jsonrpc", '{"jsonrpc":"2.0","id":%s,"result":"0x1"}' % literal)
    add("jsonrpc", '{"jsonrpc":"2.0","id":1,"error":{"code":%s,"message":"x"}}' % literal)

# --- RLP and raw transactions -------------------------------------------------------------
for v in load(ROOT / "Tests/X402EVMTests/Fixtures/rlp.json"):
    add("rlp", bytes.fromhex(v["encoded"][2:]))
for v in load(ROOT / "Tests/X402EVMTests/Fixtures/transactions.json")[:40]:
    add("rlp", bytes.fromhex(v["raw"][2:]))
add("rlp", bytes([0xBB, 0x7F, 0xFF, 0xFF, 0xFF]))  # 4-byte length prefix far past the input
add("rlp", bytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))
add("rlp", bytes([0xC1]) * 300)

# --- ABI, ERC-6492, reverts ---------------------------------------------------------------
for v in load(ROOT / "Tests/X402EVMTests/Fixtures/abi.json")[:150]:
    add("abi", ",".join(v["types"]).encode() + b"\n" + bytes.fromhex(v["encoded"][2:]))
for v in load(ROOT / "Tests/X402EVMTests/Fixtures/reverts.json"):
    add("abi", bytes.fromhex(v["data"][2:]))


def word(n):
    return n.to_bytes(32, "big")


def padded(b):
    return word(len(b)) + b + b"\0" * (-len(b) % 32)


calldata, inner = b"\x12\x34\x56\x78" + b"\0" * 28, b"\x11" * 65
erc6492 = word(0x1234) + word(96) + word(96 + len(padded(calldata))) + padded(calldata) + padded(inner)
add("abi", erc6492 + bytes([0x64, 0x92]) * 16)
add("abi", b"bytes[]\n" + word(32) + word(0x7FFFFFFF))  # huge array length
add("abi", b"string\n" + word(32) + word(2 ** 31 - 1))  # huge byte length
add("abi", b"uint256[1000000][1000000][1000000]\n" + word(1))
add("abi", b"(" * 40 + b"uint8" + b")" * 40 + b"\n" + word(1))

# --- EIP-712 typed data -------------------------------------------------------------------
for v in load(ROOT / "Tests/X402EVMTests/Fixtures/eip712.json")[:60]:
    add("typed-data", compact(v["typedData"]))
add("typed-data", compact({"types": {"EIP712Domain": [], "A": [{"name": "a", "type": "A[]"}]}, "primaryType": "A",
                           "domain": {}, "message": {"a": [{"a": [{"a": []}]}]}}))

# --- configuration files ------------------------------------------------------------------
add("config", compact({"upstream": "http://127.0.0.1:8080", "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
                       "network": "eip155:84532", "facilitator": "https://x402.org/facilitator", "port": 4021,
                       "routes": ["GET /api/*=$0.01", {"route": "GET /token/[id]", "price": "1234",
                                                       "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                                                       "extra": {"name": "USDC", "version": "2"}}]}))
add("config", compact({"host": "0.0.0.0", "port": 4020, "networks": [
    {"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545", "schemes": ["exact"], "signerKeyEnv": ["K"]}],
    "maxBodyBytes": 65536, "receiptTimeoutSeconds": 45, "maxFeePerGasWei": 200000000000,
    "rateLimitPerClient": {"burst": 120, "perSecond": 50}}))
for literal in CRASH_NUMBERS:
    add("config", '{"upstream":"http://a","port":%s,"routes":[]}' % literal)
    add("config", '{"port":%s,"maxBodyBytes":%s}' % (literal, literal))
add("config", "GET /api/*=$0.01")
add("config", "http://[::1]:8080/base")

# --- Solana transactions (svm-vectors.json): wire bytes, payload text, hostile lengths --------
svm = load(ROOT / "Tests/X402SolanaTests/Fixtures/svm-vectors.json")
for v in svm["vectors"]:
    add("solana", base64.b64decode(v["partiallySignedTransactionBase64"]))
    add("solana", base64.b64decode(v["fullySignedTransactionBase64"]))
    add("solana", bytes.fromhex(v["messageBytesHex"]))
for v in svm["positiveVariants"] + svm["negativeCases"]:
    text = v["paymentPayload"]["payload"]["transaction"]
    try:
        add("solana", base64.b64decode(text, validate=True))
    except Exception:
        add("solana", text)
add("solana", bytes([0xFF, 0xFF, 0x03]) + bytes(64))  # 65535 signatures declared
add("solana", bytes([0x80, 0x00]))  # non-canonical compact-u16
add("solana", bytes([0x01]) + bytes(64) + bytes([0x81, 0x01, 0x00, 0x01]))  # message version 1

# --- shared spec vectors (when present) ---------------------------------------------------
spec = pathlib.Path("/work/shared/spec/vectors")
if spec.is_dir():
    for path in sorted(spec.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        if len(text) <= 65536:
            add("json", text, "spec-" + path.stem)

if SEEDS.exists():
    shutil.rmtree(SEEDS)
for target, files in sorted(seeds.items()):
    directory = SEEDS / target
    directory.mkdir(parents=True)
    for name, data in sorted(files.items()):
        (directory / name).write_bytes(data)
    print(f"{target}: {len(files)} seeds")
