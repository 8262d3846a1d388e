# pragma version 0.4.3
# pragma evm-version prague
"""
@title Devnet Multicall3
@notice Test-only, ABI-compatible subset of Multicall3 for the local devnet,
        placed at 0xcA11bde05977b3631167028862bE2a173976CA11 through genesis
        state. Vyper needs bounds: at most MAX_CALLS calls per batch, call data
        up to MAX_CALLDATA bytes each; return data longer than MAX_RETURN
        bytes is truncated. Not part of the Swift product.
"""

MAX_CALLS: constant(uint256) = 32
MAX_CALLDATA: constant(uint256) = 4096
MAX_RETURN: constant(uint256) = 1024


struct Call:
    target: address
    callData: Bytes[MAX_CALLDATA]


struct Call3:
    target: address
    allowFailure: bool
    callData: Bytes[MAX_CALLDATA]


struct Result:
    success: bool
    returnData: Bytes[MAX_RETURN]


# aggregate((address,bytes)[])  0x252dba42
@external
def aggregate(calls: DynArray[Call, MAX_CALLS]) -> (uint256, DynArray[Bytes[MAX_RETURN], MAX_CALLS]):
    out: DynArray[Bytes[MAX_RETURN], MAX_CALLS] = []
    for c: Call in calls:
        ok: bool = False
        ret: Bytes[MAX_RETURN] = b""
        ok, ret = raw_call(c.target, c.callData, max_outsize=MAX_RETURN, revert_on_failure=False)
        assert ok, "Multicall3: call failed"
        out.append(ret)
    return block.number, out


# tryAggregate(bool,(address,bytes)[])  0xbce38bd7
@external
def tryAggregate(requireSuccess: bool, calls: DynArray[Call, MAX_CALLS]) -> DynArray[Result, MAX_CALLS]:
    out: DynArray[Result, MAX_CALLS] = []
    for c: Call in calls:
        ok: bool = False
        ret: Bytes[MAX_RETURN] = b""
        ok, ret = raw_call(c.target, c.callData, max_outsize=MAX_RETURN, revert_on_failure=False)
        if requireSuccess:
            assert ok, "Multicall3: call failed"
        out.append(Result(success=ok, returnData=ret))
    return out


# aggregate3((address,bool,bytes)[])  0x82ad56cb
@external
def aggregate3(calls: DynArray[Call3, MAX_CALLS]) -> DynArray[Result, MAX_CALLS]:
    out: DynArray[Result, MAX_CALLS] = []
    for c: Call3 in calls:
        ok: bool = False
        ret: Bytes[MAX_RETURN] = b""
        ok, ret = raw_call(c.target, c.callData, max_outsize=MAX_RETURN, revert_on_failure=False)
        if not c.allowFailure:
            assert ok, "Multicall3: call failed"
        out.append(Result(success=ok, returnData=ret))
    return out


@external
@view
def getEthBalance(addr: address) -> uint256:
    return addr.balance


@external
@view
def getBlockNumber() -> uint256:
    return block.number


@external
@view
def getCurrentBlockTimestamp() -> uint256:
    return block.timestamp


@external
@view
def getChainId() -> uint256:
    return chain.id


@external
@view
def getBasefee() -> uint256:
    return block.basefee


@external
@view
def getCurrentBlockGasLimit() -> uint256:
    return block.gaslimit


@external
@view
def getCurrentBlockCoinbase() -> address:
    return block.coinbase


@external
@view
def getBlockHash(blockNumber: uint256) -> bytes32:
    return blockhash(blockNumber)


@external
@view
def getLastBlockHash() -> bytes32:
    return blockhash(block.number - 1)
