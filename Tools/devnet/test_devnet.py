"""Tests for the local devnet, using independent tools (eth-account, eth-abi) as the client.

Run against a running devnet:
    X402_DEVNET_URL=http://127.0.0.1:8545 Tools/devnet/.venv/bin/python -m pytest -q Tools/devnet/test_devnet.py
Without X402_DEVNET_URL the tests start a private devnet on a free port (and
then also run the time-travel tests, which would disturb a shared devnet).
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

HERE = Path(__file__).resolve().parent
CHAIN_ID = 84532
TOKEN = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
AUTH_USED_TOPIC = "0x" + keccak(text="AuthorizationUsed(address,bytes32)").hex()
AUTH_TYPES = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]
TWA_TYPES = ["address", "address", "uint256", "uint256", "uint256", "bytes32"]

Account.enable_unaudited_hdwallet_features()


# ---------------------------------------------------------------- client

class Client:
    """Minimal JSON-RPC client, one keep-alive connection per thread."""

    def __init__(self, url: str):
        self.url = url
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.local = threading.local()
        self.ids = 0

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.local.conn = c
        return c

    def raw(self, body: bytes) -> object:
        for attempt in range(2):
            c = self._conn()
            try:
                c.request("POST", "/", body, {"Content-Type": "application/json"})
                resp = c.getresponse()
                data = resp.read()
                return json.loads(data) if data else None
            except (ConnectionError, http.client.HTTPException):
                c.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

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

    def wait_receipt(self, tx_hash: str, timeout: float = 30.0) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self("eth_getTransactionReceipt", tx_hash)
            if r is not None:
                return r
            time.sleep(0.02)
        raise AssertionError(f"no receipt for {tx_hash} after {timeout}s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def devnet():
    url = os.environ.get("X402_DEVNET_URL")
    proc = None
    if not url:
        port = _free_port()
        proc = subprocess.Popen([sys.executable, str(HERE / "devnet.py"), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        client = Client(url)
        deadline = time.time() + 60
        while True:
            try:
                if client("eth_chainId") == hex(CHAIN_ID):
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("devnet did not start: " + proc.stderr.read().decode())
            time.sleep(0.1)
    client = Client(url)
    client.private = proc is not None
    yield client
    if proc is not None:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def accounts(devnet):
    return devnet("devnet_accounts")


def role(accounts, name: str, i: int = 0) -> Account:
    keys = [a["privateKey"] for a in accounts["accounts"] if a["role"] == name]
    return Account.from_key(keys[i])


# ---------------------------------------------------------------- helpers

def sign_auth(payer: Account, to: str, value: int, valid_after=None, valid_before=None, nonce=None,
              chain_id=CHAIN_ID, token=TOKEN, name="USDC", version="2", primary="TransferWithAuthorization"):
    now = int(time.time())
    msg = {
        "from": payer.address,
        "to": to_checksum_address(to),
        "value": value,
        "validAfter": now - 600 if valid_after is None else valid_after,
        "validBefore": now + 600 if valid_before is None else valid_before,
        "nonce": nonce or os.urandom(32),
    }
    signed = Account.sign_typed_data(
        payer.key,
        domain_data={"name": name, "version": version, "chainId": chain_id, "verifyingContract": token},
        message_types={primary: AUTH_TYPES},
        message_data=msg,
    )
    return msg, signed


def twa_vrs(msg, v, r, s, selector="e3ee160e") -> str:
    args = [msg["from"], msg["to"], msg["value"], msg["validAfter"], msg["validBefore"], msg["nonce"]]
    return "0x" + selector + encode(TWA_TYPES + ["uint8", "bytes32", "bytes32"],
                                    args + [v, r.to_bytes(32, "big"), s.to_bytes(32, "big")]).hex()


def twa_bytes(msg, signature: bytes, selector="cf092995") -> str:
    args = [msg["from"], msg["to"], msg["value"], msg["validAfter"], msg["validBefore"], msg["nonce"]]
    return "0x" + selector + encode(TWA_TYPES + ["bytes"], args + [signature]).hex()


def sig_bytes(signed) -> bytes:
    return signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])


def call_data(selector_sig: str, types, args) -> str:
    return "0x" + keccak(text=selector_sig)[:4].hex() + encode(types, args).hex()


def token_call(devnet, sig: str, types, args, out_types):
    raw = devnet("eth_call", {"to": TOKEN, "data": call_data(sig, types, args)}, "latest")
    return decode(out_types, bytes.fromhex(raw[2:]))


def usdc_balance(devnet, addr: str) -> int:
    return token_call(devnet, "balanceOf(address)", ["address"], [addr], ["uint256"])[0]


_nonce_lock = threading.Lock()


def send_tx(devnet, sender: Account, to: str, data: str, nonce=None, gas=300_000, chain_id=CHAIN_ID,
            value=0, legacy=False) -> str:
    with _nonce_lock:
        if nonce is None:
            nonce = int(devnet("eth_getTransactionCount", sender.address, "pending"), 16)
        base = int(devnet("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        if to is None:  # contract creation
            to = ""
        if legacy:
            tx = {"chainId": chain_id, "nonce": nonce, "to": to, "data": data, "gas": gas,
                  "gasPrice": 2 * base + 10**6, "value": value}
        else:
            tx = {"type": 2, "chainId": chain_id, "nonce": nonce, "to": to, "data": data, "gas": gas,
                  "maxFeePerGas": 2 * base + 10**6, "maxPriorityFeePerGas": 10**6, "value": value}
        signed = sender.sign_transaction(tx)
        return devnet("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())


def expect_revert(devnet, data: str, reason: str, sender=None, to=TOKEN):
    call = {"to": to, "data": data}
    if sender:
        call["from"] = sender
    for method in ("eth_call", "eth_estimateGas"):
        params = [call, "latest"] if method == "eth_call" else [call]
        err = devnet.error(method, *params)
        assert err["code"] == 3, err
        assert err["message"] == f"execution reverted: {reason}", err
        raw = bytes.fromhex(err["data"][2:])
        assert raw[:4] == bytes.fromhex("08c379a0")
        assert decode(["string"], raw[4:])[0] == reason


# ---------------------------------------------------------------- tests

def test_accounts_match_dev_mnemonic(accounts):
    assert accounts["chainId"] == CHAIN_ID
    assert accounts["token"]["address"] == TOKEN
    assert accounts["token"]["decimals"] == 6
    first = accounts["accounts"][0]
    assert first["address"] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert first["privateKey"] == "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    assert first["role"] == "facilitator"
    for i, a in enumerate(accounts["accounts"]):
        derived = Account.from_mnemonic(accounts["mnemonic"], account_path=f"m/44'/60'/0'/0/{i}")
        assert derived.address == a["address"]
        assert derived.key.hex().removeprefix("0x") == a["privateKey"].removeprefix("0x")
    roles = [a["role"] for a in accounts["accounts"]]
    assert "payer" in roles and "payee" in roles
    minter = accounts["minter"]
    assert minter["address"] not in [a["address"] for a in accounts["accounts"]]
    assert Account.from_key(minter["privateKey"]).address == minter["address"]


def test_basic_methods(devnet, accounts):
    assert devnet("eth_chainId") == hex(CHAIN_ID)
    assert devnet("net_version") == str(CHAIN_ID)
    assert "devnet" in devnet("web3_clientVersion")
    assert int(devnet("eth_blockNumber"), 16) >= 0
    payer = role(accounts, "payer")
    assert int(devnet("eth_getBalance", payer.address, "latest"), 16) > 0
    assert len(devnet("eth_getCode", TOKEN, "latest")) > 1000
    assert len(devnet("eth_getCode", MULTICALL3, "latest")) > 100
    assert devnet("eth_getCode", payer.address, "latest") == "0x"
    # slot 0 of the token holds the minter
    slot0 = devnet("eth_getStorageAt", TOKEN, "0x0", "latest")
    assert int(slot0, 16) == int(accounts["minter"]["address"], 16)
    block = devnet("eth_getBlockByNumber", "latest", False)
    assert int(block["baseFeePerGas"], 16) > 0
    assert int(block["gasLimit"], 16) >= 300 * 100_000
    assert devnet("eth_getBlockByHash", block["hash"], False)["number"] == block["number"]
    assert int(devnet("eth_gasPrice"), 16) > 0
    assert int(devnet("eth_maxPriorityFeePerGas"), 16) > 0
    fh = devnet("eth_feeHistory", "0x4", "latest", [50])
    assert len(fh["baseFeePerGas"]) == len(fh["gasUsedRatio"]) + 1
    assert len(fh["reward"]) == len(fh["gasUsedRatio"])
    assert devnet("eth_getTransactionReceipt", "0x" + "11" * 32) is None
    assert devnet("eth_getTransactionByHash", "0x" + "11" * 32) is None


def test_token_metadata_and_domain(devnet, accounts):
    assert token_call(devnet, "name()", [], [], ["string"])[0] == "USDC"
    assert token_call(devnet, "symbol()", [], [], ["string"])[0] == "USDC"
    assert token_call(devnet, "version()", [], [], ["string"])[0] == "2"
    assert token_call(devnet, "decimals()", [], [], ["uint8"])[0] == 6
    assert token_call(devnet, "totalSupply()", [], [], ["uint256"])[0] >= int(accounts["token"]["totalSupply"])
    payer = role(accounts, "payer")
    assert usdc_balance(devnet, payer.address) > 0
    expected = keccak(encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
         keccak(text="USDC"), keccak(text="2"), CHAIN_ID, TOKEN]))
    assert token_call(devnet, "DOMAIN_SEPARATOR()", [], [], ["bytes32"])[0] == expected
    typehash = token_call(devnet, "TRANSFER_WITH_AUTHORIZATION_TYPEHASH()", [], [], ["bytes32"])[0]
    assert typehash.hex() == "7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267"


@pytest.mark.parametrize("overload", ["vrs", "bytes"])
def test_transfer_with_authorization(devnet, accounts, overload):
    fac = role(accounts, "facilitator")
    payer = role(accounts, "payer", 0)
    payee = role(accounts, "payee", 0).address
    value = 12_345
    msg, signed = sign_auth(payer, payee, value)
    data = twa_vrs(msg, signed.v, signed.r, signed.s) if overload == "vrs" else twa_bytes(msg, sig_bytes(signed))
    assert data[:10] == ("0xe3ee160e" if overload == "vrs" else "0xcf092995")

    before_payer, before_payee = usdc_balance(devnet, payer.address), usdc_balance(devnet, payee)
    assert devnet("eth_call", {"from": fac.address, "to": TOKEN, "data": data}, "latest") == "0x"
    gas = int(devnet("eth_estimateGas", {"from": fac.address, "to": TOKEN, "data": data}), 16)
    assert 40_000 < gas < 200_000

    tx_hash = send_tx(devnet, fac, TOKEN, data)
    rc = devnet.wait_receipt(tx_hash)
    assert rc["status"] == "0x1"
    assert rc["transactionHash"] == tx_hash
    assert rc["from"] == fac.address.lower()
    assert rc["to"] == TOKEN.lower()
    assert rc["contractAddress"] is None
    assert int(rc["gasUsed"], 16) > 21_000
    assert int(rc["effectiveGasPrice"], 16) > 0
    block = devnet("eth_getBlockByNumber", rc["blockNumber"], False)
    assert block["hash"] == rc["blockHash"] and tx_hash in block["transactions"]
    assert int(block["timestamp"], 16) <= time.time() + 1

    transfer = [lg for lg in rc["logs"] if lg["topics"][0] == TRANSFER_TOPIC]
    assert len(transfer) == 1
    lg = transfer[0]
    assert lg["address"] == TOKEN.lower()
    assert lg["topics"][1] == "0x" + "00" * 12 + payer.address[2:].lower()
    assert lg["topics"][2] == "0x" + "00" * 12 + payee[2:].lower()
    assert int(lg["data"], 16) == value
    used = [lg for lg in rc["logs"] if lg["topics"][0] == AUTH_USED_TOPIC]
    assert len(used) == 1 and used[0]["topics"][2] == "0x" + msg["nonce"].hex()

    assert usdc_balance(devnet, payer.address) == before_payer - value
    assert usdc_balance(devnet, payee) == before_payee + value
    assert token_call(devnet, "authorizationState(address,bytes32)", ["address", "bytes32"],
                      [payer.address, msg["nonce"]], ["bool"])[0] is True

    tx = devnet("eth_getTransactionByHash", tx_hash)
    assert tx["blockNumber"] == rc["blockNumber"] and tx["input"] == data and tx["type"] == "0x2"

    logs = devnet("eth_getLogs", {"fromBlock": rc["blockNumber"], "toBlock": rc["blockNumber"],
                                  "address": TOKEN, "topics": [TRANSFER_TOPIC]})
    assert any(x["transactionHash"] == tx_hash for x in logs)

    # The same authorization again: simulation and a mined transaction both fail.
    expect_revert(devnet, data, "FiatTokenV2: authorization is used or canceled", fac.address)
    rc2 = devnet.wait_receipt(send_tx(devnet, fac, TOKEN, data))
    assert rc2["status"] == "0x0" and rc2["logs"] == []


def test_authorization_reverts_with_usdc_strings(devnet, accounts):
    payer = role(accounts, "payer", 1)
    payee = role(accounts, "payee", 0).address
    now = int(time.time())

    msg, s = sign_auth(payer, payee, 1, valid_before=now - 5)
    expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "FiatTokenV2: authorization is expired")
    msg, s = sign_auth(payer, payee, 1, valid_after=now + 3600)
    expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "FiatTokenV2: authorization is not yet valid")
    expect_revert(devnet, twa_bytes(msg, sig_bytes(s)), "FiatTokenV2: authorization is not yet valid")

    # signed by someone else
    msg, s = sign_auth(role(accounts, "payer", 2), payee, 1)
    msg["from"] = payer.address
    expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "FiatTokenV2: invalid signature")
    expect_revert(devnet, twa_bytes(msg, sig_bytes(s)), "FiatTokenV2: invalid signature")
    # signed for another chain id / another domain
    for kwargs in ({"chain_id": 8453}, {"name": "USD Coin"}, {"version": "1"}):
        msg, s = sign_auth(payer, payee, 1, **kwargs)
        expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "FiatTokenV2: invalid signature")
    # tampered amount
    msg, s = sign_auth(payer, payee, 1)
    msg["value"] = 2
    expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "FiatTokenV2: invalid signature")

    # malleable high-s twin of a valid signature
    msg, s = sign_auth(payer, payee, 1)
    high_s, flipped_v = SECP256K1_N - s.s, 55 - s.v
    expect_revert(devnet, twa_vrs(msg, flipped_v, s.r, high_s), "ECRecover: invalid signature 's' value")
    hs = s.r.to_bytes(32, "big") + high_s.to_bytes(32, "big") + bytes([flipped_v])
    expect_revert(devnet, twa_bytes(msg, hs), "ECRecover: invalid signature 's' value")
    # v not in {27, 28}
    expect_revert(devnet, twa_vrs(msg, s.v - 27, s.r, s.s), "ECRecover: invalid signature 'v' value")
    # wrong length for an EOA
    expect_revert(devnet, twa_bytes(msg, sig_bytes(s)[:64]), "ECRecover: invalid signature length")
    # the untouched signature still simulates fine
    assert devnet("eth_call", {"to": TOKEN, "data": twa_vrs(msg, s.v, s.r, s.s)}, "latest") == "0x"

    # payer without funds
    poor = Account.create()
    msg, s = sign_auth(poor, payee, 1)
    expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "ERC20: transfer amount exceeds balance")
    # to the zero address
    msg, s = sign_auth(payer, "0x" + "00" * 20, 1)
    expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "ERC20: transfer to the zero address")


def test_receive_and_cancel_authorization(devnet, accounts):
    payer = role(accounts, "payer", 3)
    payee_acct = role(accounts, "payee", 1)
    fac = role(accounts, "facilitator")
    msg, s = sign_auth(payer, payee_acct.address, 7, primary="ReceiveWithAuthorization")
    data = twa_vrs(msg, s.v, s.r, s.s, selector="ef55bec6")
    expect_revert(devnet, data, "FiatTokenV2: caller must be the payee", fac.address)
    before = usdc_balance(devnet, payee_acct.address)
    rc = devnet.wait_receipt(send_tx(devnet, payee_acct, TOKEN, data))
    assert rc["status"] == "0x1"
    assert usdc_balance(devnet, payee_acct.address) == before + 7

    # bytes overload of receiveWithAuthorization
    msg, s = sign_auth(payer, payee_acct.address, 8, primary="ReceiveWithAuthorization")
    data = twa_bytes(msg, sig_bytes(s), selector="88b7ab63")
    assert devnet("eth_call", {"from": payee_acct.address, "to": TOKEN, "data": data}, "latest") == "0x"

    # cancel an authorization, then it cannot be used
    msg, s = sign_auth(payer, payee_acct.address, 9)
    cancel = Account.sign_typed_data(
        payer.key,
        domain_data={"name": "USDC", "version": "2", "chainId": CHAIN_ID, "verifyingContract": TOKEN},
        message_types={"CancelAuthorization": [{"name": "authorizer", "type": "address"},
                                               {"name": "nonce", "type": "bytes32"}]},
        message_data={"authorizer": payer.address, "nonce": msg["nonce"]},
    )
    cdata = call_data("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)",
                      ["address", "bytes32", "uint8", "bytes32", "bytes32"],
                      [payer.address, msg["nonce"], cancel.v, cancel.r.to_bytes(32, "big"),
                       cancel.s.to_bytes(32, "big")])
    cdata_bytes = call_data("cancelAuthorization(address,bytes32,bytes)", ["address", "bytes32", "bytes"],
                            [payer.address, msg["nonce"], sig_bytes(cancel)])
    assert devnet("eth_call", {"to": TOKEN, "data": cdata_bytes}, "latest") == "0x"
    rc = devnet.wait_receipt(send_tx(devnet, fac, TOKEN, cdata))
    assert rc["status"] == "0x1"
    expect_revert(devnet, twa_vrs(msg, s.v, s.r, s.s), "FiatTokenV2: authorization is used or canceled")
    expect_revert(devnet, cdata_bytes, "FiatTokenV2: authorization is used or canceled")


def test_mint_and_erc20(devnet, accounts):
    fac = role(accounts, "facilitator")
    payee = Account.create().address
    before_supply = token_call(devnet, "totalSupply()", [], [], ["uint256"])[0]
    tx_hash = devnet("devnet_mint", payee, "5000000")
    rc = devnet.wait_receipt(tx_hash)
    assert rc["status"] == "0x1"
    assert usdc_balance(devnet, payee) == 5_000_000
    # Other clients may mint on a shared devnet at the same time: the supply grew by at least this mint.
    assert token_call(devnet, "totalSupply()", [], [], ["uint256"])[0] >= before_supply + 5_000_000
    mint = call_data("mint(address,uint256)", ["address", "uint256"], [payee, 1])
    expect_revert(devnet, mint, "FiatToken: caller is not a minter", fac.address)

    payer = role(accounts, "payer", 4)
    xfer = call_data("transfer(address,uint256)", ["address", "uint256"], [payee, 10**30])
    expect_revert(devnet, xfer, "ERC20: transfer amount exceeds balance", payer.address)
    tf = call_data("transferFrom(address,address,uint256)", ["address", "address", "uint256"],
                   [payer.address, payee, 1])
    expect_revert(devnet, tf, "ERC20: transfer amount exceeds allowance", Account.create().address)
    rc = devnet.wait_receipt(send_tx(devnet, payer, TOKEN,
                                     call_data("approve(address,uint256)", ["address", "uint256"],
                                               [fac.address, 3]), legacy=True))
    assert rc["status"] == "0x1" and rc["type"] == "0x0"
    assert token_call(devnet, "allowance(address,address)", ["address", "address"],
                      [payer.address, fac.address], ["uint256"])[0] == 3
    rc = devnet.wait_receipt(send_tx(devnet, fac, TOKEN, tf))
    assert rc["status"] == "0x1"
    assert usdc_balance(devnet, payee) == 5_000_001


def test_set_balance(devnet, accounts):
    fresh = Account.create()
    assert devnet("devnet_setBalance", fresh.address, hex(3 * 10**18)) is True
    # visible at once in the pending state, and in `latest` once the pending block is sealed
    assert int(devnet("eth_getBalance", fresh.address, "pending"), 16) == 3 * 10**18
    deadline = time.time() + 10
    while int(devnet("eth_getBalance", fresh.address, "latest"), 16) != 3 * 10**18:
        assert time.time() < deadline, "setBalance never reached the latest block"
        time.sleep(0.02)
    # decimal amounts, and lowering a balance
    devnet("devnet_setBalance", fresh.address, "1000000000000000000")
    assert int(devnet("eth_getBalance", fresh.address, "pending"), 16) == 10**18
    # the funded key can pay for a transaction right away (no wait for a block)
    payee = Account.create().address
    rc = devnet.wait_receipt(send_tx(devnet, fresh, payee, "0x", gas=21_000, value=12345))
    assert rc["status"] == "0x1"
    assert int(devnet("eth_getBalance", payee, "latest"), 16) == 12345
    spent = 10**18 - int(devnet("eth_getBalance", fresh.address, "latest"), 16)
    assert spent == 12345 + int(rc["gasUsed"], 16) * int(rc["effectiveGasPrice"], 16)
    # a setBalance in the same pending block as a transaction
    other = Account.create()
    tx_hash = send_tx(devnet, fresh, payee, "0x", gas=21_000, value=1)
    devnet("devnet_setBalance", other.address, "0x5")
    devnet.wait_receipt(tx_hash)
    deadline = time.time() + 10
    while int(devnet("eth_getBalance", other.address, "latest"), 16) != 5:
        assert time.time() < deadline, "setBalance never reached the latest block"
        time.sleep(0.02)
    err = devnet.error("devnet_setBalance", other.address, hex(2**256))
    assert err["code"] == -32602
    err = devnet.error("devnet_setBalance", "0x1234", "0x1")
    assert err["code"] == -32602


ERC1271_WALLET = """
# pragma version 0.4.3
# Test-only ERC-1271 wallet: valid iff the 65-byte signature is the owner's over the hash.
owner: public(address)

@deploy
def __init__(o: address):
    self.owner = o

@external
@view
def isValidSignature(digest: bytes32, signature: Bytes[65]) -> bytes4:
    if len(signature) != 65:
        return 0xffffffff
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    signer: address = ecrecover(digest, v, extract32(signature, 0), extract32(signature, 32))
    if signer == self.owner and signer != empty(address):
        return 0x1626ba7e
    return 0xffffffff
"""


def test_erc1271_contract_signer(devnet, accounts):
    import vyper

    fac = role(accounts, "facilitator")
    owner = Account.create()
    payee = role(accounts, "payee", 0).address
    initcode = vyper.compile_code(ERC1271_WALLET, output_formats=["bytecode"])["bytecode"]
    initcode += encode(["address"], [owner.address]).hex()
    rc = devnet.wait_receipt(send_tx(devnet, fac, None, initcode, gas=1_000_000))
    assert rc["status"] == "0x1" and rc["contractAddress"]
    wallet = to_checksum_address(rc["contractAddress"])
    assert len(devnet("eth_getCode", wallet, "latest")) > 2
    devnet.wait_receipt(devnet("devnet_mint", wallet, "1000"))

    msg, _ = sign_auth(owner, payee, 400)
    msg["from"] = wallet  # the wallet is the payer; its owner signs the digest
    signed = Account.sign_typed_data(
        owner.key,
        domain_data={"name": "USDC", "version": "2", "chainId": CHAIN_ID, "verifyingContract": TOKEN},
        message_types={"TransferWithAuthorization": AUTH_TYPES}, message_data=msg)
    data = twa_bytes(msg, sig_bytes(signed))
    stranger = Account.sign_typed_data(
        Account.create().key,
        domain_data={"name": "USDC", "version": "2", "chainId": CHAIN_ID, "verifyingContract": TOKEN},
        message_types={"TransferWithAuthorization": AUTH_TYPES}, message_data=msg)
    expect_revert(devnet, twa_bytes(msg, sig_bytes(stranger)), "FiatTokenV2: invalid signature")
    rc = devnet.wait_receipt(send_tx(devnet, fac, TOKEN, data))
    assert rc["status"] == "0x1"
    assert usdc_balance(devnet, wallet) == 600


def test_permit(devnet, accounts):
    owner = role(accounts, "payer", 6)
    spender = Account.create().address
    domain = {"name": "USDC", "version": "2", "chainId": CHAIN_ID, "verifyingContract": TOKEN}
    types = {"Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                        {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                        {"name": "deadline", "type": "uint256"}]}
    nonce = token_call(devnet, "nonces(address)", ["address"], [owner.address], ["uint256"])[0]
    deadline = int(time.time()) + 600
    s = Account.sign_typed_data(owner.key, domain_data=domain, message_types=types, message_data={
        "owner": owner.address, "spender": spender, "value": 77, "nonce": nonce, "deadline": deadline})
    vrs = call_data("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
                    ["address", "address", "uint256", "uint256", "uint8", "bytes32", "bytes32"],
                    [owner.address, spender, 77, deadline, s.v, s.r.to_bytes(32, "big"), s.s.to_bytes(32, "big")])
    as_bytes = call_data("permit(address,address,uint256,uint256,bytes)",
                         ["address", "address", "uint256", "uint256", "bytes"],
                         [owner.address, spender, 77, deadline, sig_bytes(s)])
    assert devnet("eth_call", {"to": TOKEN, "data": as_bytes}, "latest") == "0x"
    wrong = call_data("permit(address,address,uint256,uint256,bytes)",
                      ["address", "address", "uint256", "uint256", "bytes"],
                      [owner.address, spender, 78, deadline, sig_bytes(s)])
    expect_revert(devnet, wrong, "EIP2612: invalid signature")
    expired = call_data("permit(address,address,uint256,uint256,bytes)",
                        ["address", "address", "uint256", "uint256", "bytes"],
                        [owner.address, spender, 77, int(time.time()) - 10, sig_bytes(s)])
    expect_revert(devnet, expired, "FiatTokenV2: permit is expired")
    rc = devnet.wait_receipt(send_tx(devnet, role(accounts, "facilitator"), TOKEN, vrs))
    assert rc["status"] == "0x1"
    assert token_call(devnet, "allowance(address,address)", ["address", "address"],
                      [owner.address, spender], ["uint256"])[0] == 77
    assert token_call(devnet, "nonces(address)", ["address"], [owner.address], ["uint256"])[0] == nonce + 1
    expect_revert(devnet, vrs, "EIP2612: invalid signature")  # nonce consumed


def test_send_raw_transaction_errors(devnet, accounts):
    fac = role(accounts, "facilitator")
    nonce = int(devnet("eth_getTransactionCount", fac.address, "pending"), 16)
    rc = devnet.wait_receipt(send_tx(devnet, fac, fac.address, "0x", gas=21_000, nonce=nonce))
    assert rc["status"] == "0x1"

    def raw(acct, **kw):
        tx = {"type": 2, "chainId": CHAIN_ID, "nonce": nonce, "to": fac.address, "data": "0x", "gas": 21_000,
              "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 10**6, "value": 0}
        tx.update(kw)
        return "0x" + acct.sign_transaction(tx).raw_transaction.hex()

    err = devnet.error("eth_sendRawTransaction", raw(fac, value=1))
    assert err["message"].startswith("nonce too low"), err
    err = devnet.error("eth_sendRawTransaction", raw(fac, chainId=1))
    assert "chain id" in err["message"], err
    poor = Account.create()
    err = devnet.error("eth_sendRawTransaction", raw(poor, nonce=0))
    assert err["message"].startswith("insufficient funds"), err
    err = devnet.error("eth_sendRawTransaction", raw(fac, gas=20_000))
    assert "intrinsic gas too low" in err["message"], err
    err = devnet.error("eth_sendRawTransaction", "0x1234")
    assert err["code"] == -32000
    # resending the same signed transaction
    again = devnet.error("eth_sendRawTransaction", raw(fac, value=0, nonce=nonce))
    assert "already known" in again["message"] or "nonce too low" in again["message"]


def test_pending_nonce_and_out_of_order(devnet, accounts):
    sender = role(accounts, "payee", 1)
    n = int(devnet("eth_getTransactionCount", sender.address, "pending"), 16)
    # nonce n+1 arrives before n: it is held back, then both are mined
    h2 = send_tx(devnet, sender, sender.address, "0x", nonce=n + 1, gas=21_000)
    assert devnet("eth_getTransactionReceipt", h2) is None
    assert int(devnet("eth_getTransactionCount", sender.address, "pending"), 16) == n
    h1 = send_tx(devnet, sender, sender.address, "0x", nonce=n, gas=21_000)
    assert int(devnet("eth_getTransactionCount", sender.address, "pending"), 16) == n + 2
    assert int(devnet("eth_getTransactionCount", sender.address, "latest"), 16) <= n + 2
    assert devnet.wait_receipt(h1)["status"] == "0x1"
    assert devnet.wait_receipt(h2)["status"] == "0x1"
    assert int(devnet("eth_getTransactionCount", sender.address, "latest"), 16) == n + 2


def test_batch_and_protocol_errors(devnet):
    body = json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "no_such_method", "params": []},
        {"jsonrpc": "2.0", "id": 4, "method": "eth_call",
         "params": [{"to": TOKEN, "data": call_data("decimals()", [], [])}, "latest"]},
    ]).encode()
    out = devnet.raw(body)
    assert isinstance(out, list) and [r["id"] for r in out] == [1, 2, 3, 4]
    assert out[0]["result"] == hex(CHAIN_ID)
    assert out[2]["error"]["code"] == -32601
    assert int(out[3]["result"], 16) == 6
    assert devnet.raw(b"{not json")["error"]["code"] == -32700
    assert devnet.error("eth_getBalance", "0x1234", "latest")["code"] == -32602


def test_stats_count_calls_and_http_requests(devnet):
    # Other tests may run in parallel threads of this session only between tests, so read the
    # counters around our own calls: one batch of two calls and one single call.
    before = devnet("devnet_stats")
    devnet.raw(json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
    ]).encode())
    devnet("eth_chainId")
    after = devnet("devnet_stats")
    assert after["httpRequests"] - before["httpRequests"] == 2
    assert after["totalCalls"] - before["totalCalls"] == 3
    assert after["calls"]["eth_chainId"] - before["calls"].get("eth_chainId", 0) == 2
    reset = devnet("devnet_statsReset")
    assert reset["totalCalls"] >= after["totalCalls"]
    assert devnet("devnet_stats")["totalCalls"] == 0


def test_multicall3(devnet, accounts):
    payer = role(accounts, "payer", 0)
    nonce = os.urandom(32)
    calls = [
        (TOKEN, bytes.fromhex(call_data("balanceOf(address)", ["address"], [payer.address])[2:])),
        (TOKEN, bytes.fromhex(call_data("name()", [], [])[2:])),
        (TOKEN, bytes.fromhex(call_data("version()", [], [])[2:])),
        (TOKEN, bytes.fromhex(call_data("authorizationState(address,bytes32)", ["address", "bytes32"],
                                        [payer.address, nonce])[2:])),
        (TOKEN, bytes.fromhex(call_data("transfer(address,uint256)", ["address", "uint256"],
                                        [payer.address, 10**30])[2:])),
    ]
    data = "0xbce38bd7" + encode(["bool", "(address,bytes)[]"], [False, calls]).hex()
    raw = devnet("eth_call", {"to": MULTICALL3, "data": data}, "latest")
    results = decode(["(bool,bytes)[]"], bytes.fromhex(raw[2:]))[0]
    assert [ok for ok, _ in results] == [True, True, True, True, False]
    assert decode(["uint256"], results[0][1])[0] == usdc_balance(devnet, payer.address)
    assert decode(["string"], results[1][1])[0] == "USDC"
    assert decode(["string"], results[2][1])[0] == "2"
    assert decode(["bool"], results[3][1])[0] is False
    assert decode(["string"], results[4][1][4:])[0] == "ERC20: transfer amount exceeds balance"
    # requireSuccess=true bubbles a failure up as a revert
    data = "0xbce38bd7" + encode(["bool", "(address,bytes)[]"], [True, calls]).hex()
    err = devnet.error("eth_call", {"to": MULTICALL3, "data": data}, "latest")
    assert err["code"] == 3 and "Multicall3: call failed" in err["message"]

    raw = devnet("eth_call", {"to": MULTICALL3, "data": "0x4d2301cc" + encode(["address"], [payer.address]).hex()},
                 "latest")
    assert int(raw, 16) == int(devnet("eth_getBalance", payer.address, "latest"), 16)
    data = "0x82ad56cb" + encode(["(address,bool,bytes)[]"], [[(c[0], True, c[1]) for c in calls]]).hex()
    results = decode(["(bool,bytes)[]"], bytes.fromhex(devnet("eth_call", {"to": MULTICALL3, "data": data})[2:]))[0]
    assert len(results) == 5 and results[4][0] is False


GAS_BURNER_WALLET = "0x1271000000000000000000000000000000000001"
SHORT_MAGIC_WALLET = "0x1271000000000000000000000000000000000002"
ECHO_WALLET = "0x1271000000000000000000000000000000000003"
ERC1271_MAGIC_WORD = "0x1626ba7e" + "00" * 28


def test_hostile_erc1271_wallets(devnet, accounts):
    """The test wallets the facilitator must refuse: listed in accounts.json, with code at genesis."""
    assert accounts["testWallets"] == {"gasBurner": GAS_BURNER_WALLET, "shortMagic": SHORT_MAGIC_WALLET,
                                       "echo": ECHO_WALLET}
    digest = os.urandom(32)
    data = call_data("isValidSignature(bytes32,bytes)", ["bytes32", "bytes"], [digest, b"\x01" * 65])
    # Gas burner: the magic word, but only with a lot of gas (~2 M) - well above a 250 k ceiling.
    assert devnet("eth_call", {"to": GAS_BURNER_WALLET, "data": data}, "latest") == ERC1271_MAGIC_WORD
    assert int(devnet("eth_estimateGas", {"to": GAS_BURNER_WALLET, "data": data}), 16) > 1_000_000
    assert devnet.error("eth_call", {"to": GAS_BURNER_WALLET, "data": data, "gas": hex(250_000)}, "latest") is not None
    # Short magic: exactly the 4 bytes, not a 32-byte word.
    assert devnet("eth_call", {"to": SHORT_MAGIC_WALLET, "data": data}, "latest") == "0x1626ba7e"
    # Echo: the first calldata word (selector + 28 digest bytes).
    assert devnet("eth_call", {"to": ECHO_WALLET, "data": data}, "latest") == "0x1626ba7e" + digest[:28].hex()


def test_burst_of_50_transactions(devnet, accounts):
    fac = role(accounts, "facilitator")
    payees = [a["address"] for a in accounts["accounts"] if a["role"] == "payee"]
    payers = [Account.from_key(a["privateKey"]) for a in accounts["accounts"] if a["role"] == "payer"]
    base = int(devnet("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
    n0 = int(devnet("eth_getTransactionCount", fac.address, "pending"), 16)
    raws = []
    for i in range(50):
        msg, s = sign_auth(payers[i % len(payers)], payees[i % len(payees)], 1000 + i)
        tx = {"type": 2, "chainId": CHAIN_ID, "nonce": n0 + i, "to": TOKEN, "data": twa_vrs(msg, s.v, s.r, s.s),
              "gas": 150_000, "maxFeePerGas": 2 * base + 10**6, "maxPriorityFeePerGas": 10**6, "value": 0}
        raws.append("0x" + fac.sign_transaction(tx).raw_transaction.hex())

    # several connections at once, so transactions may arrive out of nonce order
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        hashes = list(pool.map(lambda r: devnet("eth_sendRawTransaction", r), raws))
    receipts = [devnet.wait_receipt(h) for h in hashes]
    assert all(r["status"] == "0x1" for r in receipts)
    blocks = sorted({int(r["blockNumber"], 16) for r in receipts})
    stamps = []
    for b in blocks:
        blk = devnet("eth_getBlockByNumber", hex(b), False)
        ts = int(blk["timestamp"], 16)
        assert ts <= time.time() + 1, "block timestamp ahead of the wall clock"
        stamps.append(ts)
    assert stamps == sorted(set(stamps)), "at most one block per second"
    assert len(blocks) <= 10


@pytest.mark.skipif("X402_DEVNET_URL" in os.environ, reason="moves the chain clock: private devnet only")
def test_time_travel(devnet, accounts):
    payer = role(accounts, "payer", 5)
    payee = role(accounts, "payee", 0).address
    now = int(time.time())
    msg, s = sign_auth(payer, payee, 1, valid_after=now + 100, valid_before=now + 7200)
    data = twa_vrs(msg, s.v, s.r, s.s)
    expect_revert(devnet, data, "FiatTokenV2: authorization is not yet valid")
    devnet("evm_increaseTime", 200)
    assert devnet("eth_call", {"to": TOKEN, "data": data}, "latest") == "0x"
    before = int(devnet("eth_blockNumber"), 16)
    devnet("evm_mine")
    assert int(devnet("eth_blockNumber"), 16) == before + 1
    ts = int(devnet("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    assert ts >= now + 200
    devnet("evm_setNextBlockTimestamp", hex(ts + 8000))
    devnet("evm_mine")
    assert int(devnet("eth_getBlockByNumber", "latest", False)["timestamp"], 16) == ts + 8000
    expect_revert(devnet, data, "FiatTokenV2: authorization is expired")


def test_min_priority_fee_parks_until_replaced(devnet):
    # devnet_setMinPriorityFee(sender, wei): a transaction from `sender` tipping less is parked
    # (known, unmined, holding its nonce); a replacement must raise both fee fields by 10 %; a
    # later nonce waits behind the parked one; lowering the minimum releases what pays enough.
    fresh = Account.create()
    devnet("devnet_setBalance", fresh.address, hex(10**18))
    payee = Account.create().address
    base = int(devnet("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
    assert devnet("devnet_setMinPriorityFee", fresh.address, hex(11 * 10**5)) is True

    def send(nonce: int, tip: int, value: int = 1) -> str:
        tx = {"type": 2, "chainId": CHAIN_ID, "nonce": nonce, "to": payee, "data": "0x", "gas": 21_000,
              "maxFeePerGas": 4 * base + tip, "maxPriorityFeePerGas": tip, "value": value}
        return devnet("eth_sendRawTransaction", "0x" + fresh.sign_transaction(tx).raw_transaction.hex())

    first = send(0, 10**6)
    time.sleep(1.5)
    assert devnet("eth_getTransactionReceipt", first) is None
    assert devnet("eth_getTransactionByHash", first)["blockNumber"] is None
    assert int(devnet("eth_getTransactionCount", fresh.address, "pending"), 16) == 1
    behind = send(1, 2 * 10**6, value=2)  # waits for nonce 0
    # 5 % more is not a replacement; 12.5 % more (tip 1.125e6 >= 1.1e6) replaces and is mined
    tx = {"type": 2, "chainId": CHAIN_ID, "nonce": 0, "to": payee, "data": "0x", "gas": 21_000,
          "maxFeePerGas": (4 * base + 10**6) * 105 // 100, "maxPriorityFeePerGas": 105 * 10**4, "value": 1}
    err = devnet.error("eth_sendRawTransaction", "0x" + fresh.sign_transaction(tx).raw_transaction.hex())
    assert "replacement transaction underpriced" in err["message"]
    tx.update(maxFeePerGas=(4 * base + 10**6) * 9 // 8 + 1, maxPriorityFeePerGas=1_125_000)
    second = devnet("eth_sendRawTransaction", "0x" + fresh.sign_transaction(tx).raw_transaction.hex())
    assert devnet.wait_receipt(second)["status"] == "0x1"
    assert devnet.wait_receipt(behind)["status"] == "0x1"
    assert devnet("eth_getTransactionByHash", first) is None  # replaced
    assert int(devnet("eth_getBalance", payee, "latest"), 16) == 3
    # lowering the minimum releases a parked transaction
    parked = send(2, 10**6)
    time.sleep(1.2)
    assert devnet("eth_getTransactionReceipt", parked) is None
    devnet("devnet_setMinPriorityFee", fresh.address, "0x0")
    assert devnet.wait_receipt(parked)["status"] == "0x1"


def test_calls_per_second_paces_each_call():
    # The benchmark limit (--calls-per-second) gives every call its own slot, 1/rate apart,
    # whether the calls come alone or in one batch; devnet_stats is never paced.
    sys.path.insert(0, str(HERE))
    import devnet as node

    rpc = node.RPC(None, "http://unused", calls_per_second=50)  # type: ignore[arg-type]
    rpc.methods["probe"] = lambda p: 1
    rpc.c = type("Chain", (), {"lock": threading.RLock()})()
    start = rpc.next_slot
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "probe"} for i in range(3)]).encode()
    assert [r["result"] for r in json.loads(rpc.handle_body(body))] == [1, 1, 1]
    rpc.handle_body(json.dumps({"jsonrpc": "2.0", "id": 9, "method": "probe"}).encode())
    first = rpc.next_slot - 4 * rpc.call_interval
    assert start == 0.0 and first > 0
    assert abs((rpc.next_slot - first) - 4 / 50) < 1e-9
    before = rpc.next_slot
    rpc.handle_body(json.dumps({"jsonrpc": "2.0", "id": 10, "method": "devnet_stats"}).encode())
    assert rpc.next_slot == before
    assert node.RPC(None, "http://unused").call_interval == 0.0  # type: ignore[arg-type]
