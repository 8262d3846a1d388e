#!/usr/bin/env python3
"""Writes the fuzz seed corpora under Fuzz/Seeds/<target>/ from the committed test vectors.

Sources: Tests/X402Tests/Fixtures/header-vectors.json, Tests/X402EVMTests/Fixtures/*.json,
Tests/X402SolanaTests/Fixtures/*.json, the reference SDK's SIWE signatures of
Tests/X402EVMTests/SignInWithXEVMTests.swift, /work/shared/spec/vectors/ when present, plus
hand-written hostile inputs (the F1 number family, deep nesting, many keys, huge length prefixes,
schemas against the bazaar check's budgets). Deterministic: run it again after changing a
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

# --- v2 extensions: sign-in-with-x, offer-receipt, payment-identifier, bazaar -----------------
# Real signed samples (the fuzz target's clocks sit inside their validity windows), so mutations
# reach the signature checks with well-formed but wrong signatures; then the same objects as the
# headers, bodies, bare extension values and tokens the target tries.
def b64(value):
    return base64.b64encode(compact(value).encode()).decode()


def add_both(value):
    add("extensions", compact(value))
    add("extensions", b64(value))


RESOURCE = "https://api.example.com/premium-data"
OFFERED = {"scheme": "exact", "network": "eip155:8453", "amount": "10000", "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
           "payTo": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "maxTimeoutSeconds": 60}


def required_with(extensions):
    return {"x402Version": 2, "resource": {"url": RESOURCE}, "accepts": [OFFERED], "extensions": extensions}


def flipped(signature):
    """The same signature with one character changed: well-formed, wrong. A JWS changes the first
    character of its signature segment (its last one carries padding bits that must stay zero)."""
    if "." in signature:
        head, _, sig = signature.rpartition(".")
        return head + "." + ("B" if sig[0] != "B" else "C") + sig[1:]
    return signature[:-1] + ("2" if signature[-1] != "2" else "3")


# sign-in-with-x proofs. EVM: the two messages of Tests/X402EVMTests/SignInWithXEVMTests.swift signed
# by the reference SDK (Python x402 `format_siwe_message` + eth-account, Hardhat key #0); Solana:
# Tests/X402SolanaTests/Fixtures/siws-vectors.json.
EVM_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
siwe_base = {"domain": "api.example.com", "address": EVM_ADDRESS, "uri": RESOURCE, "version": "1", "chainId": "eip155:8453",
             "type": "eip191", "nonce": "a1b2c3d4e5f67890a1b2c3d4e5f67890", "issuedAt": "2024-01-15T10:30:00.000Z"}
proofs = [
    dict(siwe_base, statement="Sign in to access premium data", expirationTime="2024-01-15T10:35:00.000Z", resources=[RESOURCE],
         signature="0x4c261c7acf140d1a136a34d486f56f787ce8c5a25624809f0aa6382aa842b8b65dab28ceb6f8b1f92c2738e0d5e8c09a09c09b6432d1c8fd904bac587a0b35d11c"),
    dict(siwe_base,
         signature="0x5b4662aa379e739009a7090c1fedab1c9409807e846795695a50c69e45cd6d0a1193a6174ee8490b1cabace6ae0dcf33bbe99de0bb82138214ce20337e807b741c"),
]
for v in load(ROOT / "Tests/X402SolanaTests/Fixtures/siws-vectors.json")["vectors"]:
    proofs.append(dict(v["fields"], address=v["address"], type="ed25519", signature=v["signature"]))
for v in headers:
    if v["header"] == "SIGN-IN-WITH-X":
        proofs.append(json.loads(v["json"]))
for proof in list(proofs):
    add_both(proof)
    add_both(dict(proof, signature=flipped(proof["signature"])))
# An ERC-6492 wrapped signature (factory call + inner signature + magic suffix): parsed, then refused
# without a node.
add_both(dict(proofs[0], signature="0x" + (erc6492 + bytes([0x64, 0x92]) * 16).hex()))
add_both(dict(proofs[0], resources=["https://api.example.com/%d" % i for i in range(17)]))
add_both(dict(proofs[0], statement="line one\nURI: https://evil.example"))

# A sign-in challenge in a 402, for the client (both chain types offered).
challenge = {"info": {"domain": "api.example.com", "uri": RESOURCE, "version": "1", "nonce": "a1b2c3d4e5f67890a1b2c3d4e5f67890",
                      "issuedAt": "2024-01-15T10:30:00.000Z", "expirationTime": "2024-01-15T10:35:00.000Z",
                      "statement": "Sign in to access premium data", "resources": [RESOURCE]},
             "supportedChains": [{"chainId": "eip155:8453", "type": "eip191"},
                                 {"chainId": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "type": "ed25519"}]}
add_both(required_with({"sign-in-with-x": challenge}))
add("extensions", compact({"sign-in-with-x": challenge}))
for time in ["2024-01-15T10:30:00.000Z", "2024-02-29T23:59:59.123456789+23:59", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59",
             "2023-02-29T00:00:00Z"]:
    add("extensions", time)

# offer-receipt: EIP-712 (Tests/X402EVMTests/Fixtures/offer-receipt.json), JWS ES256K (same file) and
# JWS EdDSA (Tests/X402SolanaTests/Fixtures/offer-receipt-eddsa.json).
evm_or = load(ROOT / "Tests/X402EVMTests/Fixtures/offer-receipt.json")
eddsa_or = load(ROOT / "Tests/X402SolanaTests/Fixtures/offer-receipt-eddsa.json")
offers, receipts = [], []
for v in evm_or["eip712"]:
    signed = {"format": "eip712", "payload": v["payload"], "signature": v["signature"]}
    (offers if v["kind"] == "offer" else receipts).append(signed)
for v in evm_or["es256k"]["vectors"] + eddsa_or["vectors"] + [eddsa_or["wrongKey"]]:
    (offers if v["kind"] == "offer" else receipts).append({"format": "jws", "signature": v["jws"]})
    add("extensions", v["jws"])
    add("extensions", v["kid"])
for key in [evm_or["es256k"]["didKey"], evm_or["es256k"]["otherDidKey"], eddsa_or["didKey"], eddsa_or["otherDidKey"], evm_or["signer"]]:
    add("extensions", key)
for i, offer in enumerate(offers):
    offer = dict(offer, acceptIndex=0)
    add("extensions", compact(offer))
    add("extensions", compact(dict(offer, signature=flipped(offer["signature"]))))
add_both(required_with({"offer-receipt": {"info": {"offers": [dict(o, acceptIndex=0) for o in offers]}}}))
add("extensions", compact({"offer-receipt": {"info": {"offers": [dict(offers[0], acceptIndex=0)]}}}))
for receipt in receipts:
    add("extensions", compact(receipt))
    add("extensions", compact(dict(receipt, signature=flipped(receipt["signature"]))))
    settlement = {"success": True, "transaction": "0x" + "ab" * 32, "network": "eip155:8453",
                  "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66", "extensions": {"offer-receipt": {"info": {"receipt": receipt}}}}
    add_both(settlement)
    add("extensions", compact({"receipt": receipt, "status": "verified"}))  # an `x402 history --receipts --json` entry
add("extensions", compact({"offer-receipt": {"info": {"receipt": receipts[0]}}}))
add("extensions", "eyJhbGciOiJub25lIn0.eyJ2ZXJzaW9uIjoxfQ.AA")  # alg none
add("extensions", "did:key:z" + "1" * 128)

# payment-identifier: a 402 declaring it, and payments carrying an id (valid, too short, not a string).
add_both(required_with({"payment-identifier": {"info": {"required": True}, "schema": {"type": "object"}}}))
for payload in payloads:
    if payload.get("x402Version") != 2:
        continue
    for pid in ["pay_0123456789abcdef0123456789abcdef", "short", 7, None]:
        add_both(dict(payload, extensions={"payment-identifier": {"info": {"required": True, "id": pid}}}))
    break

# bazaar: a seller's enriched declaration (as BazaarDeclaration.enriched builds it), in a /settle body
# for the facilitator's catalog and alone; then schemas that test the depth and step budgets.
bazaar = {
    "info": {"input": {"type": "http", "method": "GET", "queryParams": {"city": "Paris"}},
             "output": {"type": "json", "example": {"temp": 18}}},
    "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
        "input": {"type": "object", "properties": {
            "type": {"type": "string", "const": "http"}, "method": {"type": "string", "enum": ["GET"]},
            "queryParams": {"type": "object", "properties": {"city": {"type": "string", "minLength": 1, "maxLength": 64}},
                            "required": ["city"]}},
            "required": ["type", "method"], "additionalProperties": False},
        "output": {"type": "object", "properties": {"type": {"type": "string"}, "example": {"type": "object"}},
                   "required": ["type"]}}, "required": ["input"]},
}
templated = json.loads(compact(bazaar))
templated["routeTemplate"] = "/users/:id"
templated["info"]["input"]["pathParams"] = {"id": "42"}
templated["schema"]["properties"]["input"]["properties"]["pathParams"] = {"type": "object"}
for payload in payloads:
    if payload.get("x402Version") != 2 or "accepted" not in payload:
        continue
    for ext in [bazaar, templated]:
        body = {"x402Version": 2, "paymentPayload": dict(payload, resource={"url": "https://api.example.com/weather?city=Paris"},
                                                         extensions={"bazaar": ext}),
                "paymentRequirements": payload["accepted"]}
        add("extensions", compact(body))
    break
add("extensions", compact(bazaar))
add("extensions", compact({"info": bazaar["info"], "schema": {"$ref": "http://169.254.169.254/latest/meta-data"}}))
add("extensions", compact({"info": {"l": [{"a": 0}] * 400}, "schema": {"properties": {"l": {"items": {"required": ["a"] * 800}}}}}))
add("extensions", compact({"info": {"l": [1] * 1000}, "schema": {"properties": {"l": {"items": {"enum": list(range(1000))}}}}}))
add("extensions", compact({"info": {"l": [1] * 1000}, "schema": {"properties": {"l": {"items": {"type": ["null"] * 600 + ["number"]}}}}}))
deep_schema, deep_value = {"type": "number"}, 1
for _ in range(40):
    deep_schema, deep_value = {"type": "array", "items": deep_schema}, [deep_value]
add("extensions", compact({"info": {"d": deep_value}, "schema": {"properties": {"d": deep_schema}}}))

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
