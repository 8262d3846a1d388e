import FuzzSupport
// libFuzzer target: JSON-RPC answers from an Ethereum node (single and batch envelopes, node
// errors, and the result decoders for quantities, data, addresses, receipts, logs and fee history).
import X402
import X402EVM
import X402EVMRPC

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRPC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    _ = JSONRPCAnswer.nodeError(inBody: bytes)
    if let results = try? JSONRPCAnswer.batch(bytes, count: 3) {
        guard results.count == 3 else { fatalError("batch answer with \(results.count) results for 3 calls") }
        for case .success(let value) in results { decodeResult(value) }
    }
    if let value = try? JSONRPCAnswer.single(bytes, expectedID: 1) {
        decodeResult(value)
    } else if let value = try? JSONValue(parsing: bytes) {
        // Results without the envelope, so the fuzzer reaches the decoders directly.
        decodeResult(value)
    }
    return 0
}

func decodeResult(_ value: JSONValue) {
    _ = try? EthereumJSON.uint64(value)
    _ = try? EthereumJSON.uint256(value)
    _ = try? EthereumJSON.bytes(value)
    _ = try? EthereumJSON.address(value)
    _ = try? EthereumJSON.bytes32(value)
    _ = try? EthereumJSON.eventLog(value)
    _ = try? EthereumJSON.receipt(value)
    _ = try? EthereumJSON.feeHistory(value)
    if let quantity = try? EthereumJSON.uint256(value) {
        guard (try? EthereumJSON.uint256(EthereumJSON.quantity(quantity))) == quantity else {
            fatalError("quantity \(quantity) does not survive its own encoding")
        }
    }
}

// MARK: - Entry point

@_cdecl("FuzzJSONRPC_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzJSONRPC)
}
