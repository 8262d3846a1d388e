import Testing

@testable import X402

@Suite("Malformed input yields typed errors")
struct MalformedInputTests {
    @Test("oversized header values are rejected before decoding")
    func oversized() {
        let value = String(repeating: "A", count: PaymentHeader.defaultMaximumLength + 4)
        #expect(throws: X402DecodingError.tooLarge(length: value.count, limit: PaymentHeader.defaultMaximumLength)) {
            _ = try PaymentHeader.decodeJSON(value)
        }
        #expect(throws: X402DecodingError.tooLarge(length: 12, limit: 8)) {
            _ = try PaymentPayload(headerValue: "eyJhIjoxfQ==", maximumLength: 8)
        }
    }

    @Test(
        "bad base64 says where",
        arguments: [
            ("eyJh*joxfQ==", Base64.DecodingError.invalidCharacter(offset: 4)),
            ("eyJhIjoxfQ-_", Base64.DecodingError.invalidCharacter(offset: 10)),  // base64url is not accepted
            ("eyJhIjoxfQ===", Base64.DecodingError.invalidPadding),
            ("eyJhI=oxfQ==", Base64.DecodingError.invalidCharacter(offset: 5)),
            ("eyJhIjoxf", Base64.DecodingError.invalidLength),
            ("eyJhIjoxfQ=", Base64.DecodingError.invalidPadding),
        ])
    func badBase64(_ input: String, _ expected: Base64.DecodingError) {
        #expect(throws: X402DecodingError.invalidBase64(expected)) {
            _ = try PaymentHeader.decodeJSON(input)
        }
    }

    @Test("missing padding and surrounding whitespace are tolerated")
    func lenientBase64() throws {
        #expect(try PaymentHeader.decodeJSON("eyJhIjoxfQ") == ["a": 1])
        #expect(try PaymentHeader.decodeJSON("  eyJhIjoxfQ==\r\n") == ["a": 1])
        #expect(try Base64.decode("aGVsbG8gd29ybGQ=") == Array("hello world".utf8))
    }

    @Test(
        "bad JSON says what and where",
        arguments: [
            ("{\"a\":1", JSONParseError(kind: .unexpectedEnd, offset: 6)),
            ("{\"a\":1,}", JSONParseError(kind: .unexpectedCharacter(UInt8(ascii: "}")), offset: 7)),
            ("{\"a\":01}", JSONParseError(kind: .invalidNumber, offset: 5)),
            ("{\"a\":1}x", JSONParseError(kind: .trailingData, offset: 7)),
            ("{\"a\":1,\"a\":2}", JSONParseError(kind: .duplicateKey("a"), offset: 7)),
            ("[\"\\x\"]", JSONParseError(kind: .invalidEscape, offset: 3)),
            ("[\"\\ud800\"]", JSONParseError(kind: .invalidUnicodeEscape, offset: 8)),
            ("[\"a\u{01}\"]", JSONParseError(kind: .controlCharacterInString, offset: 3)),
            ("tru", JSONParseError(kind: .unexpectedEnd, offset: 3)),
            ("nul!", JSONParseError(kind: .unexpectedCharacter(UInt8(ascii: "!")), offset: 3)),
        ])
    func badJSON(_ text: String, _ expected: JSONParseError) {
        #expect(throws: expected) { _ = try JSONValue(parsing: text) }
        #expect(throws: X402DecodingError.invalidJSON(expected)) {
            _ = try PaymentHeader.decodeJSON(Base64.encode(Array(text.utf8)))
        }
    }

    @Test("invalid UTF-8 inside a string is rejected")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError(kind: .invalidUTF8, offset: 1)) { _ = try JSONValue(parsing: bytes) }
    }

    @Test("deep nesting is bounded")
    func tooDeep() {
        let text = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONParseError(kind: .tooDeep(limit: 64), offset: 64)) { _ = try JSONValue(parsing: text) }
        #expect(throws: Never.self) { _ = try JSONValue(parsing: text, maximumDepth: 256) }
    }

    @Test(
        "wrong types and missing fields name the path",
        arguments: [
            ("{\"x402Version\":2,\"accepts\":[{}]}", MessageDecodingError(path: "accepts[0].scheme", problem: .missingField)),
            (
                "{\"x402Version\":2,\"accepts\":[{\"scheme\":\"exact\",\"network\":\"eip155:1\",\"amount\":10,\"asset\":\"a\",\"payTo\":\"b\"}]}",
                MessageDecodingError(path: "accepts[0].amount", problem: .wrongType(expected: "a string", found: "number"))
            ),
            (
                "{\"x402Version\":2,\"accepts\":[{\"scheme\":\"exact\",\"network\":\"base\",\"amount\":\"1\",\"asset\":\"a\",\"payTo\":\"b\"}]}",
                MessageDecodingError(path: "accepts[0].network", problem: .invalidValue("not a CAIP-2 network identifier: \"base\""))
            ),
            ("{\"x402Version\":2,\"accepts\":{}}", MessageDecodingError(path: "accepts", problem: .wrongType(expected: "an array", found: "object"))),
            ("{\"x402Version\":1,\"accepts\":[]}", MessageDecodingError(path: "x402Version", problem: .invalidValue("expected 2, found 1"))),
            (
                "{\"x402Version\":\"2\",\"accepts\":[]}",
                MessageDecodingError(path: "x402Version", problem: .wrongType(expected: "an integer", found: "string"))
            ),
            ("[]", MessageDecodingError(path: "", problem: .wrongType(expected: "an object", found: "array"))),
        ])
    func badMessages(_ text: String, _ expected: MessageDecodingError) {
        #expect(throws: X402DecodingError.invalidMessage(expected)) {
            _ = try PaymentRequired(headerValue: Base64.encode(Array(text.utf8)))
        }
    }

    @Test("unknown versions are rejected with the version named")
    func unknownVersion() {
        let text = "{\"x402Version\":3,\"accepted\":{},\"payload\":{}}"
        #expect(
            throws: X402DecodingError.invalidMessage(MessageDecodingError(path: "x402Version", problem: .invalidValue("unsupported x402 version 3")))
        ) {
            _ = try AnyPaymentPayload(headerValue: Base64.encode(Array(text.utf8)))
        }
    }

    @Test("a facilitator request takes its version from paymentPayload; the top-level x402Version is not read")
    func versionFromPayload() throws {
        let payload = try PaymentHeader.decodeJSON(HeaderVector.all.first { $0.header == "PAYMENT-SIGNATURE" }!.base64)
        let requirements = payload["accepted"]!
        for top: JSONValue? in [1, 2, 3, "2", nil] {
            var body: JSONObject = ["paymentPayload": payload, "paymentRequirements": requirements]
            if let top { body["x402Version"] = top }
            let request = try FacilitatorRequest(json: .object(body))
            #expect(request.x402Version == .v2)
            guard case .v2 = request.paymentRequirements else {
                Issue.record("v2 requirements expected for top-level \(String(describing: top))")
                continue
            }
        }
        let good: JSONValue = ["x402Version": 2, "paymentPayload": payload, "paymentRequirements": requirements]
        #expect(try FacilitatorRequest(json: good).json == good)
    }
}
