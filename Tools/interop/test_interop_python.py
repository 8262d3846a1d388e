"""End-to-end tests of the interop harness: the official Python SDK against our devnet.

    Tools/interop/setup.sh
    Tools/interop/.venv/bin/python -m pytest -q Tools/interop/test_interop_python.py

Without X402_DEVNET_URL a private devnet is started (Tools/devnet/start.sh on a free
127.0.0.1 port) and stopped afterwards. With X402_DEVNET_URL=http://127.0.0.1:N the tests
use that devnet; they then stay isolated from other users by using fresh keys: a fresh
payer (USDC minted with devnet_mint), a fresh payTo, and a fresh facilitator key (ETH sent
from a dev account), so every balance delta is exact.

Python is test infrastructure only; nothing here is part of the Swift product.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEVNET = os.path.join(ROOT, "Tools", "devnet")
PY = sys.executable

USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
NETWORK = "eip155:84532"
PRICE = "$0.01"
PRICE_UNITS = 10_000  # $0.01 in USDC atomic units (6 decimals)
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


# --------------------------------------------------------------------------- helpers


def rpc(url: str, method: str, params: list | None = None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        out = json.load(r)
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


def wait_receipt(url: str, tx: str, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        receipt = rpc(url, "eth_getTransactionReceipt", [tx])
        if receipt is not None:
            return receipt
        time.sleep(0.05)
    raise TimeoutError(f"no receipt for {tx}")


def usdc_balance(url: str, address: str) -> int:
    data = "0x70a08231" + address[2:].lower().rjust(64, "0")
    return int(rpc(url, "eth_call", [{"to": USDC, "data": data}, "latest"]), 16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_account():
    from eth_account import Account

    acct = Account.create()
    return acct.address, "0x" + bytes(acct.key).hex()


def run_tool(script: str, *args: str, stdin: object = None, env: dict | None = None,
             expect_rc: int = 0, timeout: float = 120) -> dict:
    """Run an entry point; assert its exit code and that stdout is exactly one JSON line."""
    proc = subprocess.run(
        [PY, os.path.join(HERE, script), *args],
        input=None if stdin is None else (stdin if isinstance(stdin, str) else json.dumps(stdin)),
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, f"{script}: expected one stdout line, got {proc.stdout!r}\nstderr: {proc.stderr}"
    assert proc.returncode == expect_rc, f"{script} rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[0])


class Service:
    """A long-running entry point whose first stdout line is its ready JSON."""

    def __init__(self, script: str, *args: str, env: dict | None = None, timeout: float = 60):
        self.log = tempfile.NamedTemporaryFile(prefix=f"{script}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, script), *args], stdout=subprocess.PIPE, stderr=self.log,
            text=True, env={**os.environ, **(env or {})})
        deadline = time.time() + timeout
        while True:
            remaining = deadline - time.time()
            if remaining <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{script} did not become ready; log:\n{self.log_text()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(remaining, 0.5))
            if ready:
                line = self.proc.stdout.readline()
                if line:
                    self.info = json.loads(line)
                    self.url = self.info["url"]
                    return

    def log_text(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as fh:
            return fh.read()[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http_json(method: str, url: str, body: object = None) -> tuple[int, dict, dict]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def assert_settled(url: str, tx: str, payer: str, pay_to: str, units: int) -> None:
    receipt = wait_receipt(url, tx)
    assert int(receipt["status"], 16) == 1, receipt
    transfers = [lg for lg in receipt["logs"]
                 if lg["address"].lower() == USDC.lower() and lg["topics"][0] == TRANSFER_TOPIC]
    assert len(transfers) == 1, receipt["logs"]
    lg = transfers[0]
    assert lg["topics"][1][-40:] == payer[2:].lower()
    assert lg["topics"][2][-40:] == pay_to[2:].lower()
    assert int(lg["data"], 16) == units


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def devnet():
    url = os.environ.get("X402_DEVNET_URL")
    state_dir = None
    if not url:
        state_dir = tempfile.mkdtemp(prefix="x402-interop-devnet-")
        out = subprocess.run([os.path.join(DEVNET, "start.sh"), "--port", str(free_port()),
                              "--state-dir", state_dir], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        url = out.stdout.strip().splitlines()[-1]
    try:
        accounts = rpc(url, "devnet_accounts")
        assert int(rpc(url, "eth_chainId"), 16) == 84532
        yield {"url": url, "accounts": accounts}
    finally:
        if state_dir:
            subprocess.run([os.path.join(DEVNET, "stop.sh"), "--state-dir", state_dir],
                           capture_output=True, timeout=60)
            shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def facilitator_key(devnet):
    """A fresh facilitator key with 1 ETH for gas (sent from dev account 9)."""
    from eth_account import Account

    url = devnet["url"]
    address, key = new_account()
    funder = devnet["accounts"]["accounts"][9]
    tx = {"to": address, "value": 10**18, "gas": 21000, "chainId": 84532,
          "nonce": int(rpc(url, "eth_getTransactionCount", [funder["address"], "pending"]), 16),
          "maxFeePerGas": 2 * int(rpc(url, "eth_gasPrice"), 16) + 10**9, "maxPriorityFeePerGas": 10**6}
    raw = Account.sign_transaction(tx, funder["privateKey"]).raw_transaction
    h = rpc(url, "eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
    assert int(wait_receipt(url, h)["status"], 16) == 1
    return {"address": address, "key": key}


@pytest.fixture()
def payer(devnet):
    """A fresh payer holding exactly 1 USDC (minted). It needs no ETH: payments are gasless."""
    url = devnet["url"]
    address, key = new_account()
    h = rpc(url, "devnet_mint", [address, "1000000"])
    assert int(wait_receipt(url, h)["status"], 16) == 1
    assert usdc_balance(url, address) == 1_000_000
    return {"address": address, "key": key, "env": {"X402_TEST_PAYER_KEY": key}}


@pytest.fixture()
def pay_to():
    return new_account()[0]


@pytest.fixture(scope="session")
def facilitator(devnet, facilitator_key):
    svc = Service("py_facilitator.py", "--port", "0", "--rpc-url", devnet["url"],
                  "--key-env", "X402_TEST_FAC_KEY", env={"X402_TEST_FAC_KEY": facilitator_key["key"]})
    yield svc
    svc.stop()


@pytest.fixture()
def seller(facilitator, pay_to):
    svc = Service("py_server.py", "--port", "0", "--facilitator-url", facilitator.url,
                  "--pay-to", pay_to, "--price", PRICE)
    yield svc
    svc.stop()


def payment_required_v2(pay_to: str, amount: int = PRICE_UNITS) -> dict:
    return {"x402Version": 2, "error": "Payment required",
            "resource": {"url": "http://127.0.0.1:9/weather", "description": "", "mimeType": ""},
            "accepts": [{"scheme": "exact", "network": NETWORK, "amount": str(amount), "asset": USDC,
                         "payTo": pay_to, "maxTimeoutSeconds": 300,
                         "extra": {"name": "USDC", "version": "2"}}]}


def payment_required_v1(pay_to: str, amount: int = PRICE_UNITS) -> dict:
    return {"x402Version": 1, "error": "X-PAYMENT header is required",
            "accepts": [{"scheme": "exact", "network": "base-sepolia", "maxAmountRequired": str(amount),
                         "resource": "http://127.0.0.1:9/weather", "description": "weather",
                         "mimeType": "application/json", "payTo": pay_to, "maxTimeoutSeconds": 60,
                         "asset": USDC, "extra": {"name": "USDC", "version": "2"}}]}


# --------------------------------------------------------------------------- tests


def test_facilitator_supported_and_health(facilitator, facilitator_key):
    status, _, supported = http_json("GET", facilitator.url + "/supported")
    assert status == 200
    kinds = {(k["x402Version"], k["scheme"], k["network"]) for k in supported["kinds"]}
    assert kinds == {(2, "exact", NETWORK), (1, "exact", "base-sepolia")}
    assert supported["signers"] == {"eip155:*": [facilitator_key["address"]]}
    assert supported["extensions"] == []
    status, _, health = http_json("GET", facilitator.url + "/health")
    assert status == 200 and health["status"] == "ok"
    assert facilitator.info["signer"] == facilitator_key["address"]


def test_seller_unpaid_request_gets_402(seller, pay_to):
    req = urllib.request.Request(seller.info["paidUrl"])
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 402
    assert json.loads(e.value.read()) == {}
    pr = json.loads(base64.b64decode(e.value.headers["PAYMENT-REQUIRED"]))
    assert pr["x402Version"] == 2 and pr["error"] == "Payment required"
    assert pr["resource"]["url"] == seller.info["paidUrl"]
    assert pr["accepts"] == [{"scheme": "exact", "network": NETWORK, "asset": USDC,
                              "amount": str(PRICE_UNITS), "payTo": pay_to, "maxTimeoutSeconds": 300,
                              "extra": {"name": "USDC", "version": "2"}}]
    status, _, body = http_json("GET", seller.url + "/health")
    assert status == 200 and body == {"status": "ok"}


def test_end_to_end_client_server_facilitator(devnet, seller, payer, pay_to):
    url = devnet["url"]
    before_payer = usdc_balance(url, payer["address"])
    before_payee = usdc_balance(url, pay_to)
    out = run_tool("py_client.py", "--key-env", "X402_TEST_PAYER_KEY", seller.info["paidUrl"],
                   env=payer["env"])
    assert out["status"] == 200, out
    assert out["body"] == {"report": {"weather": "sunny", "temperature": 70}}
    pr = out["paymentResponse"]
    assert pr["success"] is True and pr["network"] == NETWORK
    assert pr["payer"] == payer["address"]
    assert pr["transaction"].startswith("0x") and len(pr["transaction"]) == 66
    assert_settled(url, pr["transaction"], payer["address"], pay_to, PRICE_UNITS)
    assert usdc_balance(url, payer["address"]) == before_payer - PRICE_UNITS
    assert usdc_balance(url, pay_to) == before_payee + PRICE_UNITS
    sent = out["paymentPayload"]
    assert sent["x402Version"] == 2 and sent["accepted"]["payTo"] == pay_to
    assert sent["payload"]["authorization"]["value"] == str(PRICE_UNITS)


def test_sign_then_check_v2(devnet, facilitator_key, payer, pay_to):
    url = devnet["url"]
    env = {**payer["env"], "X402_TEST_FAC_KEY": facilitator_key["key"]}
    signed = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", "--envelope",
                      stdin={"x402Version": 2, "paymentRequired": payment_required_v2(pay_to)}, env=env)
    payload = signed["paymentPayload"]
    assert signed["header"]["name"] == "PAYMENT-SIGNATURE"
    assert json.loads(base64.b64decode(signed["header"]["value"])) == payload
    assert payload["accepted"] == payment_required_v2(pay_to)["accepts"][0]
    auth = payload["payload"]["authorization"]
    assert auth["from"] == payer["address"] and auth["to"] == pay_to
    assert len(payload["payload"]["signature"]) == 132

    # bare payload mode prints the same shape
    bare = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY",
                    stdin=payment_required_v2(pay_to), env=env)
    assert set(bare) == set(payload) and bare["payload"]["authorization"]["nonce"] != auth["nonce"]

    check = ["--rpc-url", url, "--key-env", "X402_TEST_FAC_KEY"]
    verified = run_tool("py_check.py", "verify", "--rpc-url", url, stdin=signed)  # throwaway key
    assert verified == {"isValid": True, "payer": payer["address"]}
    settled = run_tool("py_check.py", "settle", *check, stdin=signed, env=env)
    assert settled["success"] is True and settled["network"] == NETWORK, settled
    assert_settled(url, settled["transaction"], payer["address"], pay_to, PRICE_UNITS)
    assert usdc_balance(url, pay_to) == PRICE_UNITS
    assert usdc_balance(url, payer["address"]) == 1_000_000 - PRICE_UNITS

    replay = run_tool("py_check.py", "verify", *check, stdin=signed, env=env)
    assert replay["isValid"] is False
    assert replay["invalidReason"] == "invalid_exact_evm_nonce_already_used"


def test_sign_then_check_v1(devnet, facilitator_key, payer, pay_to):
    url = devnet["url"]
    env = {**payer["env"], "X402_TEST_FAC_KEY": facilitator_key["key"]}
    signed = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", "--envelope",
                      stdin=payment_required_v1(pay_to), env=env)
    payload = signed["paymentPayload"]
    assert signed["header"]["name"] == "X-PAYMENT"
    assert payload["x402Version"] == 1 and payload["scheme"] == "exact"
    assert payload["network"] == "base-sepolia"
    assert set(payload) == {"x402Version", "scheme", "network", "payload"}
    assert signed["paymentRequirements"]["maxAmountRequired"] == str(PRICE_UNITS)
    auth = payload["payload"]["authorization"]
    assert int(auth["validBefore"]) - int(auth["validAfter"]) == 600 + 60  # v1: now-600 .. now+timeout

    check = ["--rpc-url", url, "--key-env", "X402_TEST_FAC_KEY"]
    assert run_tool("py_check.py", "verify", *check, stdin=signed, env=env) == \
        {"isValid": True, "payer": payer["address"]}
    settled = run_tool("py_check.py", "settle", *check, stdin=signed, env=env)
    assert settled["success"] is True and settled["network"] == "base-sepolia", settled
    assert_settled(url, settled["transaction"], payer["address"], pay_to, PRICE_UNITS)
    assert usdc_balance(url, pay_to) == PRICE_UNITS


def test_http_facilitator_v1_and_v2(devnet, facilitator, payer, pay_to):
    url = devnet["url"]
    for version, pr in ((1, payment_required_v1(pay_to)), (2, payment_required_v2(pay_to))):
        signed = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", "--envelope",
                          stdin=pr, env=payer["env"])
        body = {"x402Version": version, "paymentPayload": signed["paymentPayload"],
                "paymentRequirements": signed["paymentRequirements"]}
        status, _, verified = http_json("POST", facilitator.url + "/verify", body)
        assert (status, verified) == (200, {"isValid": True, "payer": payer["address"]})
        status, _, settled = http_json("POST", facilitator.url + "/settle", body)
        assert status == 200 and settled["success"] is True, settled
        assert settled["network"] == ("base-sepolia" if version == 1 else NETWORK)
        assert_settled(url, settled["transaction"], payer["address"], pay_to, PRICE_UNITS)
        # a replayed settle: the SDK re-verifies without simulation and broadcasts; it fails on chain
        status, _, again = http_json("POST", facilitator.url + "/settle", body)
        assert status == 200 and again["success"] is False, again
    assert usdc_balance(url, pay_to) == 2 * PRICE_UNITS


def test_http_facilitator_negative_and_malformed(facilitator, payer, pay_to):
    signed = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", "--envelope",
                      stdin=payment_required_v2(pay_to), env=payer["env"])
    wrong_amount = json.loads(json.dumps(signed))
    wrong_amount["paymentRequirements"]["amount"] = str(PRICE_UNITS + 1)
    status, _, out = http_json("POST", facilitator.url + "/verify", wrong_amount)
    assert status == 200 and out["isValid"] is False
    assert out["invalidReason"] == "invalid_exact_evm_payload_authorization_value_mismatch"
    assert out["payer"] == payer["address"]
    status, _, out = http_json("POST", facilitator.url + "/settle", wrong_amount)
    assert status == 200 and out["success"] is False and out["transaction"] == ""
    assert out["errorReason"] == "invalid_exact_evm_payload_authorization_value_mismatch"

    wrong_to = json.loads(json.dumps(signed))
    wrong_to["paymentRequirements"]["payTo"] = new_account()[0]
    status, _, out = http_json("POST", facilitator.url + "/verify", wrong_to)
    assert (status, out["invalidReason"]) == (200, "invalid_exact_evm_payload_recipient_mismatch")

    assert http_json("POST", facilitator.url + "/verify", {})[0] == 400
    assert http_json("POST", facilitator.url + "/verify", b"not json")[0] == 400
    status, _, out = http_json("POST", facilitator.url + "/verify",
                               {"paymentPayload": {"x402Version": 7}, "paymentRequirements": {}})
    assert status == 400 and "error" in out


def test_sdk_client_spend_controls(payer, pay_to):
    over = payment_required_v2(pay_to, amount=2_000_000)  # $2 > the SDK's default $1 cap
    refused = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", stdin=over,
                       env=payer["env"], expect_rc=2)
    assert "spend_controls" in refused["error"]
    ok = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", "--max-amount", "$5",
                  stdin=over, env=payer["env"])
    assert ok["payload"]["authorization"]["value"] == "2000000"
    other_asset = payment_required_v2(pay_to)
    other_asset["accepts"][0]["asset"] = "0x" + "11" * 20
    refused = run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", stdin=other_asset,
                       env=payer["env"], expect_rc=2)
    assert "spend_controls" in refused["error"]
    run_tool("py_sign.py", "--key-env", "X402_TEST_PAYER_KEY", "--no-spend-controls",
             stdin=other_asset, env=payer["env"])


def test_key_is_never_taken_from_argv(payer, tmp_path):
    out = run_tool("py_sign.py", stdin=payment_required_v2(new_account()[0]), expect_rc=2)
    assert "private key is required" in out["error"]
    key_file = tmp_path / "payer.key"
    key_file.write_text(payer["key"][2:] + "\n")
    signed = run_tool("py_sign.py", "--key-file", str(key_file), stdin=payment_required_v2(new_account()[0]))
    assert signed["payload"]["authorization"]["from"] == payer["address"]


class FakeFacilitator:
    """A stdlib HTTP facilitator with canned answers, to pin down how the SDK's seller reacts."""

    def __init__(self, verify: tuple[int, dict], settle: tuple[int, dict]):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        answers = {"/verify": verify, "/settle": settle,
                   "/supported": (200, {"kinds": [{"x402Version": 2, "scheme": "exact", "network": NETWORK}],
                                        "extensions": [], "signers": {}})}

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                if self.command == "POST":
                    self.rfile.read(int(self.headers.get("Content-Length", 0)))
                code, obj = answers.get(self.path, (404, {"error": "not found"}))
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("case", ["verify_400", "verify_200_invalid", "settle_200_failed"])
def test_sdk_seller_reaction_to_facilitator_answers(case, payer, pay_to):
    """Documents the SDK seller's behaviour that a Swift facilitator must fit (see README)."""
    invalid = {"isValid": False, "invalidReason": "invalid_exact_evm_payload_signature",
               "payer": payer["address"]}
    valid = {"isValid": True, "payer": payer["address"]}
    failed = {"success": False, "errorReason": "transaction_failed", "transaction": "",
              "network": NETWORK, "payer": payer["address"]}
    verify, settle = {"verify_400": ((400, invalid), (200, failed)),
                      "verify_200_invalid": ((200, invalid), (200, failed)),
                      "settle_200_failed": ((200, valid), (200, failed))}[case]
    fake = FakeFacilitator(verify, settle)
    seller = Service("py_server.py", "--port", "0", "--facilitator-url", fake.url, "--pay-to", pay_to)
    try:
        out = run_tool("py_client.py", "--key-env", "X402_TEST_PAYER_KEY", seller.info["paidUrl"],
                       env=payer["env"])
    finally:
        seller.stop()
        fake.close()
    assert out["status"] == 402 and out["body"] == {}
    if case == "verify_400":
        # a non-200 VerifyResponse is NOT parsed: the exception text becomes the 402's error
        assert out["paymentRequired"]["error"].startswith("Facilitator verify failed (400): ")
        assert out["paymentResponse"] is None
    elif case == "verify_200_invalid":
        assert out["paymentRequired"]["error"] == "invalid_exact_evm_payload_signature"
        assert out["paymentResponse"] is None
    else:
        assert out["paymentRequired"] is None
        assert out["paymentResponse"]["success"] is False
        assert out["paymentResponse"]["errorReason"] == "transaction_failed"
        # PAYMENT-RESPONSE is json.dumps() output: ", " and ": " separators, not compact
        assert b'"success": false' in base64.b64decode(out["headers"]["PAYMENT-RESPONSE"])
