import FuzzSupport
// libFuzzer target: EIP-712 typed data JSON (`eth_signTypedData_v4` input) and its hashing.
import X402
import X402EVM

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTypedData(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let typed = try? TypedData(json: bytes) else { return 0 }
    // The JSON form re-parses to equal typed data (the parser itself is the `json` target's job).
    guard let reparsed = try? TypedData(json: typed.jsonValue.serialized()), reparsed == typed else {
        fatalError("typed-data JSON round trip")
    }
    _ = try? typed.domainFields()
    _ = try? typed.domainSeparator()
    _ = try? typed.structHash()
    _ = try? typed.encodeType(typed.primaryType)
    _ = try? typed.digest()
    return 0
}

// MARK: - Entry point

@_cdecl("FuzzTypedData_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzTypedData)
}
