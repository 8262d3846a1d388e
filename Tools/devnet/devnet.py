#!/usr/bin/env python3
"""Local EVM devnet for swift-x402 tests (test infrastructure, not part of the product).

An in-process py-evm chain (Prague rules) behind a small JSON-RPC 2.0 HTTP
server on 127.0.0.1:

* chain id 84532 (Base Sepolia);
* an EIP-3009 USDC (contracts/USDC.vy) at Base Sepolia's USDC address and a
  Multicall3 at its canonical address, both written into genesis state;
* deterministic, funded dev accounts (the well-known test mnemonic);
* mining rule: pending transactions are mined as soon as possible, but at
  most one block per wall-clock second; a block's timestamp is the Unix
  second it is sealed in, so block time never runs ahead of the wall clock.

Run `python devnet.py --help`. See README.md in this directory.
"""

from __future__ import annotations

import time as _time

_T_START = _time.time()  # for the start-up time report

import argparse
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import rlp
from eth.chains.base import MiningChain
from eth.constants import BLANK_ROOT_HASH, ZERO_ADDRESS
from eth.exceptions import Revert
from eth_utils import ValidationError
from eth.vm.forks.prague import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address

HERE = Path(__file__).resolve().parent
CONTRACTS_DIR = HERE / "contracts"
CACHE_DIR = HERE / ".cache"

CLIENT_VERSION = "swift-x402-devnet/0.1.0/py-evm-prague"

CHAIN_ID = 84532
NETWORK = "eip155:84532"
TOKEN_ADDRESS = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"  # Base Sepolia USDC
MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
# Hostile ERC-1271 test wallets at fixed genesis addresses (facilitator tests; never on a real chain).
# The gas burner is compiled from contracts/GasBurnerWallet.vy; the other two answer non-ABI data,
# which Vyper cannot express, so their runtime code is assembled by hand:
#   short magic: PUSH4 0x1626ba7e PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 4 PUSH1 0 RETURN
#                (any call returns the 4 bytes 1626ba7e, not a 32-byte word)
#   echo:        PUSH1 0x20 PUSH1 0 PUSH1 0 CALLDATACOPY PUSH1 0x20 PUSH1 0 RETURN
#                (any call returns its first 32 calldata bytes: selector 1626ba7e + digest bytes)
GAS_BURNER_WALLET_ADDRESS = "0x1271000000000000000000000000000000000001"
SHORT_MAGIC_WALLET_ADDRESS = "0x1271000000000000000000000000000000000002"
ECHO_WALLET_ADDRESS = "0x1271000000000000000000000000000000000003"
SHORT_MAGIC_WALLET_RUNTIME = "631626ba7e60e01b60005260046000f3"
ECHO_WALLET_RUNTIME = "6020600060003760206000f3"

BLOCK_GAS_LIMIT = 500_000_000
CALL_GAS_CAP = 50_000_000  # like geth's RPCGasCap
GENESIS_BASE_FEE = 1_000_000  # 0.001 gwei, Base-Sepolia-like
PRIORITY_FEE = 1_000_000  # suggested tip (0.001 gwei)
MAX_FUTURE_NONCE_GAP = 1024

ETH_BALANCE_WEI = 10_000 * 10**18
PAYER_USDC = 1_000_000 * 10**6

# The well-known development mnemonic
# "test test test test test test test test test test test junk", path m/44'/60'/0'/0/i.
# Keys are listed (not derived at start-up) to keep start-up fast; test_devnet.py
# re-derives them from the mnemonic with eth-account.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
]
# index -> role. Payers hold USDC; the facilitator and payees start with none.
ROLES = ["facilitator"] + ["payer"] * 7 + ["payee"] * 2
# The token's minter is a dedicated key (not one of the dev accounts):
# keccak256("swift-x402 devnet minter").
MINTER_KEY = "0x" + keccak(b"swift-x402 devnet minter").hex()


class RPCError(Exception):
    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


# ---------------------------------------------------------------- hex helpers

def qty(n: int) -> str:
    return hex(n)


def data_hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def addr_hex(a: bytes) -> Optional[str]:
    if a is None or a == b"":
        return None
    return "0x" + bytes(a).hex()


def h32(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def parse_qty(v: Any, name: str = "quantity") -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        try:
            if v.startswith(("0x", "0X")):
                return int(v, 16) if len(v) > 2 else 0
            return int(v, 10)
        except ValueError:
            pass
    raise RPCError(-32602, f"invalid {name}: {v!r}")


def parse_data(v: Any, name: str = "data") -> bytes:
    if v is None:
        return b""
    if isinstance(v, str) and v.startswith(("0x", "0X")):
        s = v[2:]
        if len(s) % 2:
            s = "0" + s
        try:
            return bytes.fromhex(s)
        except ValueError:
            pass
    raise RPCError(-32602, f"invalid {name}: {v!r}")


def parse_addr(v: Any, name: str = "address") -> bytes:
    b = parse_data(v, name)
    if len(b) != 20:
        raise RPCError(-32602, f"invalid {name}: {v!r}")
    return b


def parse_h32(v: Any, name: str = "hash") -> bytes:
    b = parse_data(v, name)
    if len(b) != 32:
        raise RPCError(-32602, f"invalid {name}: {v!r}")
    return b


def param(params: List[Any], i: int, default: Any = None) -> Any:
    return params[i] if len(params) > i else default


def decode_revert_reason(data: bytes) -> Optional[str]:
    """Error(string) → the string; Panic(uint256) → 'panic: 0x..'; else None."""
    if len(data) >= 68 and data[:4] == bytes.fromhex("08c379a0"):
        try:
            off = int.from_bytes(data[4:36], "big")
            ln = int.from_bytes(data[4 + off:36 + off], "big")
            return data[36 + off:36 + off + ln].decode("utf-8", "replace")
        except Exception:  # noqa: BLE001
            return None
    if len(data) == 36 and data[:4] == bytes.fromhex("4e487b71"):
        return f"panic: {hex(int.from_bytes(data[4:], 'big'))}"
    return None


# ---------------------------------------------------------------- contracts

def compile_contract(name: str) -> Dict[str, Any]:
    """Runtime bytecode + storage layout of contracts/<name>.vy.

    Compiled with the pinned Vyper once per source version and cached in
    .cache/ (ignored by git); importing and running the compiler costs ~1 s.
    """
    src_path = CONTRACTS_DIR / f"{name}.vy"
    source = src_path.read_text()
    try:
        from importlib.metadata import version as _pkg_version
        vyper_version = _pkg_version("vyper")
    except Exception:  # noqa: BLE001
        vyper_version = "unknown"
    key = hashlib.sha256((vyper_version + "\0" + source).encode()).hexdigest()[:16]
    cache_file = CACHE_DIR / f"{name}-{key}.json"
    if cache_file.exists():
        try:
            return json.loads(cache_file.read_text())
        except ValueError:
            pass
    import vyper  # slow import, only when compiling

    out = vyper.compile_code(source, output_formats=["bytecode_runtime", "layout", "abi"])
    layout = out["layout"]
    layout = layout.get("storage_layout", layout)
    result = {
        "runtime": out["bytecode_runtime"],
        "layout": {k: v["slot"] for k, v in layout.items()},
        "abi": out["abi"],
        "vyper": vyper_version,
    }
    CACHE_DIR.mkdir(exist_ok=True)
    tmp = cache_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(cache_file)
    return result


def mapping_slot(slot: int, key: bytes) -> int:
    """Vyper HashMap slot: keccak256(slot ‖ key), each 32 bytes."""
    return int.from_bytes(keccak(slot.to_bytes(32, "big") + key.rjust(32, b"\0")), "big")


# ---------------------------------------------------------------- chain

class DevChainClass(MiningChain):
    chain_id = CHAIN_ID
    vm_configuration = ((0, PragueVM),)

    def create_header_from_parent(self, parent_header, **header_params):
        header_params.setdefault("gas_limit", parent_header.gas_limit)
        return super().create_header_from_parent(parent_header, **header_params)


class Account:
    def __init__(self, index: Optional[int], role: str, key_hex: str, usdc: int):
        self.index = index
        self.role = role
        self.key_hex = key_hex
        self.key = eth_keys.PrivateKey(bytes.fromhex(key_hex[2:]))
        self.address = self.key.public_key.to_canonical_address()
        self.usdc = usdc

    def to_json(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {}
        if self.index is not None:
            d["index"] = self.index
        d.update({
            "role": self.role,
            "address": to_checksum_address(self.address),
            "privateKey": self.key_hex,
            "balances": {"ethWei": str(ETH_BALANCE_WEI), "usdc": str(self.usdc)},
        })
        return d


class DevChain:
    """All chain state; every public method must be called with `self.lock` held."""

    def __init__(self, block_gas_limit: int = BLOCK_GAS_LIMIT, verbose: bool = False):
        self.lock = threading.RLock()
        self.verbose = verbose
        self.time_offset = 0.0
        self.forced_next_timestamp: Optional[int] = None
        self.wakeup = threading.Event()

        self.accounts = [Account(i, ROLES[i], k, PAYER_USDC if ROLES[i] == "payer" else 0)
                         for i, k in enumerate(DEV_KEYS)]
        self.minter = Account(None, "minter", MINTER_KEY, 0)

        token = compile_contract("USDC")
        multicall = compile_contract("Multicall3")
        self.token_address = bytes.fromhex(TOKEN_ADDRESS[2:])
        self.multicall_address = bytes.fromhex(MULTICALL3_ADDRESS[2:])

        # Genesis: funded accounts, token runtime code + storage, Multicall3 code.
        genesis_state: Dict[bytes, Dict[str, Any]] = {}
        for acct in self.accounts + [self.minter]:
            genesis_state[acct.address] = {"balance": ETH_BALANCE_WEI, "nonce": 0, "code": b"", "storage": {}}
        lay = token["layout"]
        storage = {lay["minter"]: int.from_bytes(self.minter.address, "big")}
        total = 0
        for acct in self.accounts:
            if acct.usdc:
                storage[mapping_slot(lay["balanceOf"], acct.address)] = acct.usdc
                total += acct.usdc
        storage[lay["totalSupply"]] = total
        self.total_supply_genesis = total
        genesis_state[self.token_address] = {
            "balance": 0, "nonce": 1, "code": bytes.fromhex(token["runtime"][2:]), "storage": storage}
        genesis_state[self.multicall_address] = {
            "balance": 0, "nonce": 1, "code": bytes.fromhex(multicall["runtime"][2:]), "storage": {}}
        gas_burner = compile_contract("GasBurnerWallet")
        for address, runtime in ((GAS_BURNER_WALLET_ADDRESS, gas_burner["runtime"][2:]),
                                 (SHORT_MAGIC_WALLET_ADDRESS, SHORT_MAGIC_WALLET_RUNTIME),
                                 (ECHO_WALLET_ADDRESS, ECHO_WALLET_RUNTIME)):
            genesis_state[bytes.fromhex(address[2:])] = {
                "balance": 0, "nonce": 1, "code": bytes.fromhex(runtime), "storage": {}}

        from eth.db.atomic import AtomicDB

        genesis_params = {
            "coinbase": ZERO_ADDRESS,
            "difficulty": 0,
            "extra_data": b"",
            "gas_limit": block_gas_limit,
            "mix_hash": b"\0" * 32,
            "nonce": b"\0" * 8,
            "receipt_root": BLANK_ROOT_HASH,
            "timestamp": self.clock() - 1,
            "transaction_root": BLANK_ROOT_HASH,
            "base_fee_per_gas": GENESIS_BASE_FEE,
        }
        self.chain = DevChainClass.from_genesis(AtomicDB(), genesis_params, genesis_state)
        self.vm_class = PragueVM
        self.chain_context = self.chain.get_vm().chain_context

        # Indexes (py-evm's chaindb has them too, but dict lookups are much faster).
        self.blocks: List[Dict[str, Any]] = []  # number -> block info
        self.block_by_hash: Dict[bytes, int] = {}
        self.tx_json: Dict[bytes, Dict[str, Any]] = {}  # hash -> tx JSON (pending or mined)
        self.receipt_json: Dict[bytes, Dict[str, Any]] = {}  # hash -> receipt JSON (mined only)
        # Pending block contents (already executed on top of the latest block).
        self.pending_txs: List[Any] = []
        # True when a dev method (devnet_setBalance) changed the pending state: the pending
        # block then carries that change and is sealed like a block with transactions.
        self.pending_state_changes = False
        # One VM for the whole pending block: transactions run on its live state,
        # which is persisted (state root computed) only when needed.
        self.pending_vm: Any = None
        self.pending_root_dirty = False
        self.pending_receipts: List[Any] = []
        # Transactions waiting for a nonce gap to close: sender -> nonce -> tx.
        self.future: Dict[bytes, Dict[int, Any]] = {}
        # Transactions that did not fit in the pending block's gas.
        self.overflow: List[Any] = []
        # devnet_setMinPriorityFee: per sender, the smallest tip its next transaction is executed
        # with; a transaction tipping less is parked (pending, unmined) until a replacement with
        # the same nonce pays enough or the minimum is lowered, as a fee spike leaves it.
        self.min_tip: Dict[bytes, int] = {}
        self.parked: Dict[bytes, Dict[int, Any]] = {}
        self.mined_tx_count = 0
        # evm_setAutomine(false) pauses the miner thread (evm_mine still seals blocks by hand).
        self.automine = True
        self._state_cache: Dict[Any, Any] = {}

        genesis = self.chain.get_canonical_block_by_number(0)
        self._index_block(genesis, [])
        self.chain.header = self.chain.header.copy(timestamp=self.next_timestamp())

    # ------------------------------------------------------------ time

    def clock(self) -> int:
        return int(time.time() + self.time_offset)

    def latest_header(self):
        return self.blocks[-1]["header"]

    def next_timestamp(self) -> int:
        if self.forced_next_timestamp is not None:
            return self.forced_next_timestamp
        return max(self.clock(), self.latest_header().timestamp + 1)

    def set_next_timestamp(self, ts: int) -> None:
        """evm_setNextBlockTimestamp: the next block gets exactly `ts`; the clock continues from there."""
        if ts <= self.latest_header().timestamp:
            raise RPCError(-32602, "timestamp must be greater than the latest block's")
        self.forced_next_timestamp = ts
        self.time_offset = ts - time.time()
        if self.pending_txs:
            # transactions already executed with the old timestamp: re-stamping them is
            # not possible, so the pending block keeps its timestamp
            self.forced_next_timestamp = None
        elif self.pending_state_changes:
            self._restamp_pending(ts)

    # ------------------------------------------------------------ state access

    def _state_for(self, header, cache_key) -> Any:
        st = self._state_cache.get(cache_key)
        if st is None:
            if len(self._state_cache) > 8:
                self._state_cache.clear()
            prev = self.vm_class.get_prev_hashes(header.parent_hash, self.chain.chaindb) \
                if header.block_number > 0 else ()
            st = self.vm_class.build_state(self.chain.chaindb.db, header, self.chain_context, prev)
            self._state_cache[cache_key] = st
        return st

    def resolve_block(self, tag: Any) -> Tuple[str, Any]:
        """Block tag → ('pending', None) | ('mined', number)."""
        if tag is None or tag in ("latest", "safe", "finalized"):
            return "mined", len(self.blocks) - 1
        if tag == "pending":
            return "pending", None
        if tag == "earliest":
            return "mined", 0
        if isinstance(tag, dict):
            if "blockHash" in tag:
                h = parse_h32(tag["blockHash"], "blockHash")
                if h not in self.block_by_hash:
                    raise RPCError(-32000, f"header for hash {data_hex(h)} not found")
                return "mined", self.block_by_hash[h]
            if "blockNumber" in tag:
                tag = tag["blockNumber"]
        n = parse_qty(tag, "block number")
        if n >= len(self.blocks):
            raise RPCError(-32000, "header not found")
        return "mined", n

    def read_state(self, tag: Any):
        """State to read balances/code/storage from (no execution)."""
        kind, n = self.resolve_block(tag)
        if kind == "pending":
            if self.pending_vm is not None:
                return self.pending_vm.state
            n = len(self.blocks) - 1
        header = self.blocks[n]["header"]
        return self._state_for(header, ("read", header.state_root))

    def _sync_pending_root(self) -> None:
        if self.pending_root_dirty:
            self.pending_vm.state.persist()
            self.chain.header = self.chain.header.copy(state_root=self.pending_vm.state.state_root)
            self.pending_root_dirty = False

    def exec_state(self, tag: Any):
        """State + block context for eth_call / eth_estimateGas.

        latest/pending: the latest (or pending) state, executed in the context
        of the next block (number head+1, timestamp = now), like a
        transaction sent now would be. A historical number: that block's own
        post-state and context. Base fee is 0 so calls need no ETH for gas.
        """
        kind, n = self.resolve_block(tag)
        latest_n = len(self.blocks) - 1
        if kind == "pending" and (self.pending_txs or self.pending_state_changes):
            self._sync_pending_root()
            h = self.chain.header
            header = h.copy(base_fee_per_gas=0)
            key = ("exec-pending", h.state_root, h.timestamp, h.block_number)
        elif kind == "pending" or n == latest_n:
            parent = self.blocks[latest_n]["header"]
            ts = max(self.clock(), parent.timestamp + 1)
            key = ("exec-next", parent.hash, ts)
            st = self._state_cache.get(key)
            if st is not None:
                return st
            header = self.chain.create_header_from_parent(parent, timestamp=ts).copy(
                state_root=parent.state_root, base_fee_per_gas=0)
        else:
            h = self.blocks[n]["header"]
            header = h.copy(base_fee_per_gas=0)
            key = ("exec-at", h.hash)
        return self._state_for(header, key)

    # ------------------------------------------------------------ calls

    def _call_tx(self, state, call: Dict[str, Any], gas: Optional[int] = None):
        if not isinstance(call, dict):
            raise RPCError(-32602, "invalid call object")
        sender = parse_addr(call["from"], "from") if call.get("from") else ZERO_ADDRESS
        to = parse_addr(call["to"], "to") if call.get("to") else b""
        data = parse_data(call.get("input", call.get("data")), "input")
        value = parse_qty(call.get("value", 0), "value")
        if gas is None:
            gas = parse_qty(call["gas"], "gas") if call.get("gas") else CALL_GAS_CAP
        gas = min(gas, CALL_GAS_CAP)
        nonce = state.get_nonce(sender)
        unsigned = self.vm_class.get_transaction_builder().create_unsigned_transaction(
            nonce=nonce, gas_price=0, gas=gas, to=to, value=value, data=data)
        return SpoofTransaction(unsigned, from_=sender)

    def _execute(self, state, tx):
        snap = state.snapshot()
        try:
            try:
                computation = state.apply_transaction(tx)
            except ValidationError as e:
                raise RPCError(-32000, str(e)) from None
            return computation, tx.gas - computation.get_gas_remaining()
        finally:
            state.revert(snap)

    @staticmethod
    def _raise_execution_error(computation) -> None:
        err = computation.error
        if isinstance(err, Revert):
            data = bytes(err.args[0]) if err.args else b""
            reason = decode_revert_reason(data)
            msg = "execution reverted" + (f": {reason}" if reason else "")
            raise RPCError(3, msg, data_hex(data))
        raise RPCError(-32000, str(err) or type(err).__name__)

    def eth_call(self, call: Dict[str, Any], tag: Any) -> str:
        state = self.exec_state(tag)
        tx = self._call_tx(state, call)
        computation, _ = self._execute(state, tx)
        if computation.is_error:
            self._raise_execution_error(computation)
        return data_hex(computation.output)

    def estimate_gas(self, call: Dict[str, Any], tag: Any) -> str:
        state = self.exec_state(tag)
        cap = CALL_GAS_CAP
        if call.get("gas"):
            cap = min(cap, parse_qty(call["gas"], "gas"))
        computation, used = self._execute(state, self._call_tx(state, call, cap))
        if computation.is_error:
            self._raise_execution_error(computation)

        def ok(g: int) -> bool:
            c, _ = self._execute(state, self._call_tx(state, call, g))
            return not c.is_error

        # `used` is the pre-refund consumption; nested calls (63/64 rule) may
        # need more. Grow until it succeeds, then binary-search the gap.
        lo, hi = used - 1, used
        while not ok(hi):
            lo = hi
            if hi >= cap:
                raise RPCError(-32000, f"gas required exceeds allowance ({cap})")
            hi = min(cap, hi + max(hi // 8, 10_000))
        while hi - lo > max(1, hi // 200):
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid
        return qty(hi)

    # ------------------------------------------------------------ transactions

    def pending_nonce(self, sender: bytes) -> int:
        nonce = self.read_state("pending").get_nonce(sender)
        fut = self.future.get(sender)
        if nonce in self.parked.get(sender, {}):
            nonce += 1
        if fut:
            while nonce in fut:
                nonce += 1
        for tx in self.overflow:
            if tx.sender == sender and tx.nonce >= nonce:
                nonce = tx.nonce + 1
        return nonce

    def send_raw_transaction(self, raw: bytes) -> str:
        builder = self.vm_class.get_transaction_builder()
        try:
            tx = builder.decode(raw)
        except Exception as e:  # noqa: BLE001
            raise RPCError(-32000, f"invalid transaction: {e}") from None
        try:
            tx.validate()
        except ValidationError as e:
            raise RPCError(-32000, f"invalid transaction: {e}") from None
        except Exception as e:  # noqa: BLE001
            raise RPCError(-32000, f"invalid sender: {e}") from None
        if tx.type_id == 3:
            raise RPCError(-32000, "blob transactions are not supported by this devnet")
        chain_id = tx.chain_id
        if chain_id is not None and chain_id != CHAIN_ID:
            raise RPCError(-32000, f"invalid chain id: have {chain_id} want {CHAIN_ID}")
        try:
            sender = tx.sender
        except Exception as e:  # noqa: BLE001
            raise RPCError(-32000, f"invalid sender: {e}") from None
        if tx.hash in self.tx_json:
            raise RPCError(-32000, "already known")
        if tx.gas > self.latest_header().gas_limit:
            raise RPCError(-32000, "exceeds block gas limit")
        intrinsic = tx.intrinsic_gas
        if tx.gas < intrinsic:
            raise RPCError(-32000, f"intrinsic gas too low: have {tx.gas}, want {intrinsic}")
        if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
            raise RPCError(-32000, "max priority fee per gas higher than max fee per gas")

        state = self.read_state("pending")
        next_nonce = state.get_nonce(sender)
        if tx.nonce < next_nonce:
            raise RPCError(-32000, f"nonce too low: next nonce {next_nonce}, tx nonce {tx.nonce}")
        base_fee = self.chain.header.base_fee_per_gas
        parked = self.parked.get(sender, {})
        if tx.nonce in parked:
            # A pool replacement (geth's rule): both fee fields at least 10 % above the parked one.
            old = parked[tx.nonce]
            if tx.max_fee_per_gas * 10 < old.max_fee_per_gas * 11 or \
                    tx.max_priority_fee_per_gas * 10 < old.max_priority_fee_per_gas * 11:
                raise RPCError(-32000, "replacement transaction underpriced")
        if tx.max_fee_per_gas < base_fee:
            raise RPCError(-32000, f"max fee per gas less than block base fee: address "
                                   f"{to_checksum_address(sender)}, maxFeePerGas: {tx.max_fee_per_gas}, "
                                   f"baseFee: {base_fee}")
        cost = tx.gas * tx.max_fee_per_gas + tx.value
        balance = state.get_balance(sender)
        if balance < cost:
            raise RPCError(-32000, f"insufficient funds for gas * price + value: address "
                                   f"{to_checksum_address(sender)} have {balance} want {cost}")
        if tx.nonce in parked:
            old = parked.pop(tx.nonce)
            self.tx_json.pop(old.hash, None)  # replaced: the old hash is no longer known
            self._log(f"replaced parked tx {data_hex(old.hash)} by {data_hex(tx.hash)}")
        if tx.nonce == next_nonce and self._tip(tx, base_fee) < self.min_tip.get(sender, 0):
            parked[tx.nonce] = tx
            self.parked[sender] = parked
            self.tx_json[tx.hash] = self._tx_to_json(tx, None, None)
            self._log(f"parked tx {data_hex(tx.hash)} nonce {tx.nonce}: tip below the sender's minimum")
            return data_hex(tx.hash)
        if not parked and sender in self.parked:
            del self.parked[sender]
        if tx.nonce > next_nonce or self.overflow:
            if tx.nonce - next_nonce > MAX_FUTURE_NONCE_GAP:
                raise RPCError(-32000, f"nonce too high: next nonce {next_nonce}, tx nonce {tx.nonce}")
            if tx.nonce > next_nonce:
                # Out-of-order arrival: hold it until the gap closes (like a geth txpool queue).
                self.future.setdefault(sender, {})[tx.nonce] = tx
            else:
                self.overflow.append(tx)
            self.tx_json[tx.hash] = self._tx_to_json(tx, None, None)
            self._log(f"queued tx {data_hex(tx.hash)} nonce {tx.nonce}")
            return data_hex(tx.hash)
        self._apply(tx)
        self._promote(sender)
        return data_hex(tx.hash)

    @staticmethod
    def _tip(tx, base_fee: int) -> int:
        """The tip per gas `tx` pays at `base_fee`."""
        return min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)

    def set_min_tip(self, sender: bytes, wei: int) -> None:
        """devnet_setMinPriorityFee: a parked transaction that now pays enough is executed."""
        if wei > 0:
            self.min_tip[sender] = wei
        else:
            self.min_tip.pop(sender, None)
        parked = self.parked.get(sender, {})
        nonce = self.read_state("pending").get_nonce(sender)
        tx = parked.get(nonce)
        if tx is not None and self._tip(tx, self.chain.header.base_fee_per_gas) >= self.min_tip.get(sender, 0):
            del parked[nonce]
            if not parked:
                self.parked.pop(sender, None)
            self._apply(tx)
            self._promote(sender)

    def _apply(self, tx, from_queue: bool = False) -> bool:
        """Execute `tx` into the pending block. Returns False if it must wait for the next block."""
        if not self.pending_txs:
            # First transaction of a new block: the block's timestamp is the current second.
            if self.pending_state_changes:
                self._restamp_pending(self.next_timestamp())
            else:
                self.chain.header = self.chain.header.copy(timestamp=self.next_timestamp())
                self.pending_vm = None  # (a VM left by a rejected transaction has the old timestamp)
        header = self.chain.header
        if header.gas_used + tx.gas > header.gas_limit:
            if not from_queue:
                self.overflow.append(tx)
                self.tx_json[tx.hash] = self._tx_to_json(tx, None, None)
            return False
        if self.pending_vm is None:
            self.pending_vm = self.chain.get_vm(header)
        vm = self.pending_vm
        try:
            receipt, _computation = vm.apply_transaction(header, tx)
        except ValidationError as e:
            if from_queue:
                self._log(f"dropping queued tx {data_hex(tx.hash)}: {e}")
                self.tx_json.pop(tx.hash, None)
                return True
            msg = str(e)
            if "enough balance" in msg or "cannot afford" in msg:
                raise RPCError(-32000, f"insufficient funds for gas * price + value: {msg}") from None
            raise RPCError(-32000, msg) from None
        self.chain.header = vm.add_receipt_to_header(header, receipt)  # gas used, bloom
        self.pending_root_dirty = True
        self.pending_txs.append(tx)
        self.pending_receipts.append(receipt)
        self.tx_json[tx.hash] = self._tx_to_json(tx, None, None)
        self.wakeup.set()
        return True

    def _promote(self, sender: bytes) -> None:
        fut = self.future.get(sender)
        while fut:
            nonce = self.read_state("pending").get_nonce(sender)
            tx = fut.pop(nonce, None)
            if tx is None:
                # drop entries made stale by a replacement
                for n in [n for n in fut if n < nonce]:
                    self.tx_json.pop(fut.pop(n).hash, None)
                break
            if not self._apply(tx, from_queue=True):
                self.overflow.append(tx)
                break
        if sender in self.future and not self.future[sender]:
            del self.future[sender]

    # ------------------------------------------------------------ mining

    def mine(self) -> Any:
        """Seal the pending block (possibly empty) and start the next one."""
        if not self.pending_txs:
            if self.pending_state_changes:
                self._restamp_pending(self.next_timestamp())
            else:
                self.chain.header = self.chain.header.copy(timestamp=self.next_timestamp())
                self.pending_vm = None
        header = self.chain.header
        vm = self.pending_vm if self.pending_vm is not None else self.chain.get_vm(header)
        block = vm.get_block()
        block = vm.set_block_transactions_and_withdrawals(
            block, header, tuple(self.pending_txs), tuple(self.pending_receipts))
        result = vm.mine_block(block, mix_hash=os.urandom(32), coinbase=ZERO_ADDRESS)
        mined = result.block
        self.chain.validate_block(mined)
        self.chain.chaindb.persist_block(mined)
        self.chain.header = self.chain.create_header_from_parent(mined.header)
        self.forced_next_timestamp = None
        receipts = list(self.pending_receipts)
        self.pending_txs, self.pending_receipts = [], []
        self.pending_vm, self.pending_root_dirty = None, False
        self.pending_state_changes = False
        self._index_block(mined, receipts)
        self._state_cache.clear()
        self.mined_tx_count += len(receipts)
        if receipts:
            self._log(f"mined block {mined.number} ts {mined.header.timestamp} with {len(receipts)} txs")
        # Transactions that did not fit go first into the next block.
        waiting, self.overflow = self.overflow, []
        senders = []
        for i, tx in enumerate(waiting):
            if not self._apply(tx, from_queue=True):
                self.overflow.extend(waiting[i:])
                break
            senders.append(tx.sender)
        for s in set(senders):
            self._promote(s)
        return mined

    def miner_step(self) -> float:
        """Mine if due; return how long the miner thread may sleep."""
        if not self.automine:
            return 0.2
        if not self.pending_txs and not self.pending_state_changes:
            return 1.0
        now = time.time() + self.time_offset
        ts = self.chain.header.timestamp
        if ts > now:
            return ts - now + 0.001
        self.mine()
        return 0.0 if (self.pending_txs or self.pending_state_changes) else 1.0

    # ------------------------------------------------------------ JSON rendering

    def _index_block(self, block, receipts) -> None:
        header = block.header
        number = header.block_number
        bhash = header.hash
        base_fee = header.base_fee_per_gas
        tx_hashes = []
        log_index = 0
        prev_cum = 0
        for i, (tx, rc) in enumerate(zip(block.transactions, receipts)):
            h = tx.hash
            tx_hashes.append(h)
            txj = self._tx_to_json(tx, block, i)
            self.tx_json[h] = txj
            gas_used = rc.gas_used - prev_cum
            prev_cum = rc.gas_used
            logs = []
            for lg in rc.logs:
                logs.append({
                    "address": addr_hex(lg.address),
                    "topics": [h32(t) for t in lg.topics],
                    "data": data_hex(lg.data),
                    "blockNumber": qty(number),
                    "blockHash": data_hex(bhash),
                    "blockTimestamp": qty(header.timestamp),
                    "transactionHash": data_hex(h),
                    "transactionIndex": qty(i),
                    "logIndex": qty(log_index),
                    "removed": False,
                })
                log_index += 1
            contract = None
            if not tx.to:
                contract = addr_hex(keccak(rlp.encode([tx.sender, tx.nonce]))[12:])
            self.receipt_json[h] = {
                "transactionHash": data_hex(h),
                "transactionIndex": qty(i),
                "blockHash": data_hex(bhash),
                "blockNumber": qty(number),
                "from": addr_hex(tx.sender),
                "to": addr_hex(tx.to),
                "cumulativeGasUsed": qty(rc.gas_used),
                "gasUsed": qty(gas_used),
                "effectiveGasPrice": qty(self._effective_gas_price(tx, base_fee)),
                "contractAddress": contract,
                "logs": logs,
                "logsBloom": "0x" + rc.bloom.to_bytes(256, "big").hex(),
                "status": "0x1" if rc.state_root == b"\x01" else "0x0",
                "type": qty(self._tx_type(tx)),
                "blobGasUsed": "0x0",
            }
        info = {
            "header": header,
            "tx_hashes": tx_hashes,
            "size": len(rlp.encode(block)),
        }
        while len(self.blocks) <= number:
            self.blocks.append(None)  # type: ignore[arg-type]
        self.blocks[number] = info
        self.block_by_hash[bhash] = number

    @staticmethod
    def _tx_type(tx) -> int:
        return getattr(tx, "type_id", None) or 0

    @staticmethod
    def _effective_gas_price(tx, base_fee: int) -> int:
        if DevChain._tx_type(tx) == 0 or DevChain._tx_type(tx) == 1:
            return tx.gas_price
        return min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)

    def _tx_to_json(self, tx, block, index) -> Dict[str, Any]:
        t = self._tx_type(tx)
        j: Dict[str, Any] = {
            "hash": data_hex(tx.hash),
            "type": qty(t),
            "nonce": qty(tx.nonce),
            "blockHash": data_hex(block.header.hash) if block is not None else None,
            "blockNumber": qty(block.header.block_number) if block is not None else None,
            "transactionIndex": qty(index) if block is not None else None,
            "from": addr_hex(tx.sender),
            "to": addr_hex(tx.to),
            "value": qty(tx.value),
            "gas": qty(tx.gas),
            "input": data_hex(tx.data),
            "r": qty(tx.r),
            "s": qty(tx.s),
        }
        if t == 0:
            j["gasPrice"] = qty(tx.gas_price)
            j["v"] = qty(tx.v)
            if tx.chain_id is not None:
                j["chainId"] = qty(tx.chain_id)
        else:
            j["chainId"] = qty(tx.chain_id)
            j["v"] = qty(tx.y_parity)
            j["yParity"] = qty(tx.y_parity)
            j["accessList"] = [
                {"address": addr_hex(a), "storageKeys": [h32(k) for k in keys]} for a, keys in tx.access_list
            ]
            if t == 1:
                j["gasPrice"] = qty(tx.gas_price)
            else:
                j["maxFeePerGas"] = qty(tx.max_fee_per_gas)
                j["maxPriorityFeePerGas"] = qty(tx.max_priority_fee_per_gas)
                base_fee = block.header.base_fee_per_gas if block is not None else self.chain.header.base_fee_per_gas
                j["gasPrice"] = qty(self._effective_gas_price(tx, base_fee) if block is not None else tx.max_fee_per_gas)
        return j

    def block_json(self, n: int, full: bool) -> Dict[str, Any]:
        info = self.blocks[n]
        h = info["header"]
        j = {
            "number": qty(h.block_number),
            "hash": data_hex(h.hash),
            "parentHash": data_hex(h.parent_hash),
            "nonce": data_hex(h.nonce),
            "mixHash": data_hex(h.mix_hash),
            "sha3Uncles": data_hex(h.uncles_hash),
            "logsBloom": "0x" + h.bloom.to_bytes(256, "big").hex(),
            "transactionsRoot": data_hex(h.transaction_root),
            "stateRoot": data_hex(h.state_root),
            "receiptsRoot": data_hex(h.receipt_root),
            "miner": addr_hex(h.coinbase),
            "difficulty": qty(h.difficulty),
            "totalDifficulty": "0x0",
            "extraData": data_hex(h.extra_data),
            "size": qty(info["size"]),
            "gasLimit": qty(h.gas_limit),
            "gasUsed": qty(h.gas_used),
            "timestamp": qty(h.timestamp),
            "baseFeePerGas": qty(h.base_fee_per_gas),
            "withdrawals": [],
            "withdrawalsRoot": data_hex(h.withdrawals_root),
            "blobGasUsed": qty(h.blob_gas_used),
            "excessBlobGas": qty(h.excess_blob_gas),
            "parentBeaconBlockRoot": data_hex(h.parent_beacon_block_root),
            "uncles": [],
        }
        rh = getattr(h, "requests_hash", None)
        if rh is not None:
            j["requestsHash"] = data_hex(rh)
        if full:
            j["transactions"] = [self.tx_json[x] for x in info["tx_hashes"]]
        else:
            j["transactions"] = [data_hex(x) for x in info["tx_hashes"]]
        return j

    def get_logs(self, flt: Dict[str, Any]) -> List[Dict[str, Any]]:
        if not isinstance(flt, dict):
            raise RPCError(-32602, "invalid filter")
        latest = len(self.blocks) - 1
        if flt.get("blockHash"):
            h = parse_h32(flt["blockHash"], "blockHash")
            if h not in self.block_by_hash:
                raise RPCError(-32000, "unknown block")
            start = end = self.block_by_hash[h]
        else:
            def num(v: Any, default: int) -> int:
                if v is None or v in ("latest", "safe", "finalized", "pending"):
                    return default if v is None else latest
                if v == "earliest":
                    return 0
                return parse_qty(v, "block number")
            start = num(flt.get("fromBlock"), latest)
            end = min(num(flt.get("toBlock"), latest), latest)
        addrs = flt.get("address")
        if isinstance(addrs, str):
            addrs = [addrs]
        addr_set = {a.lower() for a in addrs} if addrs else None
        topics = flt.get("topics") or []
        topic_sets: List[Optional[set]] = []
        for t in topics:
            if t is None:
                topic_sets.append(None)
            elif isinstance(t, list):
                topic_sets.append({x.lower() for x in t} if t else None)
            else:
                topic_sets.append({t.lower()})
        out = []
        for n in range(max(start, 0), end + 1):
            for th in self.blocks[n]["tx_hashes"]:
                for lg in self.receipt_json[th]["logs"]:
                    if addr_set is not None and lg["address"] not in addr_set:
                        continue
                    tps = lg["topics"]
                    if any(ts is not None and (i >= len(tps) or tps[i] not in ts) for i, ts in enumerate(topic_sets)):
                        continue
                    out.append(lg)
        return out

    def fee_history(self, count: int, newest: Any, percentiles: Optional[List[float]]) -> Dict[str, Any]:
        count = max(1, min(count, 1024))
        kind, n = self.resolve_block(newest)
        if kind == "pending":
            n = len(self.blocks) - 1
        oldest = max(0, n - count + 1)
        base_fees, ratios, rewards = [], [], []
        for i in range(oldest, n + 1):
            h = self.blocks[i]["header"]
            base_fees.append(qty(h.base_fee_per_gas))
            ratios.append(h.gas_used / h.gas_limit if h.gas_limit else 0.0)
            if percentiles:
                rewards.append([qty(PRIORITY_FEE if self.blocks[i]["tx_hashes"] else 0) for _ in percentiles])
        nxt = self.chain.create_header_from_parent(self.blocks[n]["header"]) if n == len(self.blocks) - 1 \
            else self.blocks[n + 1]["header"]
        base_fees.append(qty(nxt.base_fee_per_gas))
        out: Dict[str, Any] = {"oldestBlock": qty(oldest), "baseFeePerGas": base_fees, "gasUsedRatio": ratios,
                               "baseFeePerBlobGas": ["0x1"] * len(base_fees),
                               "blobGasUsedRatio": [0.0] * len(ratios)}
        if percentiles:
            out["reward"] = rewards
        return out

    # ------------------------------------------------------------ dev helpers

    def mint(self, to: bytes, amount: int) -> str:
        if amount <= 0:
            raise RPCError(-32602, "amount must be > 0")
        data = bytes.fromhex("40c10f19") + to.rjust(32, b"\0") + amount.to_bytes(32, "big")
        m = self.minter
        builder = self.vm_class.get_transaction_builder()
        base_fee = self.chain.header.base_fee_per_gas
        unsigned = builder.new_unsigned_dynamic_fee_transaction(
            chain_id=CHAIN_ID, nonce=self.pending_nonce(m.address),
            max_priority_fee_per_gas=PRIORITY_FEE, max_fee_per_gas=2 * base_fee + PRIORITY_FEE,
            gas=200_000, to=self.token_address, value=0, data=data, access_list=())
        signed = unsigned.as_signed_transaction(m.key)
        return self.send_raw_transaction(signed.encode())

    def _restamp_pending(self, ts: int) -> None:
        """Give a pending block that holds only dev-method state changes a new timestamp."""
        self._sync_pending_root()
        self.chain.header = self.chain.header.copy(timestamp=ts)
        self.pending_vm = self.chain.get_vm(self.chain.header)

    def set_balance(self, address: bytes, wei: int) -> None:
        """devnet_setBalance: set an account's ETH balance in the pending block.

        The change is visible at once to `pending` reads and to transactions sent afterwards; the
        pending block is then sealed like one with transactions (so `latest` shows it within about
        a second, usually milliseconds). Block timestamps keep the one-block-per-second rule.
        """
        if not 0 <= wei < 2**256:
            raise RPCError(-32602, "balance must be between 0 and 2**256 - 1")
        if not self.pending_txs and not self.pending_state_changes:
            # The pending block starts now, like on its first transaction.
            self.chain.header = self.chain.header.copy(timestamp=self.next_timestamp())
            self.pending_vm = None
        if self.pending_vm is None:
            self.pending_vm = self.chain.get_vm(self.chain.header)
        self.pending_vm.state.set_balance(address, wei)
        self.pending_root_dirty = True
        self.pending_state_changes = True
        self.wakeup.set()

    def accounts_json(self, rpc_url: str) -> Dict[str, Any]:
        return {
            "rpcUrl": rpc_url,
            "chainId": CHAIN_ID,
            "network": NETWORK,
            "token": {
                "address": TOKEN_ADDRESS,
                "name": "USDC",
                "symbol": "USDC",
                "version": "2",
                "decimals": 6,
                "totalSupply": str(self.total_supply_genesis),
            },
            "multicall3": MULTICALL3_ADDRESS,
            "testWallets": {
                "gasBurner": GAS_BURNER_WALLET_ADDRESS,
                "shortMagic": SHORT_MAGIC_WALLET_ADDRESS,
                "echo": ECHO_WALLET_ADDRESS,
            },
            "mnemonic": DEV_MNEMONIC,
            "note": "balances are genesis balances; ethWei in wei, usdc in atomic units (6 decimals)",
            "minter": self.minter.to_json(),
            "accounts": [a.to_json() for a in self.accounts],
            "mining": "as soon as possible, at most one block per wall-clock second, timestamp = Unix second",
        }

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[devnet] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- RPC dispatch

class RPC:
    def __init__(self, chain: DevChain, rpc_url: str, calls_per_second: float = 0.0):
        self.c = chain
        self.rpc_url = rpc_url
        # Provider-style throughput limit (0 = none): every JSON-RPC call (each member of a
        # batch counts) waits for its slot, 1/rate apart, before it runs, as a hosted node plan
        # that queues requests over its rate would make it wait. Benchmarks only.
        self.call_interval = 1.0 / calls_per_second if calls_per_second > 0 else 0.0
        self.pace_lock = threading.Lock()
        self.next_slot = 0.0
        self.stats_lock = threading.Lock()
        self.http_requests = 0
        self.calls: Dict[str, int] = {}
        self.methods: Dict[str, Callable[[List[Any]], Any]] = {
            "web3_clientVersion": lambda p: CLIENT_VERSION,
            "web3_sha3": lambda p: data_hex(keccak(parse_data(param(p, 0)))),
            "net_version": lambda p: str(CHAIN_ID),
            "net_listening": lambda p: True,
            "net_peerCount": lambda p: "0x0",
            "eth_chainId": lambda p: qty(CHAIN_ID),
            "eth_syncing": lambda p: False,
            "eth_mining": lambda p: True,
            "eth_accounts": lambda p: [],
            "eth_blockNumber": lambda p: qty(len(self.c.blocks) - 1),
            "eth_getBalance": self.get_balance,
            "eth_getCode": self.get_code,
            "eth_getStorageAt": self.get_storage_at,
            "eth_getTransactionCount": self.get_transaction_count,
            "eth_call": lambda p: self.c.eth_call(param(p, 0), param(p, 1, "latest")),
            "eth_estimateGas": lambda p: self.c.estimate_gas(param(p, 0), param(p, 1, "latest")),
            "eth_sendRawTransaction": lambda p: self.c.send_raw_transaction(parse_data(param(p, 0), "transaction")),
            "eth_getTransactionReceipt": lambda p: self.c.receipt_json.get(parse_h32(param(p, 0))),
            "eth_getTransactionByHash": lambda p: self.c.tx_json.get(parse_h32(param(p, 0))),
            "eth_getBlockByNumber": self.get_block_by_number,
            "eth_getBlockByHash": self.get_block_by_hash,
            "eth_gasPrice": lambda p: qty(self.c.chain.header.base_fee_per_gas + PRIORITY_FEE),
            "eth_maxPriorityFeePerGas": lambda p: qty(PRIORITY_FEE),
            "eth_blobBaseFee": lambda p: "0x1",
            "eth_feeHistory": lambda p: self.c.fee_history(parse_qty(param(p, 0, 1)), param(p, 1, "latest"),
                                                           param(p, 2)),
            "eth_getLogs": lambda p: self.c.get_logs(param(p, 0, {})),
            # dev helpers
            "devnet_accounts": lambda p: self.c.accounts_json(self.rpc_url),
            "devnet_mint": self.dev_mint,
            "devnet_setBalance": self.dev_set_balance,
            "devnet_setMinPriorityFee": self.dev_set_min_priority_fee,
            "evm_mine": self.evm_mine,
            "evm_setAutomine": self.set_automine,
            "evm_increaseTime": self.increase_time,
            "evm_setNextBlockTimestamp": self.set_next_block_timestamp,
            "devnet_stats": lambda p: self.stats(False),
            "devnet_statsReset": lambda p: self.stats(True),
            "devnet_time": lambda p: {"wallClock": int(time.time()), "chainClock": self.c.clock(),
                                      "offset": self.c.time_offset},
        }

    def get_balance(self, p):
        return qty(self.c.read_state(param(p, 1, "latest")).get_balance(parse_addr(param(p, 0))))

    def get_code(self, p):
        return data_hex(self.c.read_state(param(p, 1, "latest")).get_code(parse_addr(param(p, 0))))

    def get_storage_at(self, p):
        slot = parse_qty(param(p, 1), "slot")
        v = self.c.read_state(param(p, 2, "latest")).get_storage(parse_addr(param(p, 0)), slot)
        return h32(v)

    def get_transaction_count(self, p):
        a = parse_addr(param(p, 0))
        tag = param(p, 1, "latest")
        if tag == "pending":
            return qty(self.c.pending_nonce(a))
        return qty(self.c.read_state(tag).get_nonce(a))

    def get_block_by_number(self, p):
        tag = param(p, 0, "latest")
        full = bool(param(p, 1, False))
        if tag == "pending":
            tag = "latest"
        try:
            _, n = self.c.resolve_block(tag)
        except RPCError:
            return None
        return self.c.block_json(n, full)

    def get_block_by_hash(self, p):
        n = self.c.block_by_hash.get(parse_h32(param(p, 0)))
        return None if n is None else self.c.block_json(n, bool(param(p, 1, False)))

    def dev_mint(self, p):
        to = parse_addr(param(p, 0), "address")
        amount = parse_qty(str(param(p, 1)), "amount")
        return self.c.mint(to, amount)

    def dev_set_balance(self, p):
        to = parse_addr(param(p, 0), "address")
        wei = parse_qty(str(param(p, 1)), "balance")
        self.c.set_balance(to, wei)
        return True

    def dev_set_min_priority_fee(self, p):
        """devnet_setMinPriorityFee(address, wei): transactions from `address` tipping less than
        `wei` are parked until replaced with enough (0 lifts the minimum and releases them)."""
        self.c.set_min_tip(parse_addr(param(p, 0), "address"), parse_qty(str(param(p, 1)), "wei"))
        return True

    def set_automine(self, p):
        """evm_setAutomine(bool): pause (false) or resume (true) mining; pending transactions wait."""
        on = param(p, 0)
        if not isinstance(on, bool):
            raise RPCError(-32602, "evm_setAutomine expects one boolean")
        self.c.automine = on
        if on:
            self.c.wakeup.set()
        return True

    def evm_mine(self, p):
        """Seal the pending block now (even if empty); optional param: its timestamp."""
        ts = param(p, 0)
        if isinstance(ts, dict):
            ts = ts.get("timestamp")
        if ts is not None:
            self.c.set_next_timestamp(parse_qty(ts, "timestamp"))
        self.c.mine()
        return "0x0"

    def increase_time(self, p):
        secs = parse_qty(param(p, 0), "seconds")
        self.c.time_offset += secs
        return secs

    def set_next_block_timestamp(self, p):
        self.c.set_next_timestamp(parse_qty(param(p, 0), "timestamp"))
        return None

    def handle_one(self, req: Any) -> Optional[Dict[str, Any]]:
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            return {"jsonrpc": "2.0", "id": req.get("id") if isinstance(req, dict) else None,
                    "error": {"code": -32600, "message": "invalid request"}}
        rid = req.get("id")
        method = req["method"]
        params = req.get("params") or []
        if not isinstance(params, list):
            params = [params]
        fn = self.methods.get(method)
        if not method.startswith("devnet_stats"):
            with self.stats_lock:
                self.calls[method] = self.calls.get(method, 0) + 1
            self.pace()
        try:
            if fn is None:
                raise RPCError(-32601, f"the method {method} does not exist/is not available")
            with self.c.lock:
                result = fn(params)
            resp = {"jsonrpc": "2.0", "id": rid, "result": result}
        except RPCError as e:
            err: Dict[str, Any] = {"code": e.code, "message": e.message}
            if e.data is not None:
                err["data"] = e.data
            resp = {"jsonrpc": "2.0", "id": rid, "error": err}
        except (KeyError, TypeError, ValueError, IndexError) as e:
            resp = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": f"invalid params: {e}"}}
        except Exception as e:  # noqa: BLE001
            resp = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": f"internal error: {e!r}"}}
        if "id" not in req:
            return None  # notification
        return resp

    def pace(self) -> None:
        """Waits for this call's slot under --calls-per-second (outside the chain lock)."""
        if not self.call_interval:
            return
        with self.pace_lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.call_interval
        if slot > now:
            time.sleep(slot - now)

    def stats(self, reset: bool) -> Dict[str, Any]:
        """devnet_stats / devnet_statsReset: JSON-RPC calls by method and HTTP requests served
        since start (or the last reset), for benchmarks counting node calls per payment."""
        with self.stats_lock:
            out = {"httpRequests": self.http_requests, "calls": dict(self.calls),
                   "totalCalls": sum(self.calls.values())}
            if reset:
                self.http_requests = 0
                self.calls = {}
        return out

    def handle_body(self, body: bytes) -> Optional[bytes]:
        try:
            req = json.loads(body)
            if not (isinstance(req, dict) and str(req.get("method", "")).startswith("devnet_stats")):
                with self.stats_lock:
                    self.http_requests += 1
        except ValueError:
            return json.dumps({"jsonrpc": "2.0", "id": None,
                               "error": {"code": -32700, "message": "parse error"}}).encode()
        if isinstance(req, list):
            if not req:
                return json.dumps({"jsonrpc": "2.0", "id": None,
                                   "error": {"code": -32600, "message": "empty batch"}}).encode()
            out = [r for r in (self.handle_one(x) for x in req) if r is not None]
            return json.dumps(out).encode() if out else None
        r = self.handle_one(req)
        return json.dumps(r).encode() if r is not None else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rpc: RPC = None  # type: ignore[assignment]
    quiet = True

    def setup(self) -> None:
        super().setup()
        # Small request/response pairs on keep-alive connections: without
        # TCP_NODELAY, Nagle + delayed ACK add ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        # One write for status line, headers and body.
        head = (f"HTTP/1.1 {code} {'OK' if code == 200 else 'No Content'}\r\n"
                f"Content-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Access-Control-Allow-Origin: *\r\n"
                "\r\n").encode()
        self.wfile.write(head + body)

    def do_POST(self) -> None:  # noqa: N802
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(parts)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
        out = self.rpc.handle_body(body)
        self._send(200, out if out is not None else b"")

    def do_GET(self) -> None:  # noqa: N802
        self._send(200, b"swift-x402 devnet: POST JSON-RPC 2.0 here\n", "text/plain")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(fmt, *args)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def miner_loop(chain: DevChain, stop: threading.Event) -> None:
    while not stop.is_set():
        with chain.lock:
            try:
                delay = chain.miner_step()
            except Exception as e:  # noqa: BLE001
                print(f"[devnet] mining failed: {e!r}", file=sys.stderr, flush=True)
                delay = 1.0
        if delay > 0:
            chain.wakeup.wait(delay)
            chain.wakeup.clear()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="swift-x402 local EVM devnet (JSON-RPC on 127.0.0.1)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("X402_DEVNET_PORT", "8545")))
    ap.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; keep it local)")
    ap.add_argument("--accounts-out", help="also write the accounts JSON to this file")
    ap.add_argument("--verbose", action="store_true", help="log mined blocks and HTTP requests to stderr")
    ap.add_argument("--compile-only", action="store_true", help="compile (and cache) the contracts, then exit")
    ap.add_argument("--calls-per-second", type=float, default=0.0,
                    help="benchmarks: serve at most this many JSON-RPC calls a second (each call of a batch "
                         "counts; the rest wait their turn), as a hosted node plan limits them (default: no limit)")
    args = ap.parse_args(argv)

    if args.compile_only:
        for name in ("USDC", "Multicall3"):
            compile_contract(name)
        return 0

    t0 = _T_START
    try:
        server = Server((args.host, args.port), Handler)
    except OSError as e:
        print(f"devnet: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    chain = DevChain(verbose=args.verbose)
    rpc_url = f"http://{args.host}:{server.server_address[1]}"
    Handler.rpc = RPC(chain, rpc_url, calls_per_second=args.calls_per_second)
    Handler.quiet = not args.verbose

    # Sanity check of the genesis placement through the same code path as clients.
    with chain.lock:
        name = chain.eth_call({"to": TOKEN_ADDRESS, "data": "0x06fdde03"}, "latest")
        bal = chain.eth_call({"to": TOKEN_ADDRESS, "data": "0x70a08231" + "00" * 12 + chain.accounts[1].address.hex()},
                             "latest")
    assert bytes.fromhex(name[2:])[64:68] == b"USDC", name
    assert int(bal, 16) == PAYER_USDC, bal

    accounts = chain.accounts_json(rpc_url)
    text = json.dumps(accounts, indent=2)
    if args.accounts_out:
        tmp = args.accounts_out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, args.accounts_out)

    stop = threading.Event()
    miner = threading.Thread(target=miner_loop, args=(chain, stop), name="miner", daemon=True)
    miner.start()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    print(text, flush=True)
    print(f"devnet: ready {time.time() - t0:.2f}s after process start, chain id {CHAIN_ID}, listening on {rpc_url}",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        chain.wakeup.set()
        server.server_close()
        print("devnet: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
