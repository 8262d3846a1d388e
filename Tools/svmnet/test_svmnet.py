"""Tests for the local Solana chain (svmnet), using solders as an independent client.

Run against a running svmnet:
    X402_SVMNET_URL=http://127.0.0.1:8899 Tools/svmnet/.venv/bin/python -m pytest -q Tools/svmnet/test_svmnet.py
Without X402_SVMNET_URL the tests start a private svmnet on a free port. The slot-advancing test
always runs on a private svmnet (it would expire every outstanding blockhash on a shared chain).

Payments are built the way the x402 clients build them: SetComputeUnitLimit(20000),
SetComputeUnitPrice(1), TransferChecked, Memo; v0 message with the facilitator as fee payer;
the client signs its slot, the facilitator co-signs.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

HERE = Path(__file__).resolve().parent
DEVNET_GENESIS = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"
NETWORK = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
DEVNET_USDC = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022 = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ATA_PROGRAM = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
COMPUTE_BUDGET = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
MEMO = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")


# ---------------------------------------------------------------- client

class Client:
    """Minimal JSON-RPC client, one keep-alive connection per thread."""

    def __init__(self, url: str):
        self.url = url
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.local = threading.local()
        self.ids = 0
        self.private = False

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.local.conn = c
        return c

    def post(self, body: bytes, headers=None) -> tuple[int, bytes]:
        for attempt in range(2):
            c = self._conn()
            try:
                c.request("POST", "/", body, headers or {"Content-Type": "application/json"})
                resp = c.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    c.close()
                    self.local.conn = None
                return resp.status, data
            except (ConnectionError, http.client.HTTPException):
                c.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def raw(self, body: bytes):
        status, data = self.post(body)
        assert status == 200, (status, data)
        return json.loads(data) if data else None

    def request(self, method: str, *params) -> dict:
        self.ids += 1
        return self.raw(json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": method,
                                    "params": list(params)}).encode())

    def __call__(self, method: str, *params):
        r = self.request(method, *params)
        assert "error" not in r, f"{method} failed: {r['error']}"
        return r["result"]

    def error(self, method: str, *params) -> dict:
        r = self.request(method, *params)
        assert "error" in r, f"{method} unexpectedly succeeded: {r.get('result')}"
        return r["error"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateSvmnet:
    """An svmnet of this test run's own on a free port (stopped by close())."""

    def __init__(self) -> None:
        port = _free_port()
        self.proc = subprocess.Popen([sys.executable, str(HERE / "svmnet.py"), "--port", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.client = Client(f"http://127.0.0.1:{port}")
        self.client.private = True
        deadline = time.time() + 60
        while True:
            try:
                if self.client("getHealth") == "ok":
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("svmnet did not start: " + self.proc.stderr.read().decode())
            time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="session")
def rpc():
    url = os.environ.get("X402_SVMNET_URL")
    if url:
        yield Client(url)
        return
    private = PrivateSvmnet()
    yield private.client
    private.close()


@pytest.fixture(scope="session")
def state(rpc):
    return rpc("svmnet_state")


# ---------------------------------------------------------------- helpers

def ata(owner: Pubkey, mint: Pubkey, program: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(owner), bytes(program), bytes(mint)], ATA_PROGRAM)[0]


def token_balance(rpc: Client, account) -> int:
    return int(rpc("getTokenAccountBalance", str(account))["value"]["amount"])


def lamports(rpc: Client, account) -> int:
    return rpc("getBalance", str(account))["value"]


def payment_tx(fee_payer: Pubkey, payer: Keypair, mint: Pubkey, program: Pubkey, dest_owner: Pubkey,
               amount: int, decimals: int, blockhash: str, memo: bytes | None = None,
               cosigner: Keypair | None = None, cu_price: int = 1) -> VersionedTransaction:
    """An x402 exact-SVM payment; partially signed unless `cosigner` (the fee payer) is given."""
    source, dest = ata(payer.pubkey(), mint, program), ata(dest_owner, mint, program)
    ixs = [
        Instruction(COMPUTE_BUDGET, bytes([2]) + struct.pack("<I", 20_000), []),
        Instruction(COMPUTE_BUDGET, bytes([3]) + struct.pack("<Q", cu_price), []),
        Instruction(program, bytes([12]) + struct.pack("<QB", amount, decimals),
                    [AccountMeta(source, False, True), AccountMeta(mint, False, False),
                     AccountMeta(dest, False, True), AccountMeta(payer.pubkey(), True, False)]),
        Instruction(MEMO, memo if memo is not None else os.urandom(16).hex().encode(), []),
    ]
    msg = MessageV0.try_compile(fee_payer, ixs, [], Hash.from_string(blockhash))
    to_sign = bytes([0x80]) + bytes(msg)
    sigs = [Signature.default(), payer.sign_message(to_sign)]
    if cosigner is not None:
        assert cosigner.pubkey() == fee_payer
        sigs[0] = cosigner.sign_message(to_sign)
    return VersionedTransaction.populate(msg, sigs)


def b64(tx: VersionedTransaction) -> str:
    return base64.b64encode(bytes(tx)).decode()


class Setup:
    """Fresh wallets for one test: a funded fee payer, a payer with tokens, a seller with an ATA."""

    def __init__(self, rpc: Client, state: dict, mint_key: str = "usdc", payer_units: int = 5_000_000):
        m = state["mints"][mint_key]
        self.mint, self.program, self.decimals = (Pubkey.from_string(m["address"]),
                                                  Pubkey.from_string(m["tokenProgram"]), m["decimals"])
        self.fee_payer, self.payer, self.seller = Keypair(), Keypair(), Keypair()
        rpc("svmnet_airdrop", str(self.fee_payer.pubkey()), 1_000_000_000)
        self.source = Pubkey.from_string(rpc("svmnet_createTokenAccount", str(self.payer.pubkey()), str(self.mint),
                                             payer_units))
        self.dest = Pubkey.from_string(rpc("svmnet_createTokenAccount", str(self.seller.pubkey()), str(self.mint), 0))
        assert self.source == ata(self.payer.pubkey(), self.mint, self.program)
        assert self.dest == ata(self.seller.pubkey(), self.mint, self.program)

    def tx(self, rpc: Client, amount: int, blockhash: str | None = None, cosign: bool = True, **kw):
        bh = blockhash or rpc("getLatestBlockhash", {"commitment": "confirmed"})["value"]["blockhash"]
        return payment_tx(self.fee_payer.pubkey(), self.payer, self.mint, self.program, self.seller.pubkey(),
                          amount, self.decimals, bh, cosigner=self.fee_payer if cosign else None, **kw)


SIM_CFG = {"sigVerify": True, "replaceRecentBlockhash": False, "commitment": "confirmed", "encoding": "base64"}


# ---------------------------------------------------------------- identity and reads

def test_identity(rpc, state):
    assert rpc("getGenesisHash") == DEVNET_GENESIS
    assert state["network"] == NETWORK == "solana:" + DEVNET_GENESIS[:32]
    assert rpc("getHealth") == "ok"
    v = rpc("getVersion")
    assert isinstance(v["solana-core"], str) and isinstance(v["feature-set"], int)
    s1 = rpc("getSlot")
    h1 = rpc("getBlockHeight")
    assert isinstance(s1, int) and isinstance(h1, int) and s1 > 0 and h1 > 0
    time.sleep(0.9)
    assert rpc("getSlot") > s1  # slots advance with time (400 ms each by default)
    epoch = rpc("getEpochInfo")
    assert epoch["absoluteSlot"] >= s1


def test_state_is_deterministic(rpc, state):
    def kp(label):
        return Keypair.from_seed(hashlib.sha256(("swift-x402 svmnet/" + label).encode()).digest())

    wallets = [state["mintAuthority"], *state["facilitators"], *state["payers"], *state["sellers"]]
    assert len(state["facilitators"]) == 2 and len(state["payers"]) >= 2 and len(state["sellers"]) >= 1
    for w in wallets:
        k = kp(w["label"])
        assert w["address"] == str(k.pubkey())
        assert Keypair.from_base58_string(w["secretKey"]).pubkey() == k.pubkey()  # Solana wallet export format
        assert bytes(w["secretKeyBytes"]) == bytes(k)
    for f in state["facilitators"]:
        assert lamports(rpc, f["address"]) > 0
    assert state["mints"]["usdc"]["address"] == DEVNET_USDC
    assert state["mints"]["usdc"]["tokenProgram"] == str(TOKEN)
    assert state["mints"]["usdcToken2022"]["address"] == str(kp("usdc-token2022-mint").pubkey())
    assert state["mints"]["usdcToken2022"]["tokenProgram"] == str(TOKEN_2022)
    for w in state["payers"] + state["sellers"]:
        for key, acct in w["tokenAccounts"].items():
            m = state["mints"][key]
            assert acct["address"] == str(ata(Pubkey.from_string(w["address"]), Pubkey.from_string(m["address"]),
                                              Pubkey.from_string(m["tokenProgram"])))
    p = state["payers"][0]["tokenAccounts"]["usdc"]
    assert rpc("getTokenAccountBalance", p["address"])["value"]["decimals"] == 6
    if os.environ.get("X402_SVMNET_STATE"):
        with open(os.environ["X402_SVMNET_STATE"]) as fh:
            assert json.load(fh) == state


@pytest.mark.parametrize("mint_key,program,program_name", [("usdc", TOKEN, "spl-token"),
                                                           ("usdcToken2022", TOKEN_2022, "spl-token-2022")])
def test_account_info_for_mints_and_token_accounts(rpc, state, mint_key, program, program_name):
    mint = state["mints"][mint_key]["address"]
    info = rpc("getAccountInfo", mint, {"encoding": "base64", "commitment": "confirmed"})
    assert set(info["context"]) >= {"slot"}
    v = info["value"]
    assert v["owner"] == str(program) and v["executable"] is False and v["space"] == 82
    data = base64.b64decode(v["data"][0])
    assert v["data"][1] == "base64" and data[44] == 6  # decimals at offset 44, as the x402 clients read it
    parsed = rpc("getAccountInfo", mint, {"encoding": "jsonParsed"})["value"]["data"]
    assert parsed["program"] == program_name and parsed["parsed"]["type"] == "mint"
    assert parsed["parsed"]["info"]["decimals"] == 6 and parsed["parsed"]["info"]["isInitialized"] is True
    assert int(parsed["parsed"]["info"]["supply"]) > 0

    acct = state["payers"][0]["tokenAccounts"][mint_key]["address"]
    pa = rpc("getAccountInfo", acct, {"encoding": "jsonParsed"})["value"]
    assert pa["owner"] == str(program) and pa["space"] == (165 if program == TOKEN else 170)
    info = pa["data"]["parsed"]["info"]
    assert pa["data"]["parsed"]["type"] == "account"
    assert info["mint"] == mint and info["owner"] == state["payers"][0]["address"]
    assert info["state"] == "initialized" and info["isNative"] is False
    assert info["tokenAmount"]["decimals"] == 6
    assert info["tokenAmount"]["amount"] == str(token_balance(rpc, acct))
    if program == TOKEN_2022:
        assert info["extensions"] == [{"extension": "immutableOwner"}]
    # base58 is limited to 128 bytes of data, as on a real node; dataSlice works
    assert rpc.error("getAccountInfo", acct, {"encoding": "base58"})["code"] == -32602
    sl = rpc("getAccountInfo", acct, {"encoding": "base64", "dataSlice": {"offset": 0, "length": 32}})["value"]
    assert base64.b64decode(sl["data"][0]) == bytes(Pubkey.from_string(mint))
    # an unknown account is null, a system account has empty data
    assert rpc("getAccountInfo", str(Keypair().pubkey()), {"encoding": "base64"})["value"] is None
    fac = rpc("getAccountInfo", state["facilitators"][0]["address"], {"encoding": "jsonParsed"})["value"]
    assert fac["owner"] == "11111111111111111111111111111111" and fac["data"] == ["", "base64"]
    many = rpc("getMultipleAccounts", [mint, str(Keypair().pubkey())], {"encoding": "base64"})["value"]
    assert many[0]["owner"] == str(program) and many[1] is None


def test_rent_and_balances(rpc, state):
    assert rpc("getMinimumBalanceForRentExemption", 165) == 2_039_280
    assert rpc("getMinimumBalanceForRentExemption", 82) == 1_461_600
    assert rpc("getMinimumBalanceForRentExemption", 0) == 890_880
    fresh = Keypair().pubkey()
    assert rpc("getBalance", str(fresh))["value"] == 0
    sig = rpc("requestAirdrop", str(fresh), 123_456_789)
    assert rpc("getBalance", str(fresh))["value"] == 123_456_789
    st = rpc("getSignatureStatuses", [sig])["value"][0]
    assert st["err"] is None and st["confirmationStatus"] in ("confirmed", "finalized")
    rpc("svmnet_airdrop", str(fresh), 123_456_789)  # the same airdrop twice is two transactions
    assert rpc("getBalance", str(fresh))["value"] == 2 * 123_456_789
    assert rpc.error("getTokenAccountBalance", str(fresh))["code"] == -32602
    t = rpc("getTokenSupply", state["mints"]["usdc"]["address"])["value"]
    assert t["decimals"] == 6 and int(t["amount"]) > 0


# ---------------------------------------------------------------- payments

@pytest.mark.parametrize("mint_key", ["usdc", "usdcToken2022"])
def test_x402_payment_lands_and_moves_exactly_the_amount(rpc, state, mint_key):
    s = Setup(rpc, state, mint_key)
    fee_before = lamports(rpc, s.fee_payer.pubkey())
    payer_sol_before = 0
    assert lamports(rpc, s.payer.pubkey()) == payer_sol_before  # the payer needs no SOL
    tx = s.tx(rpc, 1_234_567)
    sim = rpc("simulateTransaction", b64(tx), SIM_CFG)
    v = sim["value"]
    assert v["err"] is None and v["accounts"] is None and v["unitsConsumed"] > 0
    assert f"Program {s.program} success" in v["logs"]
    assert token_balance(rpc, s.source) == 5_000_000  # simulation changes nothing
    sig = rpc("sendTransaction", b64(tx), {"encoding": "base64", "skipPreflight": False,
                                           "preflightCommitment": "confirmed"})
    assert sig == str(tx.signatures[0])  # the fee payer's signature, base58
    st = rpc("getSignatureStatuses", [sig], {"searchTransactionHistory": True})
    status = st["value"][0]
    assert status["err"] is None and status["status"] == {"Ok": None}
    assert status["confirmationStatus"] in ("confirmed", "finalized") and status["slot"] <= st["context"]["slot"]
    assert token_balance(rpc, s.source) == 5_000_000 - 1_234_567
    assert token_balance(rpc, s.dest) == 1_234_567
    # fee: 2 signatures x 5000 lamports + ceil(20000 CU x 1 micro-lamport) priority fee
    assert fee_before - lamports(rpc, s.fee_payer.pubkey()) == 10_001
    assert rpc("getSignatureStatuses", [str(Signature.new_unique())])["value"] == [None]


def test_sequential_and_concurrent_payments(rpc, state):
    s = Setup(rpc, state, "usdc", payer_units=1_000)

    def pay(i):
        return Client(rpc.url)("sendTransaction", b64(s.tx(rpc, 10, memo=f"memo-{i}".encode())),
                               {"encoding": "base64"})

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        sigs = list(ex.map(pay, range(16)))
    assert len(set(sigs)) == 16
    assert all(x["err"] is None for x in rpc("getSignatureStatuses", sigs)["value"])
    assert token_balance(rpc, s.dest) == 160 and token_balance(rpc, s.source) == 840


def test_expired_blockhash_fails_and_moves_nothing(rpc, state):
    s = Setup(rpc, state)
    bh = rpc("getLatestBlockhash")["value"]["blockhash"]
    assert rpc("isBlockhashValid", bh, {"commitment": "processed"})["value"] is True
    tx = s.tx(rpc, 1000, blockhash=bh)
    out = rpc("svmnet_expireBlockhash", bh)
    assert out["expired"] == [bh] and out["latest"]["blockhash"] != bh
    assert rpc("isBlockhashValid", bh)["value"] is False
    v = rpc("simulateTransaction", b64(tx), SIM_CFG)["value"]
    assert v["err"] == "BlockhashNotFound" and v["logs"] == []
    e = rpc.error("sendTransaction", b64(tx), {"encoding": "base64"})
    assert e["code"] == -32002 and e["message"] == "Transaction simulation failed: Blockhash not found"
    assert e["data"]["err"] == "BlockhashNotFound"
    # without preflight a real node accepts it and the leader drops it: no status, nothing moves
    sig = rpc("sendTransaction", b64(tx), {"encoding": "base64", "skipPreflight": True})
    assert sig == str(tx.signatures[0])
    assert rpc("getSignatureStatuses", [sig])["value"] == [None]
    assert token_balance(rpc, s.source) == 5_000_000 and token_balance(rpc, s.dest) == 0
    # a blockhash never handed out is not valid either
    other = s.tx(rpc, 1000, blockhash=str(Hash.new_unique()))
    assert rpc("simulateTransaction", b64(other), SIM_CFG)["value"]["err"] == "BlockhashNotFound"
    # replaceRecentBlockhash simulates with the latest one (no sigVerify allowed then)
    r = rpc("simulateTransaction", b64(tx), {"replaceRecentBlockhash": True, "encoding": "base64"})
    assert r["value"]["err"] is None and r["value"]["replacementBlockhash"]["blockhash"] != bh
    e = rpc.error("simulateTransaction", b64(tx), {"replaceRecentBlockhash": True, "sigVerify": True,
                                                   "encoding": "base64"})
    assert e["code"] == -32602 and "replaceRecentBlockhash" in e["message"]


def test_blockhashes_expire_after_150_blocks(rpc):
    # Advancing slots expires every outstanding blockhash: on a shared svmnet, use a private one.
    private = None if rpc.private else PrivateSvmnet()
    try:
        _expire_by_age(private.client if private else rpc)
    finally:
        if private:
            private.close()


def _expire_by_age(rpc):
    s = Setup(rpc, rpc("svmnet_state"))
    lb = rpc("getLatestBlockhash")["value"]
    tx = s.tx(rpc, 1000, blockhash=lb["blockhash"])
    height = rpc("getBlockHeight")
    rpc("svmnet_advanceSlots", lb["lastValidBlockHeight"] - height)
    assert rpc("getBlockHeight") <= lb["lastValidBlockHeight"] + 1
    rpc("svmnet_advanceSlots", 2)
    assert rpc("getBlockHeight") > lb["lastValidBlockHeight"]
    assert rpc("simulateTransaction", b64(tx), SIM_CFG)["value"]["err"] == "BlockhashNotFound"
    assert rpc.error("sendTransaction", b64(tx), {"encoding": "base64"})["data"]["err"] == "BlockhashNotFound"


def test_duplicate_send_lands_once(rpc, state):
    s = Setup(rpc, state)
    tx = s.tx(rpc, 777)
    sig = rpc("sendTransaction", b64(tx), {"encoding": "base64"})
    e = rpc.error("sendTransaction", b64(tx), {"encoding": "base64"})
    assert e["code"] == -32002 and e["data"]["err"] == "AlreadyProcessed"
    assert e["message"] == "Transaction simulation failed: This transaction has already been processed"
    assert rpc("simulateTransaction", b64(tx), SIM_CFG)["value"]["err"] == "AlreadyProcessed"
    # without preflight the duplicate is dropped; the node answers the same signature
    assert rpc("sendTransaction", b64(tx), {"encoding": "base64", "skipPreflight": True}) == sig
    assert token_balance(rpc, s.dest) == 777 and token_balance(rpc, s.source) == 5_000_000 - 777
    # base58 (the RPC default encoding) is accepted too
    tx2 = s.tx(rpc, 1)
    from svmnet import b58encode  # noqa: PLC0415 - the server's own encoder, checked against solders below
    assert b58encode(bytes(tx2.signatures[0])) == str(tx2.signatures[0])
    assert rpc("sendTransaction", b58encode(bytes(tx2))) == str(tx2.signatures[0])
    assert token_balance(rpc, s.dest) == 778


def test_signature_checks(rpc, state):
    s = Setup(rpc, state)
    partial = s.tx(rpc, 1000, cosign=False)  # the fee payer slot is 64 zero bytes, as the client sends it
    e = rpc.error("simulateTransaction", b64(partial), SIM_CFG)
    assert e["code"] == -32003 and e["message"] == "Transaction signature verification failure"
    v = rpc("simulateTransaction", b64(partial), {**SIM_CFG, "sigVerify": False})["value"]
    assert v["err"] is None  # without sigVerify the runtime does not check signatures
    assert rpc.error("sendTransaction", b64(partial), {"encoding": "base64"})["code"] == -32003
    assert rpc.error("sendTransaction", b64(partial), {"encoding": "base64", "skipPreflight": True})["code"] == -32003
    # a tampered client signature
    full = bytearray(bytes(s.tx(rpc, 1000)))
    full[1 + 64 + 5] ^= 1
    assert rpc.error("simulateTransaction", base64.b64encode(bytes(full)).decode(), SIM_CFG)["code"] == -32003
    # a signature by the wrong key in the client's slot
    tx = s.tx(rpc, 1000)
    wrong = VersionedTransaction.populate(tx.message, [tx.signatures[0],
                                                       Keypair().sign_message(bytes([0x80]) + bytes(tx.message))])
    assert rpc.error("sendTransaction", b64(wrong), {"encoding": "base64"})["code"] == -32003
    assert token_balance(rpc, s.source) == 5_000_000


def test_failing_transfer(rpc, state):
    s = Setup(rpc, state, payer_units=100)
    tx = s.tx(rpc, 101)  # one more than the balance
    v = rpc("simulateTransaction", b64(tx), SIM_CFG)["value"]
    assert v["err"] == {"InstructionError": [2, {"Custom": 1}]}
    assert any("insufficient funds" in line for line in v["logs"])
    e = rpc.error("sendTransaction", b64(tx), {"encoding": "base64"})
    assert e["code"] == -32002
    assert e["message"] == "Transaction simulation failed: Error processing Instruction 2: custom program error: 0x1"
    assert e["data"]["err"] == {"InstructionError": [2, {"Custom": 1}]} and e["data"]["logs"]
    assert token_balance(rpc, s.source) == 100
    # without preflight it lands with an error and the fee is charged
    fee_before = lamports(rpc, s.fee_payer.pubkey())
    sig = rpc("sendTransaction", b64(tx), {"encoding": "base64", "skipPreflight": True})
    st = rpc("getSignatureStatuses", [sig])["value"][0]
    assert st["err"] == {"InstructionError": [2, {"Custom": 1}]}
    assert st["status"] == {"Err": {"InstructionError": [2, {"Custom": 1}]}}
    assert token_balance(rpc, s.source) == 100 and token_balance(rpc, s.dest) == 0
    assert lamports(rpc, s.fee_payer.pubkey()) < fee_before
    # wrong decimals in TransferChecked
    bad = payment_tx(s.fee_payer.pubkey(), s.payer, s.mint, s.program, s.seller.pubkey(), 1, 9,
                     rpc("getLatestBlockhash")["value"]["blockhash"], cosigner=s.fee_payer)
    assert rpc("simulateTransaction", b64(bad), SIM_CFG)["value"]["err"] == {"InstructionError": [2, {"Custom": 18}]}


def test_unfunded_fee_payer(rpc, state):
    s = Setup(rpc, state)
    broke = Keypair()
    tx = payment_tx(broke.pubkey(), s.payer, s.mint, s.program, s.seller.pubkey(), 1, 6,
                    rpc("getLatestBlockhash")["value"]["blockhash"], cosigner=broke)
    v = rpc("simulateTransaction", b64(tx), SIM_CFG)["value"]
    assert v["err"] == "AccountNotFound"


# ---------------------------------------------------------------- helpers of the svmnet

def test_svmnet_helpers(rpc, state):
    owner = Keypair().pubkey()
    for program, name in ((TOKEN, "spl"), (TOKEN_2022, "token2022")):
        mint = rpc("svmnet_createMint", {"decimals": 2, "tokenProgram": name})
        info = rpc("getAccountInfo", mint, {"encoding": "jsonParsed"})["value"]
        assert info["owner"] == str(program) and info["data"]["parsed"]["info"]["decimals"] == 2
        assert info["data"]["parsed"]["info"]["mintAuthority"] == state["mintAuthority"]["address"]
        acct = rpc("svmnet_createTokenAccount", str(owner), mint, 12_345)
        assert acct == str(ata(owner, Pubkey.from_string(mint), program))
        assert rpc("getTokenAccountBalance", acct)["value"] == {"amount": "12345", "decimals": 2,
                                                               "uiAmount": 123.45, "uiAmountString": "123.45"}
        assert rpc("getTokenSupply", mint)["value"]["amount"] == "12345"
        rpc("svmnet_setTokenBalance", acct, 5)
        assert token_balance(rpc, acct) == 5 and rpc("getTokenSupply", mint)["value"]["amount"] == "5"
        rpc("svmnet_setTokenBalance", {"owner": str(owner), "mint": mint, "amount": "7"})
        assert token_balance(rpc, acct) == 7
    fixed = Keypair().pubkey()
    assert rpc("svmnet_createMint", 9, "spl", None, str(fixed)) == str(fixed)
    assert rpc.error("svmnet_createMint", 9, "spl", None, str(fixed))["code"] == -32602  # exists
    assert rpc.error("svmnet_createMint", {"tokenProgram": "nope"})["code"] == -32602
    assert rpc.error("svmnet_createTokenAccount", str(owner), str(Keypair().pubkey()), 1)["code"] == -32602
    rpc("svmnet_setLamports", str(owner), 42)
    assert lamports(rpc, owner) == 42
    rpc("svmnet_setAccount", str(owner), {"lamports": 5_000_000, "data": base64.b64encode(b"hi").decode(),
                                          "owner": str(MEMO)})
    got = rpc("getAccountInfo", str(owner), {"encoding": "base64"})["value"]
    assert got["owner"] == str(MEMO) and got["data"] == ["aGk=", "base64"] and got["lamports"] == 5_000_000
    before = rpc("svmnet_stats")
    rpc("getSlot")
    rpc("getSlot")
    after = rpc("svmnet_stats")
    assert after["calls"]["getSlot"] == before["calls"].get("getSlot", 0) + 2
    assert after["calls"]["svmnet_stats"] == before["calls"]["svmnet_stats"] + 1
    assert after["total"] == before["total"] + 3


# ---------------------------------------------------------------- protocol

def test_batches_and_notifications(rpc):
    out = rpc.raw(json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
        {"jsonrpc": "2.0", "id": "two", "method": "getGenesisHash"},
        {"jsonrpc": "2.0", "method": "getHealth"},  # a notification: no answer
        {"jsonrpc": "2.0", "id": 4, "method": "noSuchMethod"},
        {"id": 5, "method": "getSlot"},  # no "jsonrpc": "2.0"
        17,
    ]).encode())
    assert [r.get("id") for r in out] == [1, "two", 4, 5, None]
    assert isinstance(out[0]["result"], int) and out[1]["result"] == DEVNET_GENESIS
    assert out[2]["error"] == {"code": -32601, "message": "Method not found"}
    assert out[3]["error"]["code"] == -32600 and out[4]["error"]["code"] == -32600
    assert rpc.raw(b"[]")["error"] == {"code": -32600, "message": "Invalid request"}
    assert rpc.post(json.dumps({"jsonrpc": "2.0", "method": "getSlot"}).encode()) == (200, b"")


def test_protocol_errors(rpc):
    assert rpc.raw(b"{not json")["error"] == {"code": -32700, "message": "Parse error"}
    assert rpc.error("noSuchMethod") == {"code": -32601, "message": "Method not found"}
    assert rpc.error("getAccountInfo", "not-a-key!")["code"] == -32602
    assert rpc.error("getAccountInfo", "1111")["message"] == "Invalid param: WrongSize"
    assert rpc.error("getBalance")["code"] == -32602
    assert rpc.error("getMinimumBalanceForRentExemption", -1)["code"] == -32602
    assert rpc.error("getSignatureStatuses", ["x"] * 257)["code"] == -32602
    r = rpc.raw(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": {"a": 1}}).encode())
    assert r["error"]["code"] == -32602
    # transactions: garbage, too large, wrong encoding, trailing bytes
    assert rpc.error("sendTransaction", "AAAA", {"encoding": "base64"})["code"] == -32602
    assert rpc.error("sendTransaction", "A" * 2000, {"encoding": "base64"})["code"] == -32602
    assert rpc.error("sendTransaction", "!!", {"encoding": "base64"})["code"] == -32602
    assert rpc.error("simulateTransaction", "AAAA", {"encoding": "hex"})["code"] == -32602
    kp = Keypair()
    msg = MessageV0.try_compile(kp.pubkey(), [], [], Hash.default())
    tx = bytes(VersionedTransaction(msg, [kp])) + b"\0"
    assert rpc.error("simulateTransaction", base64.b64encode(tx).decode(), {"encoding": "base64"})["code"] == -32602
    # bounded request bodies: 413 above 50 KiB, and the connection is closed
    status, _ = rpc.post(b"[" + b" " * (60 * 1024) + b"]")
    assert status == 413
    assert rpc("getHealth") == "ok"
    status, _ = rpc.post(b"{}", {"Content-Type": "text/plain"})
    assert status == 415


def test_send_and_simulate_throughput_smoke(rpc, state):
    """Not a timing assertion: many simulations in a row keep answering correctly."""
    s = Setup(rpc, state)
    body = b64(s.tx(rpc, 1))
    for _ in range(50):
        assert rpc("simulateTransaction", body, SIM_CFG)["value"]["err"] is None
    assert token_balance(rpc, s.dest) == 0
