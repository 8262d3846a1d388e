import Foundation
import Testing
import X402

@testable import X402EVM

/// Converts an eth-abi fixture value (JSON) to an `ABIValue` of `type`.
func abiValue(fromFixture json: Any, type: ABIType) throws -> ABIValue {
    switch type {
    case .uint:
        let text = try #require(json as? String)
        return .uint(try #require(UInt256(decimal: text)))
    case .int:
        let text = try #require(json as? String)
        return .int(try #require(Int256(decimal: text)))
    case .address:
        return .address(try EthereumAddress(try #require(json as? String)))
    case .bool:
        return .bool(try #require(json as? Bool))
    case .fixedBytes:
        return .fixedBytes(try Hex.decode(try #require(json as? String)))
    case .bytes:
        return .bytes(try Hex.decode(try #require(json as? String)))
    case .string:
        return .string(try #require(json as? String))
    case let .array(element), let .fixedArray(element, _):
        return .array(try #require(json as? [Any]).map { try abiValue(fromFixture: $0, type: element) })
    case let .tuple(elements):
        let items = try #require(json as? [Any])
        try #require(items.count == elements.count)
        return .tuple(try zip(items, elements).map { try abiValue(fromFixture: $0, type: $1) })
    }
}

@Suite("ABI")
struct ABITests {
    @Test("encode matches eth-abi byte for byte; decode(encoded) gives the values back")
    func fixtures() throws {
        let cases = try Fixture.objects("abi.json")
        #expect(cases.count > 200)
        for (index, entry) in cases.enumerated() {
            let typeTexts = try #require(entry["types"] as? [String])
            let types = try typeTexts.map { try ABIType($0) }
            #expect(types.map(\.description) == typeTexts, "case \(index): canonical type text round trip")
            let jsonValues = try #require(entry["values"] as? [Any])
            let values = try zip(jsonValues, types).map { try abiValue(fromFixture: $0, type: $1) }
            let expected = try entry.string("encoded")
            #expect(Hex.encode(try ABI.encode(values, as: types)) == expected, "case \(index): \(typeTexts)")
            #expect(try ABI.decode(types, from: Hex.decode(expected)) == values, "case \(index): \(typeTexts)")
        }
    }

    @Test("function selectors match eth-utils and test-vectors.md §7.3")
    func selectors() throws {
        let cases = try Fixture.objects("selectors.json")
        #expect(!cases.isEmpty)
        for entry in cases {
            #expect(Hex.encode(ABI.selector(try entry.string("signature"))) == (try entry.string("selector")))
        }
        #expect(Hex.encode(ABI.selector("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)")) == "0xcf092995")
        #expect(Hex.encode(ABI.selector("tryAggregate(bool,(address,bytes)[])")) == "0xbce38bd7")
    }

    @Test("revert data decodes to Error(string), Panic(uint256), known custom errors and empty")
    func reverts() throws {
        let cases = try Fixture.objects("reverts.json")
        #expect(cases.count > 30)
        for entry in cases {
            let reason = try RevertReason(hex: entry.string("data"))
            switch try entry.string("kind") {
            case "error":
                #expect(reason == .error(try entry.string("message")))
            case "panic":
                let code = try entry.string("code")
                #expect(reason == .panic(try #require(UInt256(decimal: code))))
            case "custom":
                guard case let .custom(error) = reason else {
                    Issue.record("expected a custom error for \(entry)")
                    continue
                }
                #expect(Hex.encode(error.selector) == (try entry.string("selector")))
                #expect(error.signature == (try entry.string("message")))
                #expect(error.arguments != nil)
            case "empty":
                #expect(reason == .empty)
            default:
                Issue.record("unknown kind")
            }
        }
        #expect(RevertReason(data: [0x11, 0x22]) == .malformed([0x11, 0x22]))
        #expect(RevertReason(data: RevertReason.errorSelector + [0x00]) == .malformed(RevertReason.errorSelector + [0x00]))
        guard case let .custom(unknown) = RevertReason(data: [0xDE, 0xAD, 0xBE, 0xEF]) else {
            Issue.record("expected custom")
            return
        }
        #expect(unknown.signature == nil)
        let registered = RevertReason(data: ABI.selector("MyError(uint256)") + UInt256(7).bigEndianBytes, customErrors: ["MyError(uint256)"])
        #expect(registered.description == "MyError(7)")
        #expect(RevertReason.panic(0x11).description == "panic 0x11 (arithmetic overflow or underflow)")
    }

    @Test("encodeCall builds selector ‖ arguments (balanceOf)")
    func encodeCall() throws {
        let owner = try EthereumAddress("0x857b06519E91e3A54538791bDbb0E22373e36b66")
        let calldata = try ABI.encodeCall("balanceOf(address)", [.address(owner)])
        #expect(Hex.encode(calldata) == "0x70a08231000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66")
    }

    @Test(
        "invalid type texts are rejected",
        arguments: [
            "uint7", "uint264", "uint0", "int", "bytes0", "bytes33", "(uint256", "uint256[", "uint256[0]", "uint256[01]", "tuple", "Uint256",
            "(uint256,)", "address payable",
        ])
    func invalidTypes(text: String) throws {
        if text == "int" {
            #expect(try ABIType(text) == .int(256))
        } else {
            #expect(throws: ABIError.self) { try ABIType(text) }
        }
    }

    @Test("encoding rejects values that do not fit their types")
    func encodeMismatch() {
        #expect(throws: ABIError.self) { try ABI.encode([.uint(UInt256(256))], as: [.uint(8)]) }
        #expect(throws: ABIError.self) { try ABI.encode([.int(Int256(-129))], as: [.int(8)]) }
        #expect(throws: ABIError.self) { try ABI.encode([.fixedBytes([1, 2])], as: [.fixedBytes(4)]) }
        #expect(throws: ABIError.self) { try ABI.encode([.array([.uint(1)])], as: [.fixedArray(.uint(256), 2)]) }
        #expect(throws: ABIError.self) { try ABI.encode([.bool(true)], as: [.address]) }
        #expect(throws: ABIError.countMismatch(expected: 2, actual: 1)) { try ABI.encode([.bool(true)], as: [.bool, .bool]) }
    }

    @Test("strict decoding rejects dirty padding, bad bools, truncated data and hostile offsets")
    func strictDecoding() throws {
        var word = [UInt8](repeating: 0, count: 32)
        word[31] = 2
        #expect(throws: ABIError.self) { try ABI.decode([.bool], from: word) }
        word[31] = 0
        word[0] = 1
        #expect(throws: ABIError.self) { try ABI.decode([.address], from: word) }
        #expect(throws: ABIError.self) { try ABI.decode([.uint(8)], from: word) }
        #expect(throws: ABIError.self) { try ABI.decode([.uint(256)], from: [UInt8](repeating: 0, count: 31)) }
        // Dynamic bytes whose offset points far beyond the data.
        let hostile = UInt256.max.bigEndianBytes
        #expect(throws: ABIError.self) { try ABI.decode([.bytes], from: hostile) }
        // A dynamic array claiming 2^31 elements.
        let hugeArray = UInt256(32).bigEndianBytes + UInt256(UInt64(Int32.max)).bigEndianBytes
        #expect(throws: ABIError.self) { try ABI.decode([.array(.uint(256))], from: hugeArray) }
        // Non-zero padding after a bytes payload.
        var bytesEncoding = try ABI.encode([.bytes([0xAA])], as: [.bytes])
        bytesEncoding[bytesEncoding.count - 1] = 1
        #expect(throws: ABIError.self) { try ABI.decode([.bytes], from: bytesEncoding) }
        // Negative int8 must be sign-extended.
        let minusOne = try ABI.encode([.int(Int256(-1))], as: [.int(8)])
        #expect(minusOne == [UInt8](repeating: 0xFF, count: 32))
        #expect(try ABI.decode([.int(8)], from: minusOne) == [.int(Int256(-1))])
        var badSign = minusOne
        badSign[0] = 0x7F
        #expect(throws: ABIError.self) { try ABI.decode([.int(8)], from: badSign) }
    }
}

@Suite("ERC-6492")
struct ERC6492Tests {
    @Test("wrap and unwrap round trip; plain signatures are not wrapped")
    func roundTrip() throws {
        let key = try PrivateKey(hex: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let inner = key.sign(digest: Keccak256.hash(utf8: "x")).bytes
        let wrapped = ERC6492Signature(
            factory: try EthereumAddress("0xcA11bde05977b3631167028862bE2a173976CA11"),
            factoryCalldata: [0xde, 0xad], innerSignature: inner)
        let bytes = wrapped.wrappedBytes
        #expect(Hex.encode(bytes.suffix(32)) == "0x6492649264926492649264926492649264926492649264926492649264926492")
        #expect(ERC6492Signature(wrapped: bytes) == wrapped)
        #expect(ERC6492Signature(wrapped: bytes)?.hasDeploymentData == true)
        #expect(ERC6492Signature(wrapped: inner) == nil)
        #expect(!ERC6492Signature.isWrapped(inner))
        #expect(ERC6492Signature(wrapped: [UInt8](repeating: 0, count: 5) + ERC6492Signature.magicSuffix) == nil)
        #expect(Bytes32.random() != Bytes32.random())
    }
}
