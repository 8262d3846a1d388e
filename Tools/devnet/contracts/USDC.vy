# pragma version 0.4.3
# pragma evm-version prague
# Venom code generator: ~25% fewer executed opcodes than the legacy one, which
# makes eth_call on the devnet faster; test_devnet.py covers the behaviour.
# pragma experimental-codegen
"""
@title Devnet USDC (EIP-3009 test token)
@notice Test-only stand-in for Circle's FiatTokenV2_2 on the local devnet.
        It mirrors the externally visible behaviour x402 relies on:
        ERC-20, EIP-712 domain {name "USDC", version "2", chainId, this},
        EIP-3009 (transfer/receiveWithAuthorization in both the (v,r,s) and the
        `bytes signature` form, cancelAuthorization), EIP-2612 permit,
        ERC-1271 signatures for contract signers, and USDC's revert strings.
        There is no constructor: the devnet writes the runtime code and the
        initial storage (minter, balances, totalSupply) into genesis state.
        Not part of the Swift product.
"""

# ---------------------------------------------------------------- events

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Mint:
    minter: indexed(address)
    to: indexed(address)
    amount: uint256

event AuthorizationUsed:
    authorizer: indexed(address)
    nonce: indexed(bytes32)

event AuthorizationCanceled:
    authorizer: indexed(address)
    nonce: indexed(bytes32)

# ---------------------------------------------------------------- constants

NAME: constant(String[4]) = "USDC"
SYMBOL: constant(String[4]) = "USDC"
VERSION: constant(String[1]) = "2"
DECIMALS: constant(uint8) = 6

# keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
EIP712_DOMAIN_TYPEHASH: constant(bytes32) = keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
NAME_HASH: constant(bytes32) = keccak256("USDC")
VERSION_HASH: constant(bytes32) = keccak256("2")

TRANSFER_WITH_AUTHORIZATION_TYPEHASH: public(constant(bytes32)) = keccak256("TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)")
RECEIVE_WITH_AUTHORIZATION_TYPEHASH: public(constant(bytes32)) = keccak256("ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)")
CANCEL_AUTHORIZATION_TYPEHASH: public(constant(bytes32)) = keccak256("CancelAuthorization(address authorizer,bytes32 nonce)")
PERMIT_TYPEHASH: public(constant(bytes32)) = keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)")

# secp256k1n / 2
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168

ERC1271_MAGIC: constant(bytes4) = 0x1626ba7e

# Longest signature accepted by the `bytes signature` overloads (smart-wallet
# signatures are longer than 65 bytes).
MAX_SIG: constant(uint256) = 2048
# Longest calldata accepted by the selector-dispatched overloads.
MAX_CALLDATA: constant(uint256) = 2500

IDENTITY_PRECOMPILE: constant(address) = 0x0000000000000000000000000000000000000004

# Selectors of the `bytes signature` overloads (Vyper has no overloading, so
# they are dispatched by hand in __default__).
SEL_TRANSFER_WITH_AUTH_BYTES: constant(bytes4) = 0xcf092995
SEL_RECEIVE_WITH_AUTH_BYTES: constant(bytes4) = 0x88b7ab63
SEL_CANCEL_AUTH_BYTES: constant(bytes4) = 0xb7b72899
SEL_PERMIT_BYTES: constant(bytes4) = 0x9fd5a6cf

# ---------------------------------------------------------------- storage
# Storage layout is read by devnet.py (vyper -f layout) to write genesis state.

minter: public(address)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
authorizationState: public(HashMap[address, HashMap[bytes32, bool]])
nonces: public(HashMap[address, uint256])

# ---------------------------------------------------------------- metadata

@external
@view
def name() -> String[4]:
    return NAME


@external
@view
def symbol() -> String[4]:
    return SYMBOL


@external
@view
def version() -> String[1]:
    return VERSION


@external
@view
def decimals() -> uint8:
    return DECIMALS


@external
@view
def currency() -> String[3]:
    return "USD"


@external
@view
def isMinter(account: address) -> bool:
    return account == self.minter


@internal
@view
def _domain_separator() -> bytes32:
    # Computed on every use (like FiatTokenV2_2), so it follows chain.id and
    # the address the code was placed at.
    return keccak256(abi_encode(EIP712_DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chain.id, self))


@external
@view
def DOMAIN_SEPARATOR() -> bytes32:
    return self._domain_separator()

# ---------------------------------------------------------------- ERC-20

@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert sender != empty(address), "ERC20: transfer from the zero address"
    assert receiver != empty(address), "ERC20: transfer to the zero address"
    bal: uint256 = self.balanceOf[sender]
    assert amount <= bal, "ERC20: transfer amount exceeds balance"
    self.balanceOf[sender] = bal - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@internal
def _approve(owner: address, spender: address, amount: uint256):
    assert owner != empty(address), "ERC20: approve from the zero address"
    assert spender != empty(address), "ERC20: approve to the zero address"
    self.allowance[owner][spender] = amount
    log Approval(owner=owner, spender=spender, value=amount)


@external
def transfer(to: address, amount: uint256) -> bool:
    self._transfer(msg.sender, to, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self._approve(msg.sender, spender, amount)
    return True


@external
def increaseAllowance(spender: address, increment: uint256) -> bool:
    self._approve(msg.sender, spender, self.allowance[msg.sender][spender] + increment)
    return True


@external
def decreaseAllowance(spender: address, decrement: uint256) -> bool:
    current: uint256 = self.allowance[msg.sender][spender]
    assert decrement <= current, "ERC20: decreased allowance below zero"
    self._approve(msg.sender, spender, current - decrement)
    return True


@external
def transferFrom(sender: address, to: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[sender][msg.sender]
    assert amount <= allowed, "ERC20: transfer amount exceeds allowance"
    self._transfer(sender, to, amount)
    self.allowance[sender][msg.sender] = allowed - amount
    return True

# ---------------------------------------------------------------- minting (tests)

@external
def mint(to: address, amount: uint256) -> bool:
    assert msg.sender == self.minter, "FiatToken: caller is not a minter"
    assert to != empty(address), "FiatToken: mint to the zero address"
    assert amount > 0, "FiatToken: mint amount not greater than 0"
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Mint(minter=msg.sender, to=to, amount=amount)
    log Transfer(sender=empty(address), receiver=to, value=amount)
    return True

# ---------------------------------------------------------------- signatures

@internal
@view
def _recover(digest: bytes32, v: uint256, r: bytes32, s: bytes32) -> address:
    # Same checks, same order and same messages as Circle's ECRecover.recover.
    assert convert(s, uint256) <= HALF_N, "ECRecover: invalid signature 's' value"
    assert v == 27 or v == 28, "ECRecover: invalid signature 'v' value"
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address), "ECRecover: invalid signature"
    return signer


@internal
@view
def _is_valid_signature_now(signer: address, digest: bytes32, signature: Bytes[MAX_SIG]) -> bool:
    # SignatureChecker.isValidSignatureNow: ECDSA for accounts without code,
    # ERC-1271 isValidSignature(bytes32,bytes) for contracts.
    if not signer.is_contract:
        assert len(signature) == 65, "ECRecover: invalid signature length"
        r: bytes32 = extract32(signature, 0)
        s: bytes32 = extract32(signature, 32)
        v: uint256 = convert(slice(signature, 64, 1), uint256)
        return self._recover(digest, v, r, s) == signer
    ok: bool = False
    ret: Bytes[32] = b""
    ok, ret = raw_call(
        signer,
        abi_encode(digest, signature, method_id=method_id("isValidSignature(bytes32,bytes)")),
        max_outsize=32,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not ok or len(ret) < 32:
        return False
    return convert(slice(ret, 0, 4), bytes4) == ERC1271_MAGIC


@internal
@view
def _typed_digest(struct_hash: bytes32) -> bytes32:
    return keccak256(concat(b"\x19\x01", self._domain_separator(), struct_hash))


@internal
@view
def _require_valid_signature(signer: address, struct_hash: bytes32, signature: Bytes[MAX_SIG]):
    assert self._is_valid_signature_now(signer, self._typed_digest(struct_hash), signature), "FiatTokenV2: invalid signature"


@internal
@view
def _vrs_to_bytes(v: uint8, r: bytes32, s: bytes32) -> Bytes[MAX_SIG]:
    return concat(r, s, convert(v, bytes1))


@internal
@view
def _require_valid_signature_vrs(signer: address, struct_hash: bytes32, v: uint8, r: bytes32, s: bytes32):
    # Fast path of _require_valid_signature for the (v, r, s) overloads;
    # same result as packing r ‖ s ‖ v into bytes.
    if signer.is_contract:
        self._require_valid_signature(signer, struct_hash, self._vrs_to_bytes(v, r, s))
        return
    assert self._recover(self._typed_digest(struct_hash), convert(v, uint256), r, s) == signer, "FiatTokenV2: invalid signature"

# ---------------------------------------------------------------- EIP-3009

@internal
@view
def _require_unused_authorization(authorizer: address, nonce: bytes32):
    assert not self.authorizationState[authorizer][nonce], "FiatTokenV2: authorization is used or canceled"


@internal
@view
def _require_valid_authorization(authorizer: address, nonce: bytes32, valid_after: uint256, valid_before: uint256):
    assert block.timestamp > valid_after, "FiatTokenV2: authorization is not yet valid"
    assert block.timestamp < valid_before, "FiatTokenV2: authorization is expired"
    self._require_unused_authorization(authorizer, nonce)


@internal
def _mark_authorization_as_used(authorizer: address, nonce: bytes32):
    self.authorizationState[authorizer][nonce] = True
    log AuthorizationUsed(authorizer=authorizer, nonce=nonce)


@internal
@view
def _authorization_struct_hash(
    typehash: bytes32, sender: address, receiver: address, amount: uint256,
    valid_after: uint256, valid_before: uint256, nonce: bytes32,
) -> bytes32:
    # Checks in USDC's order: caller (receive only, done by the caller of
    # this function), time window, nonce unused; then the signature.
    self._require_valid_authorization(sender, nonce, valid_after, valid_before)
    return keccak256(abi_encode(typehash, sender, receiver, amount, valid_after, valid_before, nonce))


@internal
def _settle_authorization(sender: address, receiver: address, amount: uint256, nonce: bytes32):
    self._mark_authorization_as_used(sender, nonce)
    self._transfer(sender, receiver, amount)


@internal
def _cancel_authorization(authorizer: address, nonce: bytes32, signature: Bytes[MAX_SIG]):
    self._require_unused_authorization(authorizer, nonce)
    struct_hash: bytes32 = keccak256(abi_encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce))
    self._require_valid_signature(authorizer, struct_hash, signature)
    self.authorizationState[authorizer][nonce] = True
    log AuthorizationCanceled(authorizer=authorizer, nonce=nonce)


@internal
def _permit(owner: address, spender: address, amount: uint256, deadline: uint256, signature: Bytes[MAX_SIG]):
    assert deadline == max_value(uint256) or deadline >= block.timestamp, "FiatTokenV2: permit is expired"
    struct_hash: bytes32 = keccak256(abi_encode(
        PERMIT_TYPEHASH, owner, spender, amount, self.nonces[owner], deadline))
    assert self._is_valid_signature_now(owner, self._typed_digest(struct_hash), signature), "EIP2612: invalid signature"
    self.nonces[owner] += 1
    self._approve(owner, spender, amount)


# transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)  0xe3ee160e
@external
def transferWithAuthorization(
    _from: address, to: address, amount: uint256,
    validAfter: uint256, validBefore: uint256, nonce: bytes32,
    v: uint8, r: bytes32, s: bytes32,
):
    h: bytes32 = self._authorization_struct_hash(
        TRANSFER_WITH_AUTHORIZATION_TYPEHASH, _from, to, amount, validAfter, validBefore, nonce)
    self._require_valid_signature_vrs(_from, h, v, r, s)
    self._settle_authorization(_from, to, amount, nonce)


# receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)  0xef55bec6
@external
def receiveWithAuthorization(
    _from: address, to: address, amount: uint256,
    validAfter: uint256, validBefore: uint256, nonce: bytes32,
    v: uint8, r: bytes32, s: bytes32,
):
    assert to == msg.sender, "FiatTokenV2: caller must be the payee"
    h: bytes32 = self._authorization_struct_hash(
        RECEIVE_WITH_AUTHORIZATION_TYPEHASH, _from, to, amount, validAfter, validBefore, nonce)
    self._require_valid_signature_vrs(_from, h, v, r, s)
    self._settle_authorization(_from, to, amount, nonce)


# cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)  0x5a049a70
@external
def cancelAuthorization(authorizer: address, nonce: bytes32, v: uint8, r: bytes32, s: bytes32):
    self._cancel_authorization(authorizer, nonce, self._vrs_to_bytes(v, r, s))


# permit(address,address,uint256,uint256,uint8,bytes32,bytes32)  0xd505accf
@external
def permit(owner: address, spender: address, amount: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32):
    self._permit(owner, spender, amount, deadline, self._vrs_to_bytes(v, r, s))

# ---------------------------------------------------------------- `bytes signature` overloads

@internal
@view
def _calldata() -> Bytes[MAX_CALLDATA]:
    # A variable-length copy of msg.data: Vyper only slices msg.data with a
    # constant length, so bounce it through the identity precompile.
    # Longer calldata comes back truncated and then fails ABI decoding.
    return raw_call(IDENTITY_PRECOMPILE, msg.data, max_outsize=MAX_CALLDATA, is_static_call=True)


@external
@payable
def __default__():
    assert msg.value == 0
    assert len(msg.data) >= 4
    selector: bytes4 = convert(slice(msg.data, 0, 4), bytes4)
    cd: Bytes[MAX_CALLDATA] = self._calldata()
    args: Bytes[MAX_CALLDATA] = slice(cd, 4, len(cd) - 4)

    sender: address = empty(address)
    receiver: address = empty(address)
    amount: uint256 = 0
    valid_after: uint256 = 0
    valid_before: uint256 = 0
    nonce: bytes32 = empty(bytes32)
    signature: Bytes[MAX_SIG] = b""

    if selector == SEL_TRANSFER_WITH_AUTH_BYTES or selector == SEL_RECEIVE_WITH_AUTH_BYTES:
        # (address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)
        sender, receiver, amount, valid_after, valid_before, nonce, signature = abi_decode(
            args, (address, address, uint256, uint256, uint256, bytes32, Bytes[MAX_SIG]))
        typehash: bytes32 = TRANSFER_WITH_AUTHORIZATION_TYPEHASH
        if selector == SEL_RECEIVE_WITH_AUTH_BYTES:
            assert receiver == msg.sender, "FiatTokenV2: caller must be the payee"
            typehash = RECEIVE_WITH_AUTHORIZATION_TYPEHASH
        h: bytes32 = self._authorization_struct_hash(
            typehash, sender, receiver, amount, valid_after, valid_before, nonce)
        self._require_valid_signature(sender, h, signature)
        self._settle_authorization(sender, receiver, amount, nonce)
        return

    if selector == SEL_CANCEL_AUTH_BYTES:
        # cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)
        sender, nonce, signature = abi_decode(args, (address, bytes32, Bytes[MAX_SIG]))
        self._cancel_authorization(sender, nonce, signature)
        return

    if selector == SEL_PERMIT_BYTES:
        # permit(address owner, address spender, uint256 value, uint256 deadline, bytes signature)
        sender, receiver, amount, valid_before, signature = abi_decode(
            args, (address, address, uint256, uint256, Bytes[MAX_SIG]))
        self._permit(sender, receiver, amount, valid_before, signature)
        return

    raise
