"""x402 interop matrix: client x resource server x facilitator, each Swift or the official
Python SDK (x402==2.25.0), on the local EVM devnet and on the local Solana svmnet, for protocol
v2 and v1.

Test infrastructure only (runs in Tools/interop's venv). See Tools/matrix/README.md.

Every row runs on its own fresh payer (minted exactly 1 USDC) and is run sequentially, so the
balance deltas it checks are exact even on a devnet shared with other tests. A row passes when:

* the client exits 0 with HTTP 200 and the paid body;
* the settlement header it received (``PAYMENT-RESPONSE`` for v2, ``X-PAYMENT-RESPONSE`` for v1),
  decoded here from base64 JSON, says success, names the payer, the version's network
  (``eip155:84532`` / ``base-sepolia``) and a transaction hash;
* that transaction is mined with status 1 and carries exactly one USDC ``Transfer`` log
  payer -> payee for the price;
* the payer's USDC balance fell and the payee's rose by exactly the price.

On Solana (the svmnet) the same holds with a fresh payer keypair (1 USDC in its ATA, written with
``svmnet_createTokenAccount``) and a fresh payee wallet (an empty ATA) per row; the settlement
header names ``solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1`` / ``solana-devnet`` and a transaction
signature whose status (``getSignatureStatuses``) is confirmed without ``err``.

A role is a command line template, so any role can be swapped for another implementation
(``--role NAME=TEMPLATE``); see ROLES below for the placeholders.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from eth_account import Account

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
INTEROP = os.path.join(ROOT, "Tools", "interop")
PY = sys.executable
PRICE_DOLLARS = "$0.01"
PRICE = 10_000  # atomic USDC units for $0.01
NETWORK_V2 = "eip155:84532"
NETWORK_V1 = "base-sepolia"
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

# Command templates. Placeholders: {bin} built Swift products, {py} the interop venv's python,
# {interop} Tools/interop, {port}, {rpc}, {network}, {key_file}, {facilitator_url}, {pay_to},
# {price}, {url}. Keys are passed as files only (never on the command line).
# A seller or client template ending in the version suffix is chosen by version: NAME.v1 / NAME.v2;
# "NAME.v1" set to "" means the implementation cannot do v1 (the reason goes in UNSUPPORTED).
ROLES: dict[str, str] = {
    # The per-payer rate limit is off so that the replay row (20 copies of one payment) tests the
    # settlement rule itself, not the limiter (which would refuse most copies at /verify already).
    "facilitator.swift": "{bin}/x402 facilitator serve --network {network}={rpc} --signer-key-file {key_file} "
                         "--port {port} --database memory --log-level warning --rate-limit-per-payer 0/0",
    "facilitator.python": "{py} {interop}/py_facilitator.py --port {port} --rpc-url {rpc} --key-file {key_file}",
    "server.swift.v2": "{bin}/example-hummingbird-seller --port {port} --facilitator {facilitator_url} "
                       "--pay-to {pay_to} --price {price} --network {network}",
    "server.swift.v1": "{bin}/example-hummingbird-seller --port {port} --facilitator {facilitator_url} "
                       "--pay-to {pay_to} --price {price} --network {network} --v1",
    "server.python.v2": "{py} {interop}/py_server.py --port {port} --facilitator-url {facilitator_url} "
                        "--pay-to {pay_to} --price {price} --network {network}",
    "server.python.v1": "",
    "client.swift.v2": "{bin}/example-buyer --key-file {key_file} {url}",
    "client.swift.v1": "{bin}/example-buyer --key-file {key_file} --v1 {url}",
    "client.python.v2": "{py} {interop}/py_client.py --key-file {key_file} {url}",
    "client.python.v1": "{py} {interop}/py_client.py --key-file {key_file} {url}",
}
# The same roles on Solana (--role solana.NAME=TEMPLATE). {key_file} is a 0600 file holding a
# keypair (base58 of its 64 bytes): the payer's for a client, a fee payer from the svmnet state
# for a facilitator; {rpc} is the svmnet.
SVM_ROLES: dict[str, str] = {
    "facilitator.swift": "{bin}/x402 facilitator serve --network {network}={rpc} --svm-signer-key-file {key_file} "
                         "--port {port} --database memory --log-level warning --rate-limit-per-payer 0/0",
    "facilitator.python": "{py} {interop}/py_facilitator.py --port {port} --network {network} --v1-network solana-devnet "
                          "--svm-rpc-url {rpc} --svm-key-file {key_file}",
    "server.swift.v2": ROLES["server.swift.v2"],
    "server.swift.v1": ROLES["server.swift.v1"],
    "server.python.v2": ROLES["server.python.v2"],
    "server.python.v1": "",
    "client.swift.v2": "{bin}/example-buyer --svm-key-file {key_file} --svm-rpc-url {rpc} {url}",
    "client.swift.v1": "{bin}/example-buyer --svm-key-file {key_file} --svm-rpc-url {rpc} --v1 {url}",
    "client.python.v2": "{py} {interop}/py_client.py --svm-key-file {key_file} --svm-rpc-url {rpc} {url}",
    "client.python.v1": "{py} {interop}/py_client.py --svm-key-file {key_file} --svm-rpc-url {rpc} {url}",
    "sign.python": "{py} {interop}/py_sign.py --svm-key-file {key_file} --svm-rpc-url {rpc} --envelope",
}
ROLES["sign.python"] = "{py} {interop}/py_sign.py --key-file {key_file} --envelope"
# Why a role has no command for a version (the full reason is in Tools/matrix/README.md): the SDK's
# seller (x402 2.25.0) reads only PAYMENT-SIGNATURE and rejects payloads whose x402Version is not 2.
UNSUPPORTED = {
    "server.python.v1": "the Python SDK seller is v2 only (Tools/matrix/README.md)",
}


class Miss(Exception):
    """A row's check failed."""


# ---------------------------------------------------------------- chain

def rpc_call(url: str, method: str, params: list):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        answer = json.load(r)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def write_secret(workdir: str, name: str, text: str) -> str:
    """A 0600 file holding `text` (a key); returns its path."""
    path = os.path.join(workdir, f"{name}.key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return path


class Chain:
    """The EVM devnet."""
    family = "evm"
    networks = {"v2": NETWORK_V2, "v1": NETWORK_V1}

    def __init__(self, rpc: str, state: dict):
        self.roles = ROLES
        self.rpc = rpc
        self.token = state["token"]["address"] if isinstance(state.get("token"), dict) else state["token"]
        self._id = 0

    def call(self, method: str, params: list):
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).encode()
        req = urllib.request.Request(self.rpc, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            answer = json.load(r)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def usdc(self, address: str) -> int:
        data = "0x70a08231" + address.lower().removeprefix("0x").rjust(64, "0")
        return int(self.call("eth_call", [{"to": self.token, "data": data}, "latest"]), 16)

    def receipt(self, tx: str, wait: float = 30.0) -> dict:
        deadline = time.time() + wait
        while True:
            r = self.call("eth_getTransactionReceipt", [tx])
            if r is not None:
                return r
            if time.time() > deadline:
                raise Miss(f"transaction {tx} not mined within {wait:.0f} s")
            time.sleep(0.2)

    def fresh_key(self, workdir: str, name: str, *, usdc: int = 0, eth_wei: int = 0) -> tuple[str, str]:
        """A new key written to a 0600 file; funded with minted USDC and/or ETH. Returns (address, path)."""
        account = Account.from_key("0x" + secrets.token_hex(32))
        path = os.path.join(workdir, f"{name}.key")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(account.key.hex() + "\n")
        if eth_wei:
            self.call("devnet_setBalance", [account.address, str(eth_wei)])
        if usdc:
            self.receipt(self.call("devnet_mint", [account.address, str(usdc)]))
        return account.address, path


    def fresh_payer(self, workdir: str, name: str) -> tuple[str, str]:
        return self.fresh_key(workdir, name, usdc=1_000_000)

    def fresh_payee(self) -> str:
        return Account.from_key("0x" + secrets.token_hex(32)).address

    def facilitator_key(self, workdir: str, impl: str) -> str:
        return self.fresh_key(workdir, f"facilitator-{impl}", eth_wei=10 * 10**18)[1]

    def same_account(self, a: str, b: str) -> bool:
        return a.lower() == b.lower()

    def check_transaction(self, tx, payer: str, payee: str) -> None:
        if not (isinstance(tx, str) and tx.startswith("0x") and len(tx) == 66):
            raise Miss(f"transaction {tx!r}")
        mined = self.receipt(tx)
        if int(mined["status"], 16) != 1:
            raise Miss(f"transaction {tx} reverted")
        transfers = [log for log in mined["logs"] if log["address"].lower() == self.token.lower()
                     and log["topics"] and log["topics"][0] == TRANSFER_TOPIC]
        expected = ("0x" + payer.lower()[2:].rjust(64, "0"), "0x" + payee.lower()[2:].rjust(64, "0"), PRICE)
        seen = [(l["topics"][1].lower(), l["topics"][2].lower(), int(l["data"], 16)) for l in transfers]
        if seen != [expected]:
            raise Miss(f"transaction {tx} transfers {seen}, expected one payer->payee of {PRICE}")


SVM_NETWORK_V2 = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
SVM_NETWORK_V1 = "solana-devnet"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58_decode(text: str) -> bytes:
    n = 0
    for ch in text:
        i = BASE58.find(ch)
        if i < 0:
            raise ValueError(f"not base58: {ch!r}")
        n = n * 58 + i
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


class SvmChain:
    """The Solana svmnet (Tools/svmnet): USDC is the SPL Token mint at devnet USDC's address."""
    family = "solana"
    networks = {"v2": SVM_NETWORK_V2, "v1": SVM_NETWORK_V1}

    def __init__(self, rpc: str, state: dict):
        self.roles = SVM_ROLES
        self.rpc = rpc
        self.usdc_mint = state["mints"]["usdc"]["address"]
        self.fee_payers = [f["secretKey"] for f in state["facilitators"]]
        if not self.fee_payers:
            raise RuntimeError("the svmnet state has no facilitators (fee payers)")
        self.atas: dict[str, str] = {}

    def call(self, method: str, params: list):
        return rpc_call(self.rpc, method, params)

    def token_account(self, owner: str, amount: int) -> None:
        self.atas[owner] = self.call("svmnet_createTokenAccount", [owner, self.usdc_mint, str(amount)])

    def usdc(self, owner: str) -> int:
        value = self.call("getTokenAccountBalance", [self.atas[owner], {"commitment": "confirmed"}])
        return int(value["value"]["amount"])

    def fresh_payer(self, workdir: str, name: str) -> tuple[str, str]:
        """A new keypair (base58 of its 64 bytes in a 0600 file) with 1 USDC in its ATA."""
        from solders.keypair import Keypair
        keypair = Keypair()
        owner = str(keypair.pubkey())
        path = write_secret(workdir, name, str(keypair))
        self.token_account(owner, 1_000_000)
        return owner, path

    def fresh_payee(self) -> str:
        from solders.keypair import Keypair
        owner = str(Keypair().pubkey())
        self.token_account(owner, 0)
        return owner

    def facilitator_key(self, workdir: str, impl: str) -> str:
        # The fee payers are the svmnet's (shared, funded with SOL); one per implementation.
        index = 0 if impl == "swift" else 1 % len(self.fee_payers)
        return write_secret(workdir, f"facilitator-{impl}", self.fee_payers[index])

    def same_account(self, a: str, b: str) -> bool:
        return a == b

    def check_transaction(self, tx, payer: str, payee: str) -> None:
        try:
            ok = isinstance(tx, str) and len(base58_decode(tx)) == 64
        except ValueError:
            ok = False
        if not ok:
            raise Miss(f"transaction {tx!r} is not a base58 signature")
        deadline = time.time() + 30
        while True:
            status = self.call("getSignatureStatuses", [[tx], {"searchTransactionHistory": True}])["value"][0]
            if status is not None and status.get("confirmationStatus") in ("confirmed", "finalized"):
                break
            if time.time() > deadline:
                raise Miss(f"signature {tx} not confirmed within 30 s: {status}")
            time.sleep(0.2)
        if status.get("err") is not None:
            raise Miss(f"signature {tx} failed: {status['err']}")


# ---------------------------------------------------------------- processes

@dataclass
class Service:
    name: str
    url: str
    proc: subprocess.Popen
    log: str


@dataclass
class Session:
    args: argparse.Namespace
    chain: Chain
    workdir: str
    services: list[Service] = field(default_factory=list)
    next_port: int = 0

    def port(self) -> int:
        while True:
            p = self.next_port
            self.next_port += 1
            if p > self.args.port_max:
                raise RuntimeError("out of ports")
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                    return p
                except OSError:
                    continue

    def expand(self, template: str, **values) -> list[str]:
        values = {"bin": self.args.bin, "py": PY, "interop": INTEROP, "rpc": self.chain.rpc, **values}
        return [part.format(**values) for part in shlex.split(template)]

    def start(self, name: str, template: str, ready_path: str, **values) -> Service:
        port = self.port()
        argv = self.expand(template, port=port, **values)
        log = os.path.join(self.workdir, f"{name}.log")
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        service = Service(name, f"http://127.0.0.1:{port}", proc, log)
        self.services.append(service)
        deadline = time.time() + self.args.start_timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: {tail(log)}")
            try:
                urllib.request.urlopen(service.url + ready_path, timeout=2).close()
                return service
            except urllib.error.HTTPError:
                return service  # any HTTP answer (e.g. 402) means it is up
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        raise RuntimeError(f"{name} not ready within {self.args.start_timeout} s: {tail(log)}")

    def stop_all(self) -> None:
        for s in reversed(self.services):
            if s.proc.poll() is None:
                s.proc.send_signal(signal.SIGTERM)
        for s in reversed(self.services):
            try:
                s.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                s.proc.wait()
        self.services.clear()


def tail(path: str, n: int = 15) -> str:
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------- one row

def settlement_header(output: dict) -> tuple[str, str] | None:
    """(header name, raw value) of the settlement header in a client's JSON result."""
    pair = output.get("paymentResponseHeader")
    if isinstance(pair, list) and len(pair) == 2:
        return pair[0].upper(), pair[1]
    headers = {k.upper(): v for k, v in (output.get("headers") or {}).items()}
    for name in ("PAYMENT-RESPONSE", "X-PAYMENT-RESPONSE"):
        if name in headers:
            return name, headers[name]
    return None


def run_client(session: Session, template: str, url: str, key_file: str) -> dict:
    argv = session.expand(template, url=url, key_file=key_file)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=session.args.client_timeout)
    except subprocess.TimeoutExpired:
        raise Miss(f"client timed out after {session.args.client_timeout} s")
    lines = [l for l in done.stdout.strip().splitlines() if l.startswith("{")]
    if done.returncode != 0 or not lines:
        raise Miss(f"client exit {done.returncode}: {(done.stdout + done.stderr).strip()[-400:]}")
    return json.loads(lines[-1])


def check_row(session: Session, version: str, client_template: str, seller_url: str, payee: str) -> str:
    chain = session.chain
    payer, key_file = chain.fresh_payer(session.workdir, f"payer-{secrets.token_hex(4)}")
    payer_before, payee_before = chain.usdc(payer), chain.usdc(payee)
    out = run_client(session, client_template, seller_url + "/weather", key_file)
    if out.get("status") != 200:
        raise Miss(f"status {out.get('status')}: {json.dumps(out)[:300]}")
    if "sunny" not in json.dumps(out.get("body")):
        raise Miss(f"unexpected body {out.get('body')!r}")
    found = settlement_header(out)
    expected_name = "PAYMENT-RESPONSE" if version == "v2" else "X-PAYMENT-RESPONSE"
    if found is None:
        raise Miss("no settlement header")
    name, raw = found
    if name != expected_name:
        raise Miss(f"settlement header {name}, expected {expected_name}")
    try:
        receipt = json.loads(base64.b64decode(raw))
    except ValueError as e:
        raise Miss(f"{name} is not base64 JSON: {e}")
    network = chain.networks[version]
    tx = receipt.get("transaction", "")
    if receipt.get("success") is not True:
        raise Miss(f"{name}: {receipt}")
    if receipt.get("network") != network:
        raise Miss(f"{name} network {receipt.get('network')!r}, expected {network}")
    if not chain.same_account(str(receipt.get("payer", "")), payer):
        raise Miss(f"{name} payer {receipt.get('payer')!r}, expected {payer}")
    chain.check_transaction(tx, payer, payee)
    payer_delta, payee_delta = payer_before - chain.usdc(payer), chain.usdc(payee) - payee_before
    if (payer_delta, payee_delta) != (PRICE, PRICE):
        raise Miss(f"balances moved payer -{payer_delta} payee +{payee_delta}, expected {PRICE} each")
    return tx


REPLAYS = 20


def check_replay(session: Session, seller_url: str, payee: str) -> str:
    """One payment signed by the SDK client, sent REPLAYS times at once to the SDK seller (which
    keeps no replay store, so every copy reaches /settle): exactly one copy may get the content,
    and the money moves once."""
    chain = session.chain
    payer, key_file = chain.fresh_payer(session.workdir, f"replayer-{secrets.token_hex(4)}")
    payer_before, payee_before = chain.usdc(payer), chain.usdc(payee)
    url = seller_url + "/weather"
    try:
        urllib.request.urlopen(url, timeout=30)
        raise Miss("unpaid request was served")
    except urllib.error.HTTPError as e:
        if e.code != 402:
            raise Miss(f"unpaid request answered {e.code}")
        required = e.headers.get("PAYMENT-REQUIRED")
    if not required:
        raise Miss("no PAYMENT-REQUIRED header")
    signer = session.expand(chain.roles["sign.python"], key_file=key_file)
    done = subprocess.run(signer, input=json.dumps({"paymentRequiredHeader": required}), capture_output=True, text=True,
                          timeout=session.args.client_timeout)
    if done.returncode != 0:
        raise Miss(f"py_sign exit {done.returncode}: {done.stderr.strip()[-300:]}")
    header = json.loads(done.stdout)["header"]

    def attempt(_: int) -> tuple[int, str]:
        request = urllib.request.Request(url, headers={header["name"]: header["value"]})
        try:
            with urllib.request.urlopen(request, timeout=session.args.client_timeout) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            detail = e.headers.get("PAYMENT-RESPONSE") or e.headers.get("PAYMENT-REQUIRED") or ""
            try:
                detail = json.loads(base64.b64decode(detail)).get("errorReason") or json.loads(base64.b64decode(detail)).get("error") or ""
            except ValueError:
                pass
            return e.code, str(detail)

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=REPLAYS) as pool:
        answers = list(pool.map(attempt, range(REPLAYS)))
    served = [a for a in answers if a[0] == 200 and "sunny" in a[1]]
    if len(served) != 1:
        refusals = sorted({f"{a[0]} {a[1]}" for a in answers if a not in served})
        raise Miss(f"{len(served)} of {REPLAYS} copies were served (refusals: {refusals}), expected 1")
    payer_delta, payee_delta = payer_before - chain.usdc(payer), chain.usdc(payee) - payee_before
    if (payer_delta, payee_delta) != (PRICE, PRICE):
        raise Miss(f"balances moved payer -{payer_delta} payee +{payee_delta}, expected {PRICE} each")
    return f"1/{REPLAYS} served"


# ---------------------------------------------------------------- the matrix

def run_chain(session: Session, versions: list[str], impls: list[str], rows: list) -> None:
    """Every applicable row on session.chain, appended to `rows` as (family, combo, version, result, tx)."""
    args, chain, workdir = session.args, session.chain, session.workdir
    roles, family = chain.roles, chain.family

    def add(combo: str, version: str, result: str, tx: str) -> None:
        rows.append((family, combo, version, result, tx))
        print(f"  {family:<6} {combo:<28} {version}  {result[:90]}", file=sys.stderr, flush=True)

    for fac_impl in impls:
        combos = [(c, s, v) for v in versions for s in impls for c in impls
                  if not args.only or re.search(args.only, f"{family}:{c}/{s}/{fac_impl}")]
        replay_wanted = (fac_impl == "swift" and "v2" in versions and "python" in impls
                         and (not args.only or bool(re.search(args.only, f"{family}:replay/python/{fac_impl}"))))
        if not combos and not replay_wanted:
            continue
        fac_key = chain.facilitator_key(workdir, fac_impl)
        try:
            facilitator = session.start(f"{family}-facilitator-{fac_impl}", roles[f"facilitator.{fac_impl}"], "/supported",
                                        key_file=fac_key, network=chain.networks["v2"])
        except RuntimeError as e:
            for c, s, v in combos:
                add(f"{c} / {s} / {fac_impl}", v, f"FAIL: facilitator: {e}"[:300], "")
            continue
        sellers: dict[tuple[str, str], tuple[Service, str] | str] = {}

        def seller_for(seller_impl: str, version: str) -> tuple[Service, str] | str:
            key = (seller_impl, version)
            if key not in sellers:
                payee = chain.fresh_payee()
                try:
                    svc = session.start(f"{family}-seller-{seller_impl}-{version}-{fac_impl}", roles[f"server.{seller_impl}.{version}"],
                                        "/weather", facilitator_url=facilitator.url, pay_to=payee, price=PRICE_DOLLARS,
                                        network=chain.networks["v2"])
                    sellers[key] = (svc, payee)
                except RuntimeError as e:
                    sellers[key] = str(e)
            return sellers[key]

        for client_impl, seller_impl, version in combos:
            combo = f"{client_impl} / {seller_impl} / {fac_impl}"
            seller_role, client_role = f"server.{seller_impl}.{version}", f"client.{client_impl}.{version}"
            missing = [role for role in (seller_role, client_role) if not roles.get(role)]
            if missing:
                add(combo, version, f"N/A: {UNSUPPORTED.get(missing[0], missing[0] + ' has no command')}", "")
                continue
            seller = seller_for(seller_impl, version)
            if isinstance(seller, str):
                add(combo, version, f"FAIL: seller: {seller}"[:300], "")
                continue
            t0 = time.time()
            try:
                tx = check_row(session, version, roles[client_role], seller[0].url, seller[1])
                add(combo, version, f"PASS ({time.time() - t0:.1f} s)", tx)
            except Miss as e:
                add(combo, version, f"FAIL: {e}", "")
            except Exception as e:  # noqa: BLE001 — an infrastructure error is a miss too
                add(combo, version, f"FAIL: {type(e).__name__}: {e}", "")
        # One payment replayed 20 times at once through the SDK seller (no replay store): served once.
        if replay_wanted:
            replay_combo = f"python x{REPLAYS} replay / python / {fac_impl}"
            seller = seller_for("python", "v2")
            if isinstance(seller, str):
                add(replay_combo, "v2", f"FAIL: seller: {seller}"[:300], "")
            else:
                t0 = time.time()
                try:
                    note = check_replay(session, seller[0].url, seller[1])
                    add(replay_combo, "v2", f"PASS ({time.time() - t0:.1f} s)", note)
                except Miss as e:
                    add(replay_combo, "v2", f"FAIL: {e}", "")
                except Exception as e:  # noqa: BLE001
                    add(replay_combo, "v2", f"FAIL: {type(e).__name__}: {e}", "")
        session.stop_all()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rpc-url", default=os.environ.get("X402_DEVNET_URL"), help="devnet JSON-RPC URL (env X402_DEVNET_URL)")
    p.add_argument("--state", default=os.environ.get("X402_DEVNET_STATE"),
                   help="the devnet's state dir or devnet.json (env X402_DEVNET_STATE)")
    p.add_argument("--svm-rpc-url", default=os.environ.get("X402_SVMNET_URL"),
                   help="svmnet (local Solana) JSON-RPC URL (env X402_SVMNET_URL)")
    p.add_argument("--svm-state", default=os.environ.get("X402_SVMNET_STATE"),
                   help="the svmnet's state dir or svmnet.json (env X402_SVMNET_STATE; default: ask the node, svmnet_state)")
    p.add_argument("--chains", default="",
                   help="comma-separated: evm,solana (default: every chain whose URL is given)")
    p.add_argument("--bin", required=True, help="folder holding the built x402, example-hummingbird-seller, example-buyer")
    p.add_argument("--versions", default="v2,v1", help="comma-separated: v2,v1")
    p.add_argument("--only", default="",
                   help="run only rows whose chain:client/server/facilitator matches this regex, e.g. '/python$' or '^solana:'")
    p.add_argument("--implementations", default="swift,python", help="comma-separated implementations (default swift,python)")
    p.add_argument("--port-min", type=int, default=18600)
    p.add_argument("--port-max", type=int, default=18699)
    p.add_argument("--role", action="append", default=[], metavar="NAME=TEMPLATE",
                   help="replace a role's command template, e.g. client.swift.v2='{bin}/x402 fetch --json --key-file {key_file} {url}' "
                        "(Solana roles: solana.NAME=TEMPLATE)")
    p.add_argument("--start-timeout", type=float, default=90.0)
    p.add_argument("--client-timeout", type=float, default=180.0)
    p.add_argument("--keep-logs", action="store_true", help="keep the work dir (logs, throwaway keys) and print its path")
    args = p.parse_args()
    chains_wanted = [c.strip() for c in args.chains.split(",") if c.strip()] or \
        [c for c, url in (("evm", args.rpc_url), ("solana", args.svm_rpc_url)) if url]
    if not chains_wanted or any(c not in ("evm", "solana") for c in chains_wanted):
        p.error("no chain: give --rpc-url/--state (EVM) and/or --svm-rpc-url (Solana), or --chains evm,solana")
    if "evm" in chains_wanted and (not args.rpc_url or not args.state):
        p.error("the EVM rows need --rpc-url and --state (or X402_DEVNET_URL / X402_DEVNET_STATE)")
    if "solana" in chains_wanted and not args.svm_rpc_url:
        p.error("the Solana rows need --svm-rpc-url (or X402_SVMNET_URL)")
    for item in args.role:
        name, _, template = item.partition("=")
        table, key = (SVM_ROLES, name.removeprefix("solana.")) if name.startswith("solana.") else (ROLES, name)
        if key not in table:
            p.error(f"unknown role {name}; known: {', '.join(sorted(ROLES))} (and solana.NAME for each)")
        table[key] = template
        if table is ROLES:
            UNSUPPORTED.pop(name, None)
    chains = []
    for family in chains_wanted:
        if family == "evm":
            state_path = os.path.join(args.state, "devnet.json") if os.path.isdir(args.state) else args.state
            with open(state_path) as f:
                chains.append(Chain(args.rpc_url, json.load(f)))
        else:
            if args.svm_state:
                state_path = os.path.join(args.svm_state, "svmnet.json") if os.path.isdir(args.svm_state) else args.svm_state
                with open(state_path) as f:
                    state = json.load(f)
            else:
                state = rpc_call(args.svm_rpc_url, "svmnet_state", [])
            chains.append(SvmChain(args.svm_rpc_url, state))
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    impls = [i.strip() for i in args.implementations.split(",") if i.strip()]

    workdir = tempfile.mkdtemp(prefix="x402-matrix-")
    sessions: list[Session] = []

    def on_signal(signum, _frame):
        for session in sessions:
            session.stop_all()
        sys.exit(128 + signum)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    rows: list[tuple[str, str, str, str, str]] = []
    started = time.time()
    for chain in chains:
        session = Session(args, chain, workdir, next_port=args.port_min)
        sessions.append(session)
        try:
            run_chain(session, versions, impls, rows)
        finally:
            session.stop_all()

    order = {v: i for i, v in enumerate(versions)}
    families = {c.family: i for i, c in enumerate(chains)}
    rows.sort(key=lambda r: (families.get(r[0], 9), order.get(r[2], 9), r[1]))
    header = ("chain", "client / server / facilitator", "version", "result", "tx hash / signature")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i]) for i in range(5)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    misses = [r for r in rows if r[3].startswith("FAIL")]
    passes = sum(r[3].startswith("PASS") for r in rows)
    na = sum(r[3].startswith("N/A") for r in rows)
    print(f"\n{passes} passed, {len(misses)} failed, {na} not applicable, {time.time() - started:.0f} s")
    if args.keep_logs or misses:
        for name in os.listdir(workdir):  # the throwaway keys go; the logs stay
            if name.endswith(".key"):
                os.remove(os.path.join(workdir, name))
        print(f"logs: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if misses or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
