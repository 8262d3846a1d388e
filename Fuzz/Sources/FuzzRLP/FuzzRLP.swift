import FuzzSupport
// libFuzzer target: RLP items and raw signed transactions.
import X402
import X402EVM

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRLP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    if let item = try? RLPItem(decoding: bytes) {
        // Decoding is canonical-only, so the encoding of what was decoded is the input itself.
        guard item.encoded == bytes else { fatalError("RLP decoding accepted a non-canonical encoding") }
        _ = try? item.uint256Value()
        _ = try? item.uint64Value()
        for element in item.listValue ?? [] { _ = try? element.uint256Value() }
    }
    _ = try? SignedTransaction(rawBytes: bytes)
    return 0
}

// MARK: - Entry point

@_cdecl("FuzzRLP_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzRLP)
}
