import FuzzSupport
// libFuzzer target: ABI decoding, ERC-6492 unwrapping and revert-reason decoding.
//
// Input: `types\ndata`. The text before the first newline is an ABI parameter list (so the type
// parser is fuzzed too); the bytes after it are decoded as that tuple. The whole input is also
// decoded as the fixed shapes peers control: revert data, ERC-6492 payloads, `(string)`, `(uint256)`.
import X402
import X402EVM

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzABI(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    _ = RevertReason(data: bytes).description
    _ = RevertReason(data: bytes, customErrors: ["Custom(uint256,string,bytes[])"]).description
    if let wrapped = ERC6492Signature(wrapped: bytes) {
        guard ERC6492Signature(wrapped: wrapped.wrappedBytes) == wrapped else { fatalError("ERC-6492 round trip") }
    }
    _ = try? ABI.decode([.address, .bytes, .bytes], from: bytes)
    _ = try? ABI.decode([.string], from: bytes)

    guard let newline = bytes.firstIndex(of: 0x0A) else { return 0 }
    let typeText = String(decoding: bytes[..<newline], as: UTF8.self)
    let payload = bytes[(newline + 1)...]
    guard let types = try? ABIType.parameterList(typeText) else { return 0 }
    _ = types.map(\.description)
    guard let values = try? ABI.decode(types, from: payload) else { return 0 }
    _ = values.map(\.description)
    // What was decoded encodes, and that encoding decodes to the same values.
    guard let encoded = try? ABI.encode(values, as: types) else { fatalError("decoded values do not encode as \(typeText)") }
    guard (try? ABI.decode(types, from: encoded)) == values else { fatalError("ABI round trip changed the values") }
    return 0
}

// MARK: - Entry point

@_cdecl("FuzzABI_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzABI)
}
