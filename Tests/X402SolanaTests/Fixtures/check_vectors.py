#!/usr/bin/env python3
"""Re-derives a sample of svm-vectors.json independently with solders (the Rust solana-sdk).

Run in a throwaway venv (see README.md beside this file):
    python3 -m venv /tmp/svm-check && /tmp/svm-check/bin/pip install solders==0.29.0
    /tmp/svm-check/bin/python Tests/X402SolanaTests/Fixtures/check_vectors.py
Exits non-zero on the first mismatch.
"""
import base64
import hashlib
import json
import pathlib
import sys

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

HERE = pathlib.Path(__file__).resolve().parent
V = json.loads((HERE / "svm-vectors.json").read_text())
failures = 0


def check(label, got, want):
    global failures
    if got != want:
        failures += 1
        print(f"MISMATCH {label}: {got!r} != {want!r}")


# Keys from seeds.
fac = Keypair.from_seed(bytes.fromhex(V["facilitator"]["seedHex"]))
check("facilitator address", str(fac.pubkey()), V["facilitator"]["address"])
check("facilitator seed label", hashlib.sha256(V["facilitator"]["seedLabel"].encode()).hexdigest(), V["facilitator"]["seedHex"])

# ATAs and PDAs.
ata_program = Pubkey.from_string(V["constants"]["associatedTokenProgram"])
for a in V["associatedTokenAccounts"]:
    seeds = [bytes(Pubkey.from_string(a[k])) for k in ("owner", "tokenProgram", "mint")]
    addr, bump = Pubkey.find_program_address(seeds, ata_program)
    check("ata " + a["owner"], (str(addr), bump), (a["ata"], a["bump"]))
for p in V["programDerivedAddressesWithSkippedBumps"]:
    addr, bump = Pubkey.find_program_address([bytes.fromhex(s) for s in p["seedsHex"]], Pubkey.from_string(p["programId"]))
    check("pda " + p["address"], (str(addr), bump), (p["address"], p["bump"]))

# On-curve.
for c in V["isOnCurve"]:
    check("isOnCurve " + c["label"], Pubkey(bytes.fromhex(c["bytesHex"])).is_on_curve(), c["isOnCurve"])

# Messages, signatures and transactions of the main vectors.
for v in V["vectors"]:
    i = v["inputs"]
    payer = Keypair.from_seed(bytes.fromhex(i["payerSeedHex"]))
    ixs = [
        Instruction(
            Pubkey.from_string(x["programId"]),
            bytes.fromhex(x["dataHex"]),
            [AccountMeta(Pubkey.from_string(m["pubkey"]), m["isSigner"], m["isWritable"]) for m in x["accounts"]],
        )
        for x in v["instructionsBeforeCompile"]
    ]
    msg = MessageV0.try_compile(Pubkey.from_string(i["feePayer"]), ixs, [], Hash.from_string(i["recentBlockhash"]))
    msg_bytes = b"\x80" + bytes(msg)
    check(v["name"] + " message", msg_bytes.hex(), v["messageBytesHex"])
    tx = VersionedTransaction(msg, [fac, payer])
    check(v["name"] + " full tx", base64.b64encode(bytes(tx)).decode(), v["fullySignedTransactionBase64"])
    check(v["name"] + " id", str(tx.signatures[0]), v["transactionId"])

print("ok" if failures == 0 else f"{failures} mismatches")
sys.exit(1 if failures else 0)
