# pragma version 0.4.3
# @title Test-only ERC-1271 wallet that burns gas (swift-x402 devnet)
# @notice isValidSignature accepts any signature, but only after hashing for about
#         2 million gas. A facilitator that settles for it without a gas ceiling pays that
#         gas; the facilitator must refuse it at verify. Never deploy on a real chain.

@external
@view
def isValidSignature(digest: bytes32, signature: Bytes[1024]) -> bytes4:
    h: bytes32 = digest
    for i: uint256 in range(20000):
        h = keccak256(h)
    if h == empty(bytes32):
        return 0xffffffff
    return 0x1626ba7e
