import Testing
import X402

@testable import X402EVM

/// Hostile bytes for the EVM decoders (ABI, RLP, JSON-RPC answers, EIP-712 typed data): each is a
/// typed error, never a trap, a stack overflow or an allocation sized by the input's claims.
@Suite("EVM decoders refuse hostile input with typed errors")
struct DecoderHardeningTests {
    private static func word(_ value: Int) -> [UInt8] { UInt256(UInt64(value)).bigEndianBytes }

    // MARK: ABI

    @Test("a static type larger than Int saturates instead of overflowing (was a trap)")
    func hugeStaticType() throws {
        let type = try ABIType("uint256[1000000][1000000][1000000]")
        #expect(type.headSize == .max)
        #expect(try ABIType("(uint256[1000000][1000000],uint256[1000000][1000000][1000000])").headSize == .max)
        #expect(throws: ABIError.self) { _ = try ABI.decode([type], from: Self.word(1)) }
        #expect(throws: ABIError.self) { _ = try ABI.decode([.uint(8), type], from: Self.word(1) + Self.word(1)) }
        #expect(throws: ABIError.self) { _ = try ABI.decode(["uint8[1000000][1000000][1000000][]"], from: Self.word(32) + Self.word(1)) }
    }

    @Test("type nesting is bounded (deep text used to recurse without limit)")
    func deepTypes() throws {
        let limit = ABIType.maximumNesting
        let deepest = try ABIType(String(repeating: "(", count: limit) + "uint8" + String(repeating: ")", count: limit))
        #expect(deepest.headSize == 32)
        #expect(throws: ABIError.self) {
            _ = try ABIType(String(repeating: "(", count: limit + 1) + "uint8" + String(repeating: ")", count: limit + 1))
        }
        #expect(throws: ABIError.self) { _ = try ABIType(String(repeating: "(", count: 200_000)) }
        #expect(throws: ABIError.self) { _ = try ABIType("uint8" + String(repeating: "[]", count: 200_000)) }
        #expect(throws: ABIError.self) { _ = try ABIType("uint8" + String(repeating: "[2]", count: limit + 1)) }
        #expect(throws: ABIError.self) { _ = try ABI.parseSignature("f" + String(repeating: "(", count: 100_000)) }
        // A custom error signature is parsed when a revert carries its selector: a hostile one is
        // recognised by selector but its arguments are not decoded.
        let signature = "E" + String(repeating: "(", count: 100_000) + String(repeating: ")", count: 100_000)
        let revert = RevertReason(data: ABI.selector(signature) + Self.word(1), customErrors: [signature])
        guard case .custom(let custom) = revert else {
            Issue.record("expected a custom error, got \(revert)")
            return
        }
        #expect(custom.signature == signature)
        #expect(custom.arguments == nil)
    }

    @Test("huge ABI lengths, counts and offsets are refused before any allocation")
    func hugeABILengths() {
        let maxWord = UInt256.max.bigEndianBytes
        for data in [
            Self.word(32) + Self.word(0x7FFF_FFFF),  // bytes length 2^31 − 1
            Self.word(32) + maxWord,  // bytes length 2^256 − 1
            maxWord,  // offset 2^256 − 1
            Self.word(0x7FFF_FFFF),  // offset past the data
        ] {
            #expect(throws: ABIError.self) { _ = try ABI.decode([.bytes], from: data) }
            #expect(throws: ABIError.self) { _ = try ABI.decode([.array(.uint(256))], from: data) }
            #expect(throws: ABIError.self) { _ = try ABI.decode([.string], from: data) }
        }
        // Many elements that all point at one large value: the work budget stops it.
        let count = 2_000
        var data = Self.word(32) + Self.word(count)
        for _ in 0..<count { data += Self.word(count * 32) }
        data += Self.word(4_096) + [UInt8](repeating: 0, count: 4_096)
        #expect(throws: ABIError.self) { _ = try ABI.decode([.array(.bytes)], from: data) }
        // ERC-6492 unwrapping of attacker bytes with a huge length is `nil`, not a crash.
        let wrapped = Self.word(1) + Self.word(96) + Self.word(128) + Self.word(0x7FFF_FFFF) + ERC6492Signature.magicSuffix
        #expect(ERC6492Signature(wrapped: wrapped) == nil)
        #expect(
            RevertReason(data: RevertReason.errorSelector + Self.word(32) + maxWord)
                == .malformed(RevertReason.errorSelector + Self.word(32) + maxWord))
    }

    // MARK: RLP

    @Test("huge RLP length prefixes and deep nesting are typed errors")
    func hostileRLP() {
        #expect(throws: RLPError.truncated) { _ = try RLPItem(decoding: [0xBB, 0x7F, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: RLPError.truncated) { _ = try RLPItem(decoding: [0xFB, 0x7F, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: RLPError.tooLarge) { _ = try RLPItem(decoding: [0xBF] + [UInt8](repeating: 0xFF, count: 8)) }
        #expect(throws: RLPError.tooLarge) { _ = try RLPItem(decoding: [0xFF] + [UInt8](repeating: 0xFF, count: 8)) }
        #expect(throws: RLPError.nonCanonical) { _ = try RLPItem(decoding: [0xB8, 0x00]) }
        // 300 nested one-element lists: [[[…]]].
        var nested = RLPItem.list([])
        for _ in 0..<300 { nested = .list([nested]) }
        #expect(throws: RLPError.tooDeep) { _ = try RLPItem(decoding: nested.encoded) }
        #expect(throws: TransactionError.self) { _ = try SignedTransaction(rawBytes: [0x02, 0xBB, 0x7F, 0xFF, 0xFF, 0xFF]) }
    }

    // MARK: JSON-RPC answers

    @Test("hostile JSON-RPC quantities are typed errors (were traps)")
    func hostileJSONRPCQuantities() throws {
        // Quantities: too many digits, empty, not hex, as a number.
        for bad in [#""0x1\#(String(repeating: "0", count: 64))""#, #""0x""#, #""0xzz""#, "1e400", #""1""#] {
            let value = try JSONValue(parsing: bad)
            #expect(throws: EthereumClientError.self) { _ = try EthereumJSON.uint256(value) }
            #expect(throws: EthereumClientError.self) { _ = try EthereumJSON.uint64(value) }
        }
        #expect(try EthereumJSON.uint256(JSONValue(parsing: #""0x\#(String(repeating: "0", count: 1_000))1""#)) == UInt256(1))
    }

    // MARK: EIP-712

    @Test("a long chain of EIP-712 type definitions does not recurse per type")
    func longTypeChain() throws {
        let count = 50_000
        var types = #""EIP712Domain":[{"name":"name","type":"string"}]"#
        for i in 0..<count {
            types += #","T\#(i)":[{"name":"next","type":"T\#(i + 1)[]"}]"#
        }
        types += #","T\#(count)":[{"name":"v","type":"uint8"}]"#
        let json = #"{"types":{\#(types)},"primaryType":"T0","domain":{"name":"x"},"message":{"next":[]}}"#
        let typed = try TypedData(json: json)
        let encoded = try typed.encodeType("T0")
        #expect(encoded.hasPrefix("T0(T1[] next)"))
        #expect(encoded.contains("T50000(uint8 v)"))
        #expect(encoded.contains("T49999(T50000[] next)"))
        _ = try typed.digest()
    }

    @Test("hostile typed-data numbers and nesting are typed errors")
    func hostileTypedData() {
        let deep = String(repeating: "[", count: 100_000)
        let tooDeep = typedDataParseError { _ = try TypedData(json: deep) }
        #expect(tooDeep?.kind == .tooDeep(limit: TypedData.maximumDepth))
        #expect(tooDeep?.offset == TypedData.maximumDepth)
        for literal in ["1e9223372036854775807", "-1e-9223372036854775808", "1" + String(repeating: "0", count: 100)] {
            let json =
                #"{"types":{"EIP712Domain":[{"name":"chainId","type":"uint256"}]},"primaryType":"EIP712Domain","domain":{"chainId":\#(literal)},"message":{}}"#
            #expect(throws: TypedDataError.self) { _ = try TypedData(json: json).domainSeparator() }
        }
    }
}
