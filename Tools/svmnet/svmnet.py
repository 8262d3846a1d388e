#!/usr/bin/env python3
"""Local Solana chain for swift-x402 tests (test infrastructure, not part of the product).

LiteSVM (the in-process Solana runtime shipped in the `solders` wheel, with the SPL Token,
Token-2022, Associated Token Account and Memo programs) behind a small JSON-RPC 2.0 HTTP
server on 127.0.0.1 that answers the standard Solana RPC shapes for the methods x402 clients
and facilitators use, plus `svmnet_*` helpers for tests:

* claims to be Solana devnet (`getGenesisHash` = devnet's, CAIP-2
  `solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1`);
* a USDC-like SPL Token mint at devnet USDC's address and one under Token-2022;
* deterministic, funded keypairs (fixed seeds) written to a state JSON file;
* slots advance with wall-clock time (400 ms each by default); a blockhash handed out by
  `getLatestBlockhash` stays valid for 150 blocks, and `svmnet_expireBlockhash` ends it at once.

Run `python svmnet.py --help`. See README.md in this directory.
"""

from __future__ import annotations

import time as _time

_T_START = _time.time()  # for the start-up time report

import argparse
import base64
import collections
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

from solders.account import Account
from solders.clock import Clock
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.rpc.responses import RpcSimulateTransactionResult
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

VERSION = "0.1.0"
SOLANA_CORE_VERSION = "2.2.20"  # what getVersion claims (an agave release with these RPC shapes)
FEATURE_SET = 3294202862

# Solana devnet: the genesis hash whose first 32 characters form the CAIP-2 reference.
GENESIS_HASH = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"
NETWORK = "solana:" + GENESIS_HASH[:32]
V1_NETWORK = "solana-devnet"

SYSTEM_PROGRAM = "11111111111111111111111111111111"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
ATA_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111"
TOKEN_PROGRAMS = {"spl": TOKEN_PROGRAM, "token": TOKEN_PROGRAM, TOKEN_PROGRAM: TOKEN_PROGRAM,
                  "token2022": TOKEN_2022_PROGRAM, "token-2022": TOKEN_2022_PROGRAM,
                  TOKEN_2022_PROGRAM: TOKEN_2022_PROGRAM}

DEVNET_USDC_MINT = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
USDC_DECIMALS = 6

SEED_PREFIX = "swift-x402 svmnet/"
MAX_BODY_BYTES = 50 * 1024  # like agave's MAX_REQUEST_BODY_SIZE
MAX_BATCH = 1000
PACKET_DATA_SIZE = 1232  # max serialized transaction
MAX_BASE64_SIZE = 1644   # ceil(1232 / 3) * 4
MAX_BASE58_SIZE = 1683
MAX_STATUSES = 256       # getSignatureStatuses limit, like agave
MAX_MULTIPLE_ACCOUNTS = 100
BLOCKHASH_VALIDITY_BLOCKS = 150  # MAX_PROCESSING_AGE
FINALIZED_DEPTH = 32  # confirmations after which a status reads "finalized"
MAX_STATUS_HISTORY = 200_000
U64_MAX = 2**64 - 1
RENT_EPOCH_EXEMPT = U64_MAX

LAMPORTS_PER_SOL = 1_000_000_000


class RPCError(Exception):
    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def invalid_params(msg: str) -> RPCError:
    return RPCError(-32602, msg)


# ---------------------------------------------------------------- keys, base58

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def b58encode(b: bytes) -> str:
    n = int.from_bytes(b, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(B58_ALPHABET[r])
    pad = len(b) - len(b.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(s: str, max_len: int) -> bytes:
    if len(s) > max_len:
        raise ValueError("too long")
    n = 0
    for c in s:
        if c not in B58_INDEX:
            raise ValueError("invalid base58 character")
        n = n * 58 + B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(s) - len(s.lstrip("1"))
    return b"\0" * pad + body


def keypair_for(label: str) -> Keypair:
    """A deterministic keypair: seed = sha256("swift-x402 svmnet/" + label)."""
    return Keypair.from_seed(hashlib.sha256((SEED_PREFIX + label).encode()).digest())


def parse_pubkey(v: Any) -> Pubkey:
    if not isinstance(v, str) or len(v) > 44:
        raise invalid_params("Invalid param: Invalid")
    try:
        raw = b58decode(v, 44)
    except ValueError:
        raise invalid_params("Invalid param: Invalid") from None
    if len(raw) != 32:
        raise invalid_params("Invalid param: WrongSize")
    return Pubkey.from_bytes(raw)


def parse_u64(v: Any, name: str) -> int:
    if isinstance(v, bool):
        raise invalid_params(f"Invalid params: invalid type for {name}, expected u64.")
    if isinstance(v, str) and v.isdigit() and len(v) <= 20:
        v = int(v)
    if not isinstance(v, int) or v < 0 or v > U64_MAX:
        raise invalid_params(f"Invalid params: invalid value for {name}, expected u64.")
    return v


def param(params: List[Any], i: int, default: Any = None) -> Any:
    return params[i] if len(params) > i and params[i] is not None else default


def config_param(params: List[Any], i: int) -> Dict[str, Any]:
    c = param(params, i, {})
    if not isinstance(c, dict):
        raise invalid_params("Invalid params: invalid type: expected a config object.")
    return c


# ---------------------------------------------------------------- token account layouts

def coption_pubkey(data: bytes, off: int) -> Optional[str]:
    tag = struct.unpack_from("<I", data, off)[0]
    return str(Pubkey.from_bytes(data[off + 4:off + 36])) if tag == 1 else None


def pack_coption_pubkey(pk: Optional[Pubkey]) -> bytes:
    return struct.pack("<I", 1) + bytes(pk) if pk is not None else b"\0" * 36


def pack_mint(authority: Optional[Pubkey], supply: int, decimals: int,
              freeze: Optional[Pubkey] = None) -> bytes:
    return pack_coption_pubkey(authority) + struct.pack("<QBB", supply, decimals, 1) + pack_coption_pubkey(freeze)


def pack_token_account(mint: Pubkey, owner: Pubkey, amount: int, token_2022: bool) -> bytes:
    base = (bytes(mint) + bytes(owner) + struct.pack("<Q", amount) + b"\0" * 36  # delegate: none
            + bytes([1])  # state: initialized
            + b"\0" * 12  # is_native: none
            + struct.pack("<Q", 0) + b"\0" * 36)  # delegated_amount, close_authority: none
    if token_2022:
        # What the ATA program creates under Token-2022: account type 2 + ImmutableOwner (7, len 0).
        base += bytes([2]) + struct.pack("<HH", 7, 0)
    return base


EXTENSION_NAMES = {
    1: "transferFeeConfig", 2: "transferFeeAmount", 3: "mintCloseAuthority", 4: "confidentialTransferMint",
    5: "confidentialTransferAccount", 6: "defaultAccountState", 7: "immutableOwner", 8: "memoTransfer",
    9: "nonTransferable", 10: "interestBearingConfig", 11: "cpiGuard", 12: "permanentDelegate",
    13: "nonTransferableAccount", 14: "transferHook", 15: "transferHookAccount",
    16: "confidentialTransferFeeConfig", 17: "confidentialTransferFeeAmount", 18: "metadataPointer",
    19: "tokenMetadata", 20: "groupPointer", 21: "tokenGroup", 22: "groupMemberPointer",
    23: "tokenGroupMember", 24: "confidentialMintBurn", 25: "scaledUiAmountConfig", 26: "pausableConfig",
    27: "pausableAccount",
}


def parse_extensions(data: bytes) -> List[Dict[str, Any]]:
    out = []
    off = 166
    while off + 4 <= len(data):
        typ, ln = struct.unpack_from("<HH", data, off)
        if typ == 0:
            break
        out.append({"extension": EXTENSION_NAMES.get(typ, "unparseableExtension")})
        off += 4 + ln
    return out


def token_kind(owner: str, data: bytes) -> Optional[str]:
    """'mint' / 'account' for a token program's account data that parses, else None."""
    if owner not in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM):
        return None
    if len(data) == 82:
        return "mint"
    if len(data) == 165:
        return "account"
    if owner == TOKEN_2022_PROGRAM and len(data) > 165:
        return {1: "mint", 2: "account"}.get(data[165])
    return None


def ui_amount_string(amount: int, decimals: int) -> str:
    if decimals == 0:
        return str(amount)
    s = str(amount).rjust(decimals + 1, "0")
    whole, frac = s[:-decimals], s[-decimals:].rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def token_amount(amount: int, decimals: int) -> Dict[str, Any]:
    return {"amount": str(amount), "decimals": decimals, "uiAmount": amount / 10**decimals,
            "uiAmountString": ui_amount_string(amount, decimals)}


def parse_mint(data: bytes) -> Dict[str, Any]:
    supply, decimals, initialized = struct.unpack_from("<QBB", data, 36)
    return {"decimals": decimals, "freezeAuthority": coption_pubkey(data, 46),
            "isInitialized": bool(initialized), "mintAuthority": coption_pubkey(data, 0),
            "supply": str(supply)}


# ---------------------------------------------------------------- transaction errors

INSTRUCTION_ERROR_TEXT = {
    "GenericError": "generic instruction error", "InvalidArgument": "invalid program argument",
    "InvalidInstructionData": "invalid instruction data", "InvalidAccountData": "invalid account data for instruction",
    "AccountDataTooSmall": "account data too small for instruction",
    "InsufficientFunds": "insufficient funds for instruction",
    "IncorrectProgramId": "incorrect program id for instruction",
    "MissingRequiredSignature": "missing required signature for instruction",
    "AccountAlreadyInitialized": "instruction requires an uninitialized account",
    "UninitializedAccount": "instruction requires an initialized account",
    "NotEnoughAccountKeys": "insufficient account keys for instruction",
    "AccountNotExecutable": "instruction expected an executable account",
    "ReadonlyLamportChange": "instruction changed the balance of a read-only account",
    "ReadonlyDataModified": "instruction modified data of a read-only account",
    "PrivilegeEscalation": "Cross-program invocation with unauthorized signer or writable account",
    "ProgramFailedToComplete": "Program failed to complete",
    "ComputationalBudgetExceeded": "Computational budget exceeded",
    "InvalidAccountOwner": "Invalid account owner", "UnsupportedProgramId": "Unsupported program id",
    "ExecutableModified": "instruction changed executable bit of an account",
}

TRANSACTION_ERROR_TEXT = {
    "AccountInUse": "Account in use", "AccountLoadedTwice": "Account loaded twice",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "ProgramAccountNotFound": "Attempt to load a program that does not exist",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "InvalidAccountForFee": "This account may not be used to pay transaction fees",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "CallChainTooDeep": "Loader call chain is too deep",
    "MissingSignatureForFee": "Transaction requires a fee but has no signature present",
    "InvalidAccountIndex": "Transaction contains an invalid account reference",
    "SignatureFailure": "Transaction did not pass signature verification",
    "InvalidProgramForExecution": "This program may not be used for executing instructions",
    "SanitizeFailure": "Transaction failed to sanitize accounts offsets correctly",
    "ClusterMaintenance": "Transactions are currently disabled due to cluster maintenance",
    "UnsupportedVersion": "Transaction version is unsupported",
    "InvalidWritableAccount": "Transaction loads a writable account that cannot be written",
    "WouldExceedMaxBlockCostLimit": "Transaction would exceed max Block Cost Limit",
    "TooManyAccountLocks": "Transaction locked too many accounts",
    "AddressLookupTableNotFound": "Transaction loads an address table account that doesn't exist",
    "InvalidRentPayingAccount": "Transaction leaves an account with a lower balance than rent-exempt minimum",
    "UnbalancedTransaction": "Sum of account balances before and after transaction do not match",
}


def error_json(err: Any) -> Any:
    """A solders TransactionError as the real node's JSON (e.g. {"InstructionError":[2,{"Custom":1}]})."""
    res = RpcSimulateTransactionResult(err=err, logs=None, accounts=None, units_consumed=None, return_data=None)
    return json.loads(res.to_json())["err"]


def error_text(ej: Any) -> str:
    """The real node's Display text of a TransactionError given as JSON."""
    if isinstance(ej, str):
        return TRANSACTION_ERROR_TEXT.get(ej, ej)
    if isinstance(ej, dict) and "InstructionError" in ej:
        idx, ie = ej["InstructionError"]
        if isinstance(ie, dict) and "Custom" in ie:
            text = f"custom program error: 0x{int(ie['Custom']):x}"
        elif isinstance(ie, str):
            text = INSTRUCTION_ERROR_TEXT.get(ie, ie)
        else:
            text = json.dumps(ie)
        return f"Error processing Instruction {idx}: {text}"
    if isinstance(ej, dict) and "InsufficientFundsForRent" in ej:
        return (f"Transaction results in an account ({ej['InsufficientFundsForRent'].get('account_index')}) "
                "with insufficient funds for rent")
    return json.dumps(ej)


# ---------------------------------------------------------------- the chain

class Chain:
    """LiteSVM plus the parts of a validator that RPC clients see (slots, blockhashes, statuses)."""

    def __init__(self, slot_ms: int = 400, blockhash_validity: int = BLOCKHASH_VALIDITY_BLOCKS) -> None:
        self.lock = threading.RLock()
        # Blockhash age is checked here (LiteSVM only knows one blockhash); LiteSVM still does
        # signature verification, fee payment, execution and the status-cache (AlreadyProcessed) check.
        self.svm = LiteSVM().with_blockhash_check(False)
        self.slot_s = slot_ms / 1000.0
        self.blockhash_validity = blockhash_validity
        clock = self.svm.get_clock()
        self.base_slot = clock.slot
        self.t0 = time.monotonic()
        self.slot_offset = 0  # added by svmnet_advanceSlots / svmnet_expireBlockhash
        self.clock_slot = -1
        self.issued: Dict[str, int] = {}  # blockhash -> slot it was the latest at
        self.expired: set[str] = set()
        self.statuses: "collections.OrderedDict[str, Tuple[int, Any]]" = collections.OrderedDict()
        self.stats: Dict[str, int] = collections.Counter()
        self.rent_cache: Dict[int, int] = {}

    # -- time
    def slot(self) -> int:
        return self.base_slot + int((time.monotonic() - self.t0) / self.slot_s) + self.slot_offset

    def sync_clock(self) -> int:
        s = self.slot()
        if s != self.clock_slot:
            self.clock_slot = s
            c = self.svm.get_clock()
            self.svm.set_clock(Clock(slot=s, epoch_start_timestamp=c.epoch_start_timestamp, epoch=c.epoch,
                                     leader_schedule_epoch=c.leader_schedule_epoch,
                                     unix_timestamp=int(time.time())))
            self.prune_blockhashes(s)
        return s

    def block_height(self) -> int:
        return self.slot()  # no skipped slots on this chain

    def context(self) -> Dict[str, Any]:
        return {"slot": self.sync_clock(), "apiVersion": SOLANA_CORE_VERSION}

    # -- blockhashes
    def blockhash_at(self, slot: int) -> str:
        return b58encode(hashlib.sha256(f"{SEED_PREFIX}blockhash/{slot}".encode()).digest())

    def latest_blockhash(self) -> Tuple[str, int]:
        s = self.sync_clock()
        h = self.blockhash_at(s)
        while h in self.expired:  # expired by a test at this very slot: move on
            self.slot_offset += 1
            s = self.sync_clock()
            h = self.blockhash_at(s)
        self.issued.setdefault(h, s)
        return h, self.issued[h] + self.blockhash_validity

    def prune_blockhashes(self, slot: int) -> None:
        if len(self.issued) > 4 * self.blockhash_validity:
            for h, s in list(self.issued.items()):
                if s + self.blockhash_validity < slot:
                    del self.issued[h]
                    self.expired.discard(h)

    def blockhash_valid(self, h: str) -> bool:
        s = self.issued.get(h)
        return s is not None and h not in self.expired and self.block_height() <= s + self.blockhash_validity

    def expire_blockhash(self, h: Optional[str]) -> List[str]:
        if h is not None:
            gone = [h] if h in self.issued else []
            self.expired.add(h)
        else:
            gone = [x for x in self.issued if x not in self.expired]
            self.expired.update(gone)
        return gone

    # -- accounts
    def rent(self, n: int) -> int:
        if n not in self.rent_cache:
            self.rent_cache[n] = self.svm.minimum_balance_for_rent_exemption(n)
        return self.rent_cache[n]

    def get(self, pk: Pubkey) -> Optional[Account]:
        acc = self.svm.get_account(pk)
        if acc is None or (acc.lamports == 0 and not acc.data and str(acc.owner) == SYSTEM_PROGRAM):
            return None
        return acc

    def set_lamports(self, pk: Pubkey, lamports: int) -> None:
        acc = self.svm.get_account(pk)
        if acc is None:
            acc = Account(lamports=lamports, data=b"", owner=Pubkey.from_string(SYSTEM_PROGRAM), executable=False)
        else:
            acc = Account(lamports=lamports, data=bytes(acc.data), owner=acc.owner, executable=acc.executable,
                          rent_epoch=acc.rent_epoch)
        self.svm.set_account(pk, acc)

    def create_mint(self, address: Pubkey, program: str, decimals: int, authority: Optional[Pubkey],
                    freeze: Optional[Pubkey] = None, supply: int = 0) -> None:
        data = pack_mint(authority, supply, decimals, freeze)
        self.svm.set_account(address, Account(lamports=self.rent(len(data)), data=data,
                                              owner=Pubkey.from_string(program), executable=False,
                                              rent_epoch=RENT_EPOCH_EXEMPT))

    def mint_info(self, mint: Pubkey) -> Tuple[str, Dict[str, Any], bytes]:
        acc = self.get(mint)
        if acc is None:
            raise invalid_params(f"Invalid param: mint {mint} not found")
        owner, data = str(acc.owner), bytes(acc.data)
        if token_kind(owner, data) != "mint":
            raise invalid_params(f"Invalid param: {mint} is not a token mint")
        return owner, parse_mint(data), data

    def adjust_supply(self, mint: Pubkey, delta: int) -> None:
        acc = self.svm.get_account(mint)
        data = bytearray(bytes(acc.data))
        supply = struct.unpack_from("<Q", data, 36)[0] + delta
        if not 0 <= supply <= U64_MAX:
            raise invalid_params("Invalid param: mint supply out of range")
        struct.pack_into("<Q", data, 36, supply)
        self.svm.set_account(mint, Account(lamports=acc.lamports, data=bytes(data), owner=acc.owner,
                                           executable=False, rent_epoch=acc.rent_epoch))

    def write_token_account(self, address: Pubkey, owner: Pubkey, mint: Pubkey, amount: int) -> None:
        program, _, _ = self.mint_info(mint)
        old = self.get(address)
        old_amount = 0
        if old is not None:
            if token_kind(str(old.owner), bytes(old.data)) != "account":
                raise invalid_params(f"Invalid param: {address} exists and is not a token account")
            if bytes(old.data)[:32] != bytes(mint):
                raise invalid_params(f"Invalid param: {address} is a token account of another mint")
            old_amount = struct.unpack_from("<Q", bytes(old.data), 64)[0]
        self.adjust_supply(mint, amount - old_amount)
        data = pack_token_account(mint, owner, amount, program == TOKEN_2022_PROGRAM)
        self.svm.set_account(address, Account(lamports=self.rent(len(data)), data=data,
                                              owner=Pubkey.from_string(program), executable=False,
                                              rent_epoch=RENT_EPOCH_EXEMPT))

    def ata(self, owner: Pubkey, mint: Pubkey) -> Pubkey:
        program, _, _ = self.mint_info(mint)
        return Pubkey.find_program_address([bytes(owner), bytes(Pubkey.from_string(program)), bytes(mint)],
                                           Pubkey.from_string(ATA_PROGRAM))[0]

    def record_status(self, sig: str, slot: int, err: Any) -> None:
        self.statuses[sig] = (slot, err)
        while len(self.statuses) > MAX_STATUS_HISTORY:
            self.statuses.popitem(last=False)


# ---------------------------------------------------------------- the start state

def build_start_state(chain: Chain, rpc_url: str) -> Dict[str, Any]:
    """Deterministic accounts: keys from fixed seeds, mints, ATAs and balances written directly."""
    c = chain
    sysid = Pubkey.from_string(SYSTEM_PROGRAM)

    def wallet(label: str, role: str, lamports: int) -> Dict[str, Any]:
        kp = keypair_for(label)
        c.set_lamports(kp.pubkey(), lamports)
        return {"role": role, "label": label, "address": str(kp.pubkey()), "secretKey": str(kp),
                "secretKeyBytes": list(bytes(kp)), "lamports": lamports}

    mint_authority = wallet("mint-authority", "mintAuthority", 10 * LAMPORTS_PER_SOL)
    mint_auth_pk = Pubkey.from_string(mint_authority["address"])
    usdc = Pubkey.from_string(DEVNET_USDC_MINT)
    usdc22 = keypair_for("usdc-token2022-mint").pubkey()
    c.create_mint(usdc, TOKEN_PROGRAM, USDC_DECIMALS, mint_auth_pk)
    c.create_mint(usdc22, TOKEN_2022_PROGRAM, USDC_DECIMALS, mint_auth_pk)
    mints = {"usdc": usdc, "usdcToken2022": usdc22}

    facilitators = [wallet(f"facilitator-{i}", "facilitator", 1_000 * LAMPORTS_PER_SOL) for i in range(2)]
    payers = [wallet(f"payer-{i}", "payer", 10 * LAMPORTS_PER_SOL) for i in range(4)]
    sellers = [wallet(f"seller-{i}", "seller", 0) for i in range(2)]
    payer_units = 1_000_000 * 10**USDC_DECIMALS
    for group, amount in ((payers, payer_units), (sellers, 0)):
        for w in group:
            owner = Pubkey.from_string(w["address"])
            w["tokenAccounts"] = {}
            for name, mint in mints.items():
                ata = c.ata(owner, mint)
                c.write_token_account(ata, owner, mint, amount)
                w["tokenAccounts"][name] = {"address": str(ata), "mint": str(mint), "amount": str(amount)}
    _ = sysid

    def mint_json(name: str, pk: Pubkey) -> Dict[str, Any]:
        program, info, _ = c.mint_info(pk)
        return {"name": name, "address": str(pk), "tokenProgram": program, "decimals": info["decimals"],
                "mintAuthority": info["mintAuthority"], "supply": info["supply"]}

    return {
        "rpcUrl": rpc_url,
        "network": NETWORK,
        "v1Network": V1_NETWORK,
        "genesisHash": GENESIS_HASH,
        "seedPrefix": SEED_PREFIX,
        "slotMs": int(c.slot_s * 1000),
        "blockhashValidityBlocks": c.blockhash_validity,
        "programs": {"system": SYSTEM_PROGRAM, "token": TOKEN_PROGRAM, "token2022": TOKEN_2022_PROGRAM,
                     "associatedToken": ATA_PROGRAM, "memo": MEMO_PROGRAM, "computeBudget": COMPUTE_BUDGET_PROGRAM},
        "mints": {"usdc": mint_json("USDC", usdc), "usdcToken2022": mint_json("USDC (Token-2022)", usdc22)},
        "mintAuthority": mint_authority,
        "facilitators": facilitators,
        "payers": payers,
        "sellers": sellers,
    }


# ---------------------------------------------------------------- RPC methods

def decode_tx(params: List[Any], cfg: Dict[str, Any]) -> Tuple[VersionedTransaction, bytes]:
    data = param(params, 0)
    if not isinstance(data, str):
        raise invalid_params("Invalid params: invalid type: expected a string transaction.")
    enc = cfg.get("encoding", "base58")
    if enc == "base64":
        if len(data) > MAX_BASE64_SIZE:
            raise invalid_params(f"base64 encoded solana_transaction::versioned::VersionedTransaction too large: "
                                 f"{len(data)} bytes (max: encoded/raw {MAX_BASE64_SIZE}/{PACKET_DATA_SIZE})")
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError as e:
            raise invalid_params(f"invalid base64 encoding: {e}") from None
    elif enc == "base58":
        if len(data) > MAX_BASE58_SIZE:
            raise invalid_params(f"base58 encoded solana_transaction::versioned::VersionedTransaction too large: "
                                 f"{len(data)} bytes (max: encoded/raw {MAX_BASE58_SIZE}/{PACKET_DATA_SIZE})")
        try:
            raw = b58decode(data, MAX_BASE58_SIZE)
        except ValueError:
            raise invalid_params("invalid base58 encoding: InvalidCharacter") from None
    else:
        raise invalid_params(f"Invalid params: unsupported encoding: {enc}. Supported encodings: base58, base64")
    if len(raw) > PACKET_DATA_SIZE:
        raise invalid_params(f"decoded solana_transaction::versioned::VersionedTransaction too large: "
                             f"{len(raw)} bytes (max: {PACKET_DATA_SIZE} bytes)")
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except Exception as e:  # noqa: BLE001 - any decoder failure is the client's
        raise invalid_params(f"failed to deserialize solana_transaction::versioned::VersionedTransaction: {e}") from None
    if bytes(tx) != raw:
        raise invalid_params("failed to deserialize solana_transaction::versioned::VersionedTransaction: "
                             "trailing bytes")
    try:
        tx.sanitize()
    except Exception:  # noqa: BLE001
        raise invalid_params("invalid transaction: Transaction failed to sanitize accounts offsets correctly") from None
    return tx, raw


def message_offset(raw: bytes) -> int:
    """Offset of the message in a wire transaction (after the shortvec count and signatures)."""
    n, shift, i = 0, 0, 0
    while True:
        b = raw[i]
        n |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        shift += 7
    return i + 64 * n


def replace_blockhash(raw: bytes, new_hash: str) -> VersionedTransaction:
    off = message_offset(raw)
    i = off + (1 if raw[off] & 0x80 else 0) + 3  # version prefix, header
    n, shift = 0, 0
    while True:
        b = raw[i]
        n |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        shift += 7
    i += 32 * n
    patched = raw[:i] + b58decode(new_hash, 44) + raw[i + 32:]
    return VersionedTransaction.from_bytes(patched)


class RPC:
    def __init__(self, chain: Chain, rpc_url: str) -> None:
        self.c = chain
        self.rpc_url = rpc_url
        self.state: Dict[str, Any] = {}
        self.started = time.time()
        self.methods: Dict[str, Callable[[List[Any]], Any]] = {
            "getLatestBlockhash": self.get_latest_blockhash,
            "isBlockhashValid": self.is_blockhash_valid,
            "getAccountInfo": self.get_account_info,
            "getMultipleAccounts": self.get_multiple_accounts,
            "getBalance": self.get_balance,
            "getTokenAccountBalance": self.get_token_account_balance,
            "getTokenSupply": self.get_token_supply,
            "simulateTransaction": self.simulate_transaction,
            "sendTransaction": self.send_transaction,
            "getSignatureStatuses": self.get_signature_statuses,
            "getMinimumBalanceForRentExemption": self.get_min_rent,
            "getSlot": lambda p: self.c.sync_clock(),
            "getBlockHeight": lambda p: (self.c.sync_clock(), self.c.block_height())[1],
            "getEpochInfo": self.get_epoch_info,
            "getHealth": lambda p: "ok",
            "getVersion": lambda p: {"solana-core": SOLANA_CORE_VERSION, "feature-set": FEATURE_SET},
            "getGenesisHash": lambda p: GENESIS_HASH,
            "getFeeForMessage": self.get_fee_for_message,
            "requestAirdrop": self.request_airdrop,
            "svmnet_state": lambda p: self.state,
            "svmnet_airdrop": self.request_airdrop,
            "svmnet_createMint": self.svmnet_create_mint,
            "svmnet_createTokenAccount": self.svmnet_create_token_account,
            "svmnet_createAta": self.svmnet_create_token_account,
            "svmnet_setTokenBalance": self.svmnet_set_token_balance,
            "svmnet_setLamports": self.svmnet_set_lamports,
            "svmnet_setAccount": self.svmnet_set_account,
            "svmnet_expireBlockhash": self.svmnet_expire_blockhash,
            "svmnet_advanceSlots": self.svmnet_advance_slots,
            "svmnet_stats": self.svmnet_stats,
        }

    # -- reads
    def get_latest_blockhash(self, p):
        h, last_valid = self.c.latest_blockhash()
        return {"context": self.c.context(), "value": {"blockhash": h, "lastValidBlockHeight": last_valid}}

    def is_blockhash_valid(self, p):
        h = param(p, 0)
        if not isinstance(h, str):
            raise invalid_params("Invalid params: invalid type: expected a blockhash string.")
        return {"context": self.c.context(), "value": self.c.blockhash_valid(h)}

    def account_json(self, acc: Optional[Account], cfg: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if acc is None:
            return None
        enc = cfg.get("encoding", "base58")
        owner, data = str(acc.owner), bytes(acc.data)
        ds = cfg.get("dataSlice")
        out = {"executable": acc.executable, "lamports": acc.lamports, "owner": owner,
               "rentEpoch": acc.rent_epoch, "space": len(data)}
        if enc == "jsonParsed":
            kind = token_kind(owner, data)
            if kind is not None:
                program = "spl-token" if owner == TOKEN_PROGRAM else "spl-token-2022"
                if kind == "mint":
                    info = parse_mint(data)
                else:
                    info = self.token_account_info(data)
                if owner == TOKEN_2022_PROGRAM and len(data) > 165:
                    ext = parse_extensions(data)
                    if ext:
                        info["extensions"] = ext
                out["data"] = {"parsed": {"info": info, "type": kind}, "program": program, "space": len(data)}
                return out
            enc = "base64"  # the real node falls back to base64 for data it cannot parse
        if isinstance(ds, dict):
            off = parse_u64(ds.get("offset", 0), "offset")
            ln = parse_u64(ds.get("length", 0), "length")
            data = data[off:off + ln]
        if enc == "base64":
            out["data"] = [base64.b64encode(data).decode(), "base64"]
        elif enc == "base58":
            if len(data) > 128:
                raise invalid_params("Encoded binary (base 58) data should be less than 128 bytes, "
                                     "please use Base64 encoding.")
            out["data"] = [b58encode(data), "base58"]
        elif enc == "base64+zstd":
            raise invalid_params("Invalid params: base64+zstd is not supported by svmnet.")
        else:
            raise invalid_params(f"Invalid params: unknown encoding {enc}.")
        return out

    def token_account_info(self, data: bytes) -> Dict[str, Any]:
        mint = Pubkey.from_bytes(data[:32])
        decimals = 0
        macc = self.c.get(mint)
        if macc is not None and token_kind(str(macc.owner), bytes(macc.data)) == "mint":
            decimals = bytes(macc.data)[44]
        amount = struct.unpack_from("<Q", data, 64)[0]
        state = {0: "uninitialized", 1: "initialized", 2: "frozen"}.get(data[108], "uninitialized")
        native = struct.unpack_from("<I", data, 109)[0] == 1
        info: Dict[str, Any] = {"isNative": native, "mint": str(mint),
                                "owner": str(Pubkey.from_bytes(data[32:64])), "state": state,
                                "tokenAmount": token_amount(amount, decimals)}
        delegate = coption_pubkey(data, 72)
        if delegate:
            info["delegate"] = delegate
            info["delegatedAmount"] = token_amount(struct.unpack_from("<Q", data, 121)[0], decimals)
        close = coption_pubkey(data, 129)
        if close:
            info["closeAuthority"] = close
        if native:
            info["rentExemptReserve"] = token_amount(struct.unpack_from("<Q", data, 113)[0], 9)
        return info

    def get_account_info(self, p):
        pk = parse_pubkey(param(p, 0))
        cfg = config_param(p, 1)
        return {"context": self.c.context(), "value": self.account_json(self.c.get(pk), cfg)}

    def get_multiple_accounts(self, p):
        keys = param(p, 0)
        if not isinstance(keys, list):
            raise invalid_params("Invalid params: invalid type: expected a list of pubkeys.")
        if len(keys) > MAX_MULTIPLE_ACCOUNTS:
            raise invalid_params(f"Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")
        cfg = config_param(p, 1)
        pks = [parse_pubkey(k) for k in keys]
        return {"context": self.c.context(), "value": [self.account_json(self.c.get(pk), cfg) for pk in pks]}

    def get_balance(self, p):
        pk = parse_pubkey(param(p, 0))
        acc = self.c.get(pk)
        return {"context": self.c.context(), "value": acc.lamports if acc else 0}

    def get_token_account_balance(self, p):
        pk = parse_pubkey(param(p, 0))
        acc = self.c.get(pk)
        if acc is None or token_kind(str(acc.owner), bytes(acc.data)) != "account":
            raise invalid_params("Invalid param: could not find account" if acc is None
                                 else "Invalid param: not a Token account")
        info = self.token_account_info(bytes(acc.data))
        return {"context": self.c.context(), "value": info["tokenAmount"]}

    def get_token_supply(self, p):
        pk = parse_pubkey(param(p, 0))
        acc = self.c.get(pk)
        if acc is None or token_kind(str(acc.owner), bytes(acc.data)) != "mint":
            raise invalid_params("Invalid param: not a Token mint")
        info = parse_mint(bytes(acc.data))
        return {"context": self.c.context(), "value": token_amount(int(info["supply"]), info["decimals"])}

    def get_min_rent(self, p):
        n = parse_u64(param(p, 0), "data length")
        if n > 10 * 1024 * 1024:
            raise invalid_params("Invalid params: data length exceeds 10 MiB")
        return self.c.rent(n)

    def get_epoch_info(self, p):
        s = self.c.sync_clock()
        return {"absoluteSlot": s, "blockHeight": self.c.block_height(), "epoch": s // 432_000,
                "slotIndex": s % 432_000, "slotsInEpoch": 432_000, "transactionCount": len(self.c.statuses)}

    def get_fee_for_message(self, p):
        data = param(p, 0)
        if not isinstance(data, str):
            raise invalid_params("Invalid params: invalid type: expected a base64 message.")
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            raise invalid_params("invalid base64 encoding") from None
        if not raw:
            raise invalid_params("invalid message")
        off = 1 if raw[0] & 0x80 else 0
        if len(raw) < off + 1:
            raise invalid_params("invalid message")
        return {"context": self.c.context(), "value": 5000 * raw[off]}

    def get_signature_statuses(self, p):
        sigs = param(p, 0)
        if not isinstance(sigs, list):
            raise invalid_params("Invalid params: invalid type: expected a list of signatures.")
        if len(sigs) > MAX_STATUSES:
            raise invalid_params(f"Too many inputs provided; max {MAX_STATUSES}")
        for s in sigs:
            if not isinstance(s, str) or len(s) > 88:
                raise invalid_params("Invalid param: Invalid")
        ctx = self.c.context()
        now = ctx["slot"]
        out = []
        for s in sigs:
            st = self.c.statuses.get(s)
            if st is None:
                out.append(None)
                continue
            slot, err = st
            conf = now - slot
            finalized = conf >= FINALIZED_DEPTH
            out.append({"slot": slot, "confirmations": None if finalized else conf, "err": err,
                        "status": {"Ok": None} if err is None else {"Err": err},
                        "confirmationStatus": "finalized" if finalized else "confirmed"})
        return {"context": ctx, "value": out}

    # -- transactions
    def verify_signatures(self, tx: VersionedTransaction) -> None:
        if not all(tx.verify_with_results()):
            raise RPCError(-32003, "Transaction signature verification failure")

    def run_simulation(self, tx: VersionedTransaction, sig_verify_in_runtime: bool) -> Dict[str, Any]:
        """LiteSVM simulation as the RPC `value` object (err, logs, accounts, unitsConsumed, ...)."""
        h = str(tx.message.recent_blockhash)
        if not self.c.blockhash_valid(h):
            return self.sim_value("BlockhashNotFound", [], 0)
        self.c.svm.with_sigverify(sig_verify_in_runtime)
        try:
            r = self.c.svm.simulate_transaction(tx)
        finally:
            self.c.svm.with_sigverify(True)
        if isinstance(r, FailedTransactionMetadata):
            meta = r.meta()
            return self.sim_value(error_json(r.err()), meta.logs(), meta.compute_units_consumed())
        meta = r.meta()
        return self.sim_value(None, meta.logs(), meta.compute_units_consumed())

    @staticmethod
    def sim_value(err: Any, logs: List[str], units: int) -> Dict[str, Any]:
        return {"err": err, "logs": list(logs), "accounts": None, "unitsConsumed": units,
                "returnData": None, "innerInstructions": None, "replacementBlockhash": None,
                "loadedAccountsDataSize": None}

    def simulate_transaction(self, p):
        cfg = config_param(p, 1)
        sig_verify = bool(cfg.get("sigVerify", False))
        replace = bool(cfg.get("replaceRecentBlockhash", False))
        if sig_verify and replace:
            raise invalid_params("sigVerify may not be used with replaceRecentBlockhash")
        tx, raw = decode_tx(p, cfg)
        ctx = self.c.context()
        replacement = None
        if replace:
            h, last_valid = self.c.latest_blockhash()
            tx = replace_blockhash(raw, h)
            replacement = {"blockhash": h, "lastValidBlockHeight": last_valid}
        if sig_verify:
            self.verify_signatures(tx)
        value = self.run_simulation(tx, sig_verify_in_runtime=sig_verify)
        value["replacementBlockhash"] = replacement
        return {"context": ctx, "value": value}

    def send_transaction(self, p):
        cfg = config_param(p, 1)
        tx, _ = decode_tx(p, cfg)
        # Like the real node: signatures are always verified, preflight only without skipPreflight.
        self.verify_signatures(tx)
        sig = str(tx.signatures[0])
        if not cfg.get("skipPreflight", False):
            value = self.run_simulation(tx, sig_verify_in_runtime=True)
            if value["err"] is not None:
                raise RPCError(-32002, f"Transaction simulation failed: {error_text(value['err'])}", value)
        elif not self.c.blockhash_valid(str(tx.message.recent_blockhash)):
            return sig  # a real leader drops it: accepted, never lands, no status
        slot = self.c.sync_clock()
        r = self.c.svm.send_transaction(tx)
        if isinstance(r, FailedTransactionMetadata):
            ej = error_json(r.err())
            if ej == "AlreadyProcessed":
                return sig  # a duplicate sent without preflight is dropped; the first one stands
            if self.c.svm.get_transaction(tx.signatures[0]) is not None:
                self.c.record_status(sig, slot, ej)  # executed and failed: lands with err, fee charged
            return sig
        self.c.record_status(sig, slot, None)
        return sig

    def request_airdrop(self, p):
        pk = parse_pubkey(param(p, 0))
        lamports = parse_u64(param(p, 1), "lamports")
        self.c.svm.expire_blockhash()  # a fresh internal blockhash: equal airdrops are distinct transactions
        r = self.c.svm.airdrop(pk, lamports)
        if isinstance(r, FailedTransactionMetadata):
            raise RPCError(-32603, f"airdrop failed: {error_text(error_json(r.err()))}")
        sig = str(r.signature())
        self.c.record_status(sig, self.c.sync_clock(), None)
        return sig

    # -- svmnet_ helpers
    @staticmethod
    def obj_or_positional(p: List[Any], names: List[str]) -> Dict[str, Any]:
        if len(p) == 1 and isinstance(p[0], dict):
            return p[0]
        return {n: p[i] for i, n in enumerate(names) if i < len(p)}

    def svmnet_create_mint(self, p):
        a = self.obj_or_positional(p, ["decimals", "tokenProgram", "mintAuthority", "address", "freezeAuthority"])
        decimals = a.get("decimals", USDC_DECIMALS)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 255:
            raise invalid_params("Invalid params: decimals must be 0...255")
        program = TOKEN_PROGRAMS.get(a.get("tokenProgram", "spl"))
        if program is None:
            raise invalid_params('Invalid params: tokenProgram must be "spl" or "token2022"')
        authority = parse_pubkey(a["mintAuthority"]) if a.get("mintAuthority") else \
            Pubkey.from_string(self.state["mintAuthority"]["address"])
        freeze = parse_pubkey(a["freezeAuthority"]) if a.get("freezeAuthority") else None
        address = parse_pubkey(a["address"]) if a.get("address") else Keypair().pubkey()
        if self.c.get(address) is not None:
            raise invalid_params(f"Invalid params: account {address} already exists")
        self.c.create_mint(address, program, decimals, authority, freeze)
        return str(address)

    def svmnet_create_token_account(self, p):
        a = self.obj_or_positional(p, ["owner", "mint", "amount", "address"])
        owner = parse_pubkey(a.get("owner"))
        mint = parse_pubkey(a.get("mint"))
        amount = parse_u64(a.get("amount", 0), "amount")
        address = parse_pubkey(a["address"]) if a.get("address") else self.c.ata(owner, mint)
        self.c.write_token_account(address, owner, mint, amount)
        return str(address)

    def svmnet_set_token_balance(self, p):
        a = self.obj_or_positional(p, ["account", "amount"])
        if "account" in a:
            address = parse_pubkey(a["account"])
        else:
            address = self.c.ata(parse_pubkey(a.get("owner")), parse_pubkey(a.get("mint")))
        amount = parse_u64(a.get("amount"), "amount")
        acc = self.c.get(address)
        if acc is None or token_kind(str(acc.owner), bytes(acc.data)) != "account":
            raise invalid_params(f"Invalid params: {address} is not a token account")
        data = bytes(acc.data)
        self.c.write_token_account(address, Pubkey.from_bytes(data[32:64]), Pubkey.from_bytes(data[:32]), amount)
        return str(address)

    def svmnet_set_lamports(self, p):
        pk = parse_pubkey(param(p, 0))
        self.c.set_lamports(pk, parse_u64(param(p, 1), "lamports"))
        return True

    def svmnet_set_account(self, p):
        pk = parse_pubkey(param(p, 0))
        a = param(p, 1)
        if not isinstance(a, dict):
            raise invalid_params("Invalid params: expected {lamports, data (base64), owner, executable}")
        try:
            data = base64.b64decode(a.get("data", ""), validate=True)
        except ValueError:
            raise invalid_params("Invalid params: data must be base64") from None
        if len(data) > 10 * 1024 * 1024:
            raise invalid_params("Invalid params: data larger than 10 MiB")
        owner = parse_pubkey(a.get("owner", SYSTEM_PROGRAM))
        lamports = parse_u64(a.get("lamports", self.c.rent(len(data))), "lamports")
        self.c.svm.set_account(pk, Account(lamports=lamports, data=data, owner=owner,
                                           executable=bool(a.get("executable", False)),
                                           rent_epoch=RENT_EPOCH_EXEMPT))
        return True

    def svmnet_expire_blockhash(self, p):
        h = param(p, 0)
        if h is not None and not isinstance(h, str):
            raise invalid_params("Invalid params: expected a blockhash string or nothing")
        gone = self.c.expire_blockhash(h)
        latest, last_valid = self.c.latest_blockhash()
        return {"expired": gone, "latest": {"blockhash": latest, "lastValidBlockHeight": last_valid}}

    def svmnet_advance_slots(self, p):
        n = parse_u64(param(p, 0, 1), "slots")
        if n > 10_000_000:
            raise invalid_params("Invalid params: at most 10000000 slots at once")
        self.c.slot_offset += n
        return self.c.sync_clock()

    def svmnet_stats(self, p):
        return {"calls": dict(sorted(self.c.stats.items())), "total": sum(self.c.stats.values()),
                "uptimeSeconds": round(time.time() - self.started, 3), "slot": self.c.sync_clock(),
                "transactions": len(self.c.statuses)}

    # -- dispatch
    def handle_one(self, req: Any) -> Optional[Dict[str, Any]]:
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
            rid = req.get("id") if isinstance(req, dict) and isinstance(req.get("id"), (str, int)) else None
            return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}, "id": rid}
        rid = req.get("id")
        if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (str, int))):
            return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}, "id": None}
        method = req["method"]
        params = req.get("params", [])
        fn = self.methods.get(method)
        try:
            if fn is None:
                raise RPCError(-32601, "Method not found")
            if params is None:
                params = []
            if not isinstance(params, list):
                raise invalid_params("Invalid params: invalid type: map, expected a sequence.")
            with self.c.lock:
                self.c.stats[method] += 1
                result = fn(params)
            resp: Dict[str, Any] = {"jsonrpc": "2.0", "result": result, "id": rid}
        except RPCError as e:
            err: Dict[str, Any] = {"code": e.code, "message": e.message}
            if e.data is not None:
                err["data"] = e.data
            resp = {"jsonrpc": "2.0", "error": err, "id": rid}
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as e:
            resp = {"jsonrpc": "2.0", "error": {"code": -32602, "message": f"Invalid params: {e}"}, "id": rid}
        except Exception as e:  # noqa: BLE001
            print(f"svmnet: {method} raised {e!r}", file=sys.stderr, flush=True)
            resp = {"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error"}, "id": rid}
        if "id" not in req:
            return None  # notification
        return resp

    def handle_body(self, body: bytes) -> Optional[bytes]:
        try:
            req = json.loads(body)
        except (ValueError, RecursionError):
            return json.dumps({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"},
                               "id": None}).encode()
        if isinstance(req, list):
            if not req or len(req) > MAX_BATCH:
                return json.dumps({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"},
                                   "id": None}).encode()
            out = [r for r in (self.handle_one(x) for x in req) if r is not None]
            return json.dumps(out).encode() if out else None
        r = self.handle_one(req)
        return json.dumps(r).encode() if r is not None else None


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rpc: RPC = None  # type: ignore[assignment]
    quiet = True
    timeout = 60  # seconds a keep-alive connection may idle

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, code: int, body: bytes, ctype: str = "application/json", close: bool = False) -> None:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  411: "Length Required", 413: "Payload Too Large", 415: "Unsupported Media Type"}.get(code, "OK")
        head = (f"HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                + ("Connection: close\r\n" if close else "") + "\r\n").encode()
        self.wfile.write(head + body)
        if close:
            self.close_connection = True

    def read_body(self) -> Optional[bytes]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts, total = [], 0
            while True:
                line = self.rfile.readline(64)
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    self._send(400, b"invalid chunked body\n", "text/plain", close=True)
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                total += size
                if total > MAX_BODY_BYTES:
                    self._send(413, b"", close=True)
                    return None
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)
        cl = self.headers.get("Content-Length")
        if cl is None:
            self._send(411, b"", close=True)
            return None
        try:
            n = int(cl)
        except ValueError:
            self._send(400, b"invalid Content-Length\n", "text/plain", close=True)
            return None
        if n < 0 or n > MAX_BODY_BYTES:
            self._send(413, b"", close=True)
            return None
        return self.rfile.read(n) if n else b""

    def do_POST(self) -> None:  # noqa: N802
        body = self.read_body()
        if body is None:
            return
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype not in ("application/json", ""):
            self._send(415, b"Supplied content type is not allowed. Content-Type: application/json is required\n",
                       "text/plain")
            return
        out = self.rpc.handle_body(body)
        self._send(200, out if out is not None else b"")

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?")[0] == "/health":
            self._send(200, b"ok", "text/plain")
        else:
            self._send(405, b"Used HTTP Method is not allowed. POST or OPTIONS is required\n", "text/plain")

    def log_message(self, fmt: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(fmt, *args)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="swift-x402 local Solana chain (JSON-RPC on 127.0.0.1, LiteSVM)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("X402_SVMNET_PORT", "8899")))
    ap.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; keep it local)")
    ap.add_argument("--state-out", help="also write the state JSON to this file")
    ap.add_argument("--slot-ms", type=int, default=400, help="wall-clock milliseconds per slot (default 400)")
    ap.add_argument("--blockhash-validity", type=int, default=BLOCKHASH_VALIDITY_BLOCKS,
                    help="blocks a blockhash stays valid (default 150, like a validator)")
    ap.add_argument("--verbose", action="store_true", help="log HTTP requests to stderr")
    args = ap.parse_args(argv)
    if args.slot_ms < 1 or args.blockhash_validity < 1:
        ap.error("--slot-ms and --blockhash-validity must be positive")

    try:
        server = Server((args.host, args.port), Handler)
    except OSError as e:
        print(f"svmnet: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    chain = Chain(slot_ms=args.slot_ms, blockhash_validity=args.blockhash_validity)
    rpc_url = f"http://{args.host}:{server.server_address[1]}"
    rpc = RPC(chain, rpc_url)
    with chain.lock:
        rpc.state = build_start_state(chain, rpc_url)
    Handler.rpc = rpc
    Handler.quiet = not args.verbose

    text = json.dumps(rpc.state, indent=2)
    if args.state_out:
        tmp = args.state_out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, args.state_out)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    print(f"svmnet: ready {time.time() - _T_START:.2f}s after process start, network {NETWORK}, "
          f"listening on {rpc_url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("svmnet: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
