"""End-to-end tests of the interop harness's Solana peers: the official Python SDK on our svmnet.

    Tools/interop/setup.sh
    Tools/interop/.venv/bin/python -m pytest -q Tools/interop/test_interop_svm.py

Without X402_SVMNET_URL a private svmnet is started (Tools/svmnet/start.sh on a free 127.0.0.1
port) and stopped afterwards. With X402_SVMNET_URL (and X402_SVMNET_STATE) the tests use that
chain and stay isolated from its other users: every test makes a fresh payer (its ATA written with
svmnet_createTokenAccount), a fresh payTo wallet with an empty ATA and, where the fee matters, a
fresh fee payer (SOL from svmnet_airdrop); every balance delta is then exact.

Python is test infrastructure only; nothing here is part of the Swift product.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest
from solders.keypair import Keypair

from test_interop_python import HERE, ROOT, Service, free_port, http_json, run_tool

SVMNET = os.path.join(ROOT, "Tools", "svmnet")
NETWORK = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
V1_NETWORK = "solana-devnet"
USDC = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"  # devnet USDC: the SDK's default asset there
PRICE = "$0.01"
PRICE_UNITS = 10_000


def rpc(url: str, method: str, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        out = json.load(r)
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


def token_balance(url: str, account: str) -> int:
    return int(rpc(url, "getTokenAccountBalance", account)["value"]["amount"])


def lamports(url: str, account: str) -> int:
    return rpc(url, "getBalance", account)["value"]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def svmnet():
    url = os.environ.get("X402_SVMNET_URL")
    state_path = os.environ.get("X402_SVMNET_STATE")
    state_dir = None
    if not url:
        state_dir = tempfile.mkdtemp(prefix="x402-interop-svmnet-")
        out = subprocess.run([os.path.join(SVMNET, "start.sh"), "--port", str(free_port()),
                              "--state-dir", state_dir], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        url = out.stdout.strip().splitlines()[-1]
        state_path = os.path.join(state_dir, "svmnet.json")
    try:
        assert rpc(url, "getGenesisHash").startswith(NETWORK.split(":")[1])
        state = rpc(url, "svmnet_state")
        if state_path:
            with open(state_path, encoding="utf-8") as fh:
                assert json.load(fh)["facilitators"] == state["facilitators"]
        # The peers find the chain through these, as under scripts/test.
        env = {"X402_SVMNET_URL": url, **({"X402_SVMNET_STATE": state_path} if state_path else {})}
        yield {"url": url, "state": state, "statePath": state_path, "env": env}
    finally:
        if state_dir:
            subprocess.run([os.path.join(SVMNET, "stop.sh"), "--state-dir", state_dir],
                           capture_output=True, timeout=60)
            shutil.rmtree(state_dir, ignore_errors=True)


def wallet(url: str, mint: str | None = None, units: int = 0) -> dict:
    kp = Keypair()
    w = {"address": str(kp.pubkey()), "key": str(kp)}
    if mint is not None:
        w["ata"] = rpc(url, "svmnet_createTokenAccount", w["address"], mint, units)
    return w


@pytest.fixture(scope="session")
def fee_payer(svmnet):
    """A fresh fee payer with 10 SOL (its own key, so fee deltas are exact)."""
    w = wallet(svmnet["url"])
    rpc(svmnet["url"], "svmnet_airdrop", w["address"], 10_000_000_000)
    return w


@pytest.fixture(scope="session")
def facilitator(svmnet, fee_payer):
    svc = Service("py_facilitator.py", "--port", "0", "--network", NETWORK, "--svm-key-env", "X402_TEST_SVM_FAC",
                  env={**svmnet["env"], "X402_TEST_SVM_FAC": fee_payer["key"]})
    yield svc
    svc.stop()


@pytest.fixture()
def payer(svmnet):
    """A fresh payer holding exactly 1 USDC and no SOL (the facilitator pays the fee)."""
    w = wallet(svmnet["url"], USDC, 1_000_000)
    w["env"] = {**svmnet["env"], "X402_TEST_SVM_PAYER": w["key"]}
    return w


@pytest.fixture()
def pay_to(svmnet):
    return wallet(svmnet["url"], USDC, 0)


@pytest.fixture()
def seller(facilitator, pay_to, svmnet):
    svc = Service("py_server.py", "--port", "0", "--facilitator-url", facilitator.url, "--network", NETWORK,
                  "--pay-to", pay_to["address"], "--price", PRICE, env=svmnet["env"])
    yield svc
    svc.stop()


def payment_required_v2(pay_to: str, fee_payer: str, amount: int = PRICE_UNITS, asset: str = USDC,
                        extra: dict | None = None) -> dict:
    return {"x402Version": 2, "error": "Payment required",
            "resource": {"url": "http://127.0.0.1:9/weather", "description": "", "mimeType": ""},
            "accepts": [{"scheme": "exact", "network": NETWORK, "amount": str(amount), "asset": asset,
                         "payTo": pay_to, "maxTimeoutSeconds": 300, "extra": {"feePayer": fee_payer, **(extra or {})}}]}


def payment_required_v1(pay_to: str, fee_payer: str, amount: int = PRICE_UNITS) -> dict:
    return {"x402Version": 1, "error": "X-PAYMENT header is required",
            "accepts": [{"scheme": "exact", "network": V1_NETWORK, "maxAmountRequired": str(amount),
                         "resource": "http://127.0.0.1:9/weather", "description": "weather",
                         "mimeType": "application/json", "payTo": pay_to, "maxTimeoutSeconds": 60,
                         "asset": USDC, "extra": {"feePayer": fee_payer}}]}


def assert_landed(url: str, signature: str) -> None:
    st = rpc(url, "getSignatureStatuses", [signature])["value"][0]
    assert st is not None and st["err"] is None and st["confirmationStatus"] in ("confirmed", "finalized"), st


# --------------------------------------------------------------------------- tests


def test_facilitator_supported_lists_the_fee_payer(facilitator, fee_payer):
    status, _, supported = http_json("GET", facilitator.url + "/supported")
    assert status == 200
    kinds = {(k["x402Version"], k["scheme"], k["network"]): k.get("extra") for k in supported["kinds"]}
    assert kinds == {(2, "exact", NETWORK): {"feePayer": fee_payer["address"]},
                     (1, "exact", V1_NETWORK): {"feePayer": fee_payer["address"]}}
    assert supported["signers"] == {"solana:*": [fee_payer["address"]]}
    assert facilitator.info["svmFeePayers"] == [fee_payer["address"]] and facilitator.info["signer"] is None
    status, _, health = http_json("GET", facilitator.url + "/health")
    assert status == 200 and health["svmFeePayers"] == [fee_payer["address"]]


def test_facilitator_keys_from_the_svmnet_state(svmnet):
    if not svmnet["statePath"]:
        pytest.skip("no svmnet state file")
    svc = Service("py_facilitator.py", "--port", "0", "--network", NETWORK, "--v1-network", "none",
                  "--svm-key-from-state", "facilitator:all", env=svmnet["env"])
    try:
        expected = [f["address"] for f in svmnet["state"]["facilitators"]]
        assert svc.info["svmFeePayers"] == expected and svc.info["v1Networks"] == []
        _, _, supported = http_json("GET", svc.url + "/supported")
        assert supported["signers"] == {"solana:*": expected}
        assert [k["network"] for k in supported["kinds"]] == [NETWORK]
        assert supported["kinds"][0]["extra"]["feePayer"] in expected
    finally:
        svc.stop()


def test_seller_unpaid_request_gets_402_with_solana_requirements(seller, pay_to, fee_payer):
    req = urllib.request.Request(seller.info["paidUrl"])
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 402
    pr = json.loads(base64.b64decode(e.value.headers["PAYMENT-REQUIRED"]))
    assert pr["x402Version"] == 2
    assert pr["accepts"] == [{"scheme": "exact", "network": NETWORK, "asset": USDC, "amount": str(PRICE_UNITS),
                              "payTo": pay_to["address"], "maxTimeoutSeconds": 300,
                              "extra": {"feePayer": fee_payer["address"]}}]


def test_end_to_end_sdk_client_seller_facilitator(svmnet, seller, payer, pay_to, fee_payer):
    url = svmnet["url"]
    sol_before = lamports(url, fee_payer["address"])
    out = run_tool("py_client.py", "--svm-key-env", "X402_TEST_SVM_PAYER", seller.info["paidUrl"], env=payer["env"])
    assert out["status"] == 200, out
    assert out["body"] == {"report": {"weather": "sunny", "temperature": 70}}
    pr = out["paymentResponse"]
    assert pr["success"] is True and pr["network"] == NETWORK and pr["payer"] == payer["address"]
    assert_landed(url, pr["transaction"])
    assert token_balance(url, payer["ata"]) == 1_000_000 - PRICE_UNITS
    assert token_balance(url, pay_to["ata"]) == PRICE_UNITS
    assert lamports(url, payer["address"]) == 0  # the payer paid no SOL
    assert lamports(url, fee_payer["address"]) < sol_before  # the facilitator paid the fee
    tx = base64.b64decode(out["paymentPayload"]["payload"]["transaction"])
    assert tx[0] == 2 and tx[1:65] == bytes(64)  # two signature slots, the fee payer's left empty
    assert tx[1 + 128] == 0x80  # a v0 message


@pytest.mark.parametrize("mint_key", ["usdc", "usdcToken2022"])
def test_sign_then_settle_over_http_v2(svmnet, facilitator, fee_payer, mint_key):
    url = svmnet["url"]
    mint = svmnet["state"]["mints"][mint_key]["address"]
    payer = wallet(url, mint, 50_000)
    to = wallet(url, mint, 0)
    env = {**svmnet["env"], "X402_TEST_SVM_PAYER": payer["key"]}
    signed = run_tool("py_sign.py", "--svm-key-env", "X402_TEST_SVM_PAYER", "--envelope", "--allow-any-asset",
                      stdin=payment_required_v2(to["address"], fee_payer["address"], 12_345, asset=mint,
                                                extra={"memo": "order-42"}), env=env)
    assert signed["header"]["name"] == "PAYMENT-SIGNATURE"
    status, _, v = http_json("POST", facilitator.url + "/verify", signed)
    assert status == 200 and v == {"isValid": True, "payer": payer["address"]}
    assert token_balance(url, payer["ata"]) == 50_000  # verify moves nothing
    status, _, s = http_json("POST", facilitator.url + "/settle", signed)
    assert status == 200 and s["success"] is True, s
    assert s["payer"] == payer["address"] and s["network"] == NETWORK
    assert_landed(url, s["transaction"])
    assert token_balance(url, payer["ata"]) == 50_000 - 12_345 and token_balance(url, to["ata"]) == 12_345
    # the same payment again: refused, nothing moves
    status, _, again = http_json("POST", facilitator.url + "/settle", signed)
    assert status == 200 and again["success"] is False
    assert again["errorReason"] in ("duplicate_settlement", "transaction_simulation_failed")
    assert token_balance(url, to["ata"]) == 12_345


def test_sign_then_check_v1_in_process(svmnet, fee_payer):
    url = svmnet["url"]
    payer, to = wallet(url, USDC, 20_000), wallet(url, USDC, 0)
    env = {**svmnet["env"], "X402_TEST_SVM_PAYER": payer["key"], "X402_TEST_SVM_FAC": fee_payer["key"]}
    signed = run_tool("py_sign.py", "--svm-key-env", "X402_TEST_SVM_PAYER", "--envelope",
                      stdin=payment_required_v1(to["address"], fee_payer["address"]), env=env)
    assert signed["paymentPayload"]["x402Version"] == 1 and signed["paymentPayload"]["network"] == V1_NETWORK
    assert signed["header"]["name"] == "X-PAYMENT"
    common = ("--network", NETWORK, "--svm-key-env", "X402_TEST_SVM_FAC")
    v = run_tool("py_check.py", "verify", *common, stdin=signed, env=env)
    assert v == {"isValid": True, "payer": payer["address"]}
    s = run_tool("py_check.py", "settle", *common, stdin=signed, env=env)
    assert s["success"] is True and s["network"] == V1_NETWORK, s
    assert_landed(url, s["transaction"])
    assert token_balance(url, to["ata"]) == PRICE_UNITS and token_balance(url, payer["ata"]) == 20_000 - PRICE_UNITS


def test_negative_cases_move_nothing(svmnet, facilitator, fee_payer):
    url = svmnet["url"]
    payer, to = wallet(url, USDC, 5_000), wallet(url, USDC, 0)
    env = {**svmnet["env"], "X402_TEST_SVM_PAYER": payer["key"]}
    signed = run_tool("py_sign.py", "--svm-key-env", "X402_TEST_SVM_PAYER", "--envelope",
                      stdin=payment_required_v2(to["address"], fee_payer["address"], 1_000), env=env)

    def verify(mutate) -> dict:
        doc = json.loads(json.dumps(signed))
        mutate(doc)
        status, _, out = http_json("POST", facilitator.url + "/verify", doc)
        assert status == 200, out
        return out

    more = verify(lambda d: d["paymentRequirements"].__setitem__("amount", "1001"))
    assert more["isValid"] is False and more["invalidReason"] == "invalid_exact_svm_payload_amount_insufficient"
    other_to = verify(lambda d: d["paymentRequirements"].__setitem__("payTo", wallet(url)["address"]))
    assert other_to["invalidReason"] == "invalid_exact_svm_payload_recipient_mismatch"
    other_mint = verify(lambda d: d["paymentRequirements"].__setitem__(
        "asset", svmnet["state"]["mints"]["usdcToken2022"]["address"]))
    assert other_mint["invalidReason"] == "invalid_exact_svm_payload_mint_mismatch"
    unknown_fee_payer = verify(lambda d: d["paymentRequirements"]["extra"].__setitem__(
        "feePayer", wallet(url)["address"]))
    assert unknown_fee_payer["invalidReason"] == "fee_payer_not_managed_by_facilitator"

    def tamper(d):
        raw = bytearray(base64.b64decode(d["paymentPayload"]["payload"]["transaction"]))
        raw[1 + 64 + 3] ^= 1  # the client's signature
        d["paymentPayload"]["payload"]["transaction"] = base64.b64encode(bytes(raw)).decode()

    tampered = verify(tamper)
    assert tampered["isValid"] is False and tampered["invalidReason"] == "transaction_simulation_failed"
    # an expired blockhash: the simulation fails
    raw = base64.b64decode(signed["paymentPayload"]["payload"]["transaction"])
    blockhash_at = 1 + 2 * 64 + 1 + 3 + 1 + 32 * raw[1 + 2 * 64 + 4]
    from solders.hash import Hash  # noqa: PLC0415

    blockhash = str(Hash.from_bytes(raw[blockhash_at:blockhash_at + 32]))
    assert rpc(url, "svmnet_expireBlockhash", blockhash)["expired"] == [blockhash]
    expired = verify(lambda d: None)
    assert expired["isValid"] is False and expired["invalidReason"] == "transaction_simulation_failed"
    status, _, s = http_json("POST", facilitator.url + "/settle", signed)
    assert status == 200 and s["success"] is False
    assert token_balance(url, payer["ata"]) == 5_000 and token_balance(url, to["ata"]) == 0


def test_sdk_client_needs_a_key_and_reads_it_from_a_file(svmnet, fee_payer, tmp_path):
    out = run_tool("py_sign.py", stdin=payment_required_v2(wallet(svmnet["url"])["address"], fee_payer["address"]),
                   env=svmnet["env"], expect_rc=2)
    assert "private key is required" in out["error"]
    payer = wallet(svmnet["url"], USDC, 10_000)
    key_file = tmp_path / "id.json"  # the solana-keygen format: a JSON array of the 64 bytes
    key_file.write_text(json.dumps(list(Keypair.from_base58_string(payer["key"]).to_bytes())))
    to = wallet(svmnet["url"], USDC, 0)
    signed = run_tool("py_sign.py", "--svm-key-file", str(key_file), "--envelope",
                      stdin=payment_required_v2(to["address"], fee_payer["address"]), env=svmnet["env"])
    assert signed["paymentRequirements"]["payTo"] == to["address"]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2, 3]")
    out = run_tool("py_sign.py", "--svm-key-file", str(bad),
                   stdin=payment_required_v2(to["address"], fee_payer["address"]), env=svmnet["env"], expect_rc=2)
    assert "Solana keypair" in out["error"] and "[1, 2, 3]" not in out["error"]


def test_evm_and_solana_in_one_facilitator(svmnet, fee_payer):
    devnet_url = os.environ.get("X402_DEVNET_URL")
    if not devnet_url:
        pytest.skip("needs X402_DEVNET_URL (scripts/test sets it)")
    from eth_account import Account  # noqa: PLC0415

    env = {**svmnet["env"], "X402_TEST_SVM_FAC": fee_payer["key"], "X402_TEST_FAC_KEY": Account.create().key.hex()}
    svc = Service("py_facilitator.py", "--port", "0", "--rpc-url", devnet_url, "--key-env", "X402_TEST_FAC_KEY",
                  "--network", "eip155:84532", "--network", NETWORK, "--svm-key-env", "X402_TEST_SVM_FAC", env=env)
    try:
        _, _, supported = http_json("GET", svc.url + "/supported")
        nets = {(k["x402Version"], k["network"]) for k in supported["kinds"]}
        assert nets == {(2, "eip155:84532"), (1, "base-sepolia"), (2, NETWORK), (1, V1_NETWORK)}
        assert set(supported["signers"]) == {"eip155:*", "solana:*"}
    finally:
        svc.stop()


_ = HERE
