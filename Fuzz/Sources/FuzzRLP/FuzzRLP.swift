// libFuzzer target: RLP items and raw signed transactions.
import X402
import X402EVM

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRLP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
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

/// SwiftPM links an executable with `main` renamed to `<module>_main`; this one hands control to
/// libFuzzer's driver with the function above as the target.
@_cdecl("FuzzRLP_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzRLP)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
