import PropertyBased
import Testing

@testable import X402

/// Builds random but valid x402 messages from a seed.
struct MessageFactory {
    var rng: SplitMix64

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }

    mutating func string() -> String {
        let pools: [[Character]] = [
            Array("abcdefXYZ0123456789"), Array("\"\\/\n\t\u{01}\u{1F}"), Array("é漢😀\u{2028}"), Array(" {}[]:,"),
        ]
        var s = ""
        for _ in 0..<int(0...12) {
            let pool = pools[int(0...pools.count - 1)]
            s.append(pool[int(0...pool.count - 1)])
        }
        return s
    }

    mutating func number() -> JSONNumber {
        switch int(0...3) {
        case 0: return JSONNumber(int(-1_000_000...1_000_000))
        case 1: return JSONNumber(literal: "\(int(0...999)).\(int(0...999))")!
        case 2: return JSONNumber(literal: "\(int(1...9))e\(int(-5...5))")!
        default: return JSONNumber(UInt64.random(in: 0...UInt64.max, using: &rng))
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        switch int(0...(depth > 3 ? 3 : 5)) {
        case 0: return .null
        case 1: return .bool(bool())
        case 2: return .number(number())
        case 3: return .string(string())
        case 4: return .array((0..<int(0...4)).map { _ in value(depth: depth + 1) })
        default: return .object(object(depth: depth + 1))
        }
    }

    mutating func object(depth: Int = 0) -> JSONObject {
        var o = JSONObject()
        for i in 0..<int(0...4) { o["k\(i)_" + string()] = value(depth: depth + 1) }
        return o
    }

    mutating func decimal() -> String { UInt256(UInt64.random(in: 0...UInt64.max, using: &rng)).decimalString }

    mutating func network() -> Network {
        [Network.base, .baseSepolia, .solanaDevnet, Network("cloudflare:402")!, .eip155(UInt64(int(1...1_000_000)))][int(0...4)]
    }

    mutating func requirements() -> PaymentRequirements {
        PaymentRequirements(
            scheme: ["exact", "upto", "batch-settlement"][int(0...2)], network: network(), amount: decimal(), asset: string(),
            payTo: string(), maxTimeoutSeconds: bool() ? int(1...86400) : nil, extra: bool() ? object() : nil,
            additionalMembers: bool() ? ["zz_" + string(): value()] : [:])
    }

    mutating func resource() -> ResourceInfo? {
        bool() ? ResourceInfo(url: "https://x/" + string(), description: bool() ? string() : nil, mimeType: bool() ? "application/json" : nil) : nil
    }

    mutating func paymentRequired() -> PaymentRequired {
        PaymentRequired(
            error: bool() ? string() : nil, resource: resource(), accepts: (0..<int(1...4)).map { _ in requirements() },
            extensions: bool() ? object() : nil)
    }

    mutating func payload() -> PaymentPayload {
        PaymentPayload(resource: resource(), accepted: requirements(), payload: object(), extensions: bool() ? object() : nil)
    }

    mutating func settle() -> SettleResponse {
        SettleResponse(
            success: bool(), errorReason: bool() ? ErrorReason(string()) : nil, errorMessage: bool() ? string() : nil,
            transaction: string(), network: string(), payer: bool() ? string() : nil, amount: bool() ? decimal() : nil,
            extensions: bool() ? object() : nil)
    }
}

@Suite("Property: encode → decode is the identity")
struct PropertyTests {
    @Test func jsonValues() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var f = MessageFactory(rng: SplitMix64(seed: seed))
            let value = f.value()
            let bytes = value.serialized()
            let decoded = try JSONValue(parsing: bytes)
            #expect(decoded == value)
            #expect(decoded.serialized() == bytes)
        }
    }

    @Test func paymentRequired() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var f = MessageFactory(rng: SplitMix64(seed: seed))
            let message = f.paymentRequired()
            let header = message.headerValue
            let decoded = try PaymentRequired(headerValue: header, maximumLength: .max)
            #expect(decoded == message)
            #expect(decoded.headerValue == header)
        }
    }

    @Test func paymentPayloads() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var f = MessageFactory(rng: SplitMix64(seed: seed))
            let message = f.payload()
            let decoded = try AnyPaymentPayload(headerValue: message.headerValue, maximumLength: .max)
            #expect(decoded == .v2(message))
        }
    }

    @Test func settleResponses() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var f = MessageFactory(rng: SplitMix64(seed: seed))
            let message = f.settle()
            let decoded = try SettleResponse(headerValue: message.headerValue, maximumLength: .max)
            #expect(decoded == message)
        }
    }

    @Test func moneyFormatting() async {
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 0...18)) { raw, decimals in
            let atomic = UInt256(raw)
            let text = Money.format(atomic, decimals: decimals)
            let parsed = try Money(text).atomicAmount(decimals: decimals)
            #expect(parsed == atomic)
        }
    }
}

/// A random JSON number literal and its exact value computed independently of `JSONNumber`: the
/// decimal point of the digit string is shifted by the exponent into plain `123.45` text.
struct NumberLiteralCase: CustomStringConvertible {
    var negative: Bool
    var integerDigits: String
    var fractionDigits: String
    /// The exponent as written after `e` (sign and leading zeros included), or `nil` for none.
    var exponentText: String?

    var literal: String {
        (negative ? "-" : "") + integerDigits + (fractionDigits.isEmpty ? "" : "." + fractionDigits)
            + (exponentText.map { ["e", "E"][$0.count % 2] + $0 } ?? "")
    }

    var description: String { literal }

    /// The written exponent, or `nil` when its magnitude is beyond the accepted bound.
    var exponent: Int? {
        guard let text = exponentText else { return 0 }
        let negativeExponent = text.hasPrefix("-")
        let digits = text.drop { $0 == "+" || $0 == "-" }.drop { $0 == "0" }
        guard digits.count <= 5, let magnitude = Int(digits.isEmpty ? "0" : String(digits)),
            magnitude <= JSONNumber.maximumExponentMagnitude
        else { return nil }
        return negativeExponent ? -magnitude : magnitude
    }

    /// The exact value as plain decimal text without exponent, leading or trailing zeros
    /// (`"-0.05"`, `"1200"`, `"0"`), or `nil` when the exponent is out of range.
    var plain: String? {
        guard let exponent else { return nil }
        let digits = Array(integerDigits + fractionDigits)
        let point = integerDigits.count + exponent  // position of the decimal point in `digits`
        var whole: [Character]
        var fraction: [Character]
        if point <= 0 {
            whole = ["0"]
            fraction = Array(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            whole = digits + Array(repeating: "0", count: point - digits.count)
            fraction = []
        } else {
            whole = Array(digits[..<point])
            fraction = Array(digits[point...])
        }
        while whole.count > 1, whole.first == "0" { whole.removeFirst() }
        while fraction.last == "0" { fraction.removeLast() }
        let isZero = whole == ["0"] && fraction.isEmpty
        return (negative && !isZero ? "-" : "") + String(whole) + (fraction.isEmpty ? "" : "." + String(fraction))
    }

    static func random(using rng: inout SplitMix64) -> NumberLiteralCase {
        func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
        func digits(_ count: Int, zeroHeavy: Bool) -> String {
            String((0..<count).map { _ in zeroHeavy && int(0...2) > 0 ? "0" : Character(String(int(0...9))) })
        }
        let negative = int(0...1) == 1
        let zeroHeavy = int(0...1) == 1
        let integerDigits = int(0...3) == 0 ? "0" : String(int(1...9)) + digits(int(0...24), zeroHeavy: zeroHeavy)
        let fractionDigits = int(0...2) == 0 ? "" : digits(int(1...30), zeroHeavy: zeroHeavy)
        var exponentText: String?
        if int(0...4) > 0 {
            let magnitude: String
            switch int(0...4) {
            case 0: magnitude = String(int(0...30))
            case 1: magnitude = String(int(9_990...10_010))
            case 2: magnitude = String(UInt64.random(in: 0...UInt64.max, using: &rng))
            case 3: magnitude = digits(int(19...28), zeroHeavy: false)
            default: magnitude = String(int(0...10_000))
            }
            exponentText = ["", "+", "-"][int(0...2)] + String(repeating: "0", count: int(0...1) == 0 ? 0 : int(1...25)) + magnitude
        }
        return NumberLiteralCase(negative: negative, integerDigits: integerDigits, fractionDigits: fractionDigits, exponentText: exponentText)
    }

    /// Literals whose value is exactly 1 or 2 written in odd ways, plus near misses.
    static func versionLike(using rng: inout SplitMix64) -> NumberLiteralCase {
        func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
        let shift = int(0...6)
        let digit = String(int(1...3))
        // digit × 10^shift, written with exponent -shift (plus zero padding): 1, 10e-1, 100e-2, …
        return NumberLiteralCase(
            negative: int(0...5) == 0, integerDigits: digit + String(repeating: "0", count: shift),
            fractionDigits: int(0...1) == 0 ? "" : String(repeating: "0", count: int(1...4)) + (int(0...3) == 0 ? "1" : ""),
            exponentText: "-" + String(repeating: "0", count: int(0...3)) + String(shift))
    }
}

@Suite("Property: JSON numbers are exact values or typed errors")
struct NumberLiteralPropertyTests {
    @Test func literalsAreExactOrRejected() async {
        await propertyCheck(count: 600, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let number = NumberLiteralCase.random(using: &rng)
            let literal = number.literal
            guard let plain = number.plain else {
                #expect(JSONNumber(literal: literal) == nil, "\(literal)")
                #expect(throws: JSONParseError(kind: .numberOutOfRange(limit: JSONNumber.maximumExponentMagnitude), offset: 1)) {
                    _ = try JSONValue(parsing: "[" + literal + "]")
                }
                return
            }
            let parsed = try #require(JSONNumber(literal: literal), "\(literal)")
            let reference = try #require(JSONNumber(literal: plain), "reference \(plain)")
            #expect(parsed == reference, "\(literal) should equal \(plain)")
            #expect(parsed.hashValue == reference.hashValue, "\(literal)")
            #expect(try JSONValue(parsing: literal) == .number(reference))
            #expect(try JSONValue(parsing: literal).serializedString() == literal)
            let expectedInt = plain.contains(".") ? nil : Int(plain)
            #expect(parsed.intValue == expectedInt, "\(literal) as Int should be \(String(describing: expectedInt))")
            // A different value is never equal: change the last significant digit of the reference.
            if let last = plain.last, last != "0", last != "." {
                let bumped = String(plain.dropLast()) + (last == "9" ? "8" : String(Character(Unicode.Scalar(last.asciiValue! + 1))))
                #expect(parsed != JSONNumber(literal: bumped), "\(literal) vs \(bumped)")
            }
        }
    }

    @Test func hostileVersionsDecodeOrFailTyped() async {
        await propertyCheck(count: 400, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let number = Bool.random(using: &rng) ? NumberLiteralCase.versionLike(using: &rng) : .random(using: &rng)
            let text = #"{"x402Version":"# + number.literal + "}"
            let header = Base64.encode(Array(#"{"x402Version":\#(number.literal),"accepted":{},"payload":{}}"#.utf8))
            switch number.plain {
            case nil:
                #expect(throws: JSONParseError.self) { _ = try JSONValue(parsing: text) }
                #expect(throws: X402DecodingError.self) { _ = try AnyPaymentPayload(headerValue: header) }
            case "1"?:
                #expect((try? X402Version.detect(in: JSONValue(parsing: text))) == .v1, "\(number)")
            case "2"?:
                #expect((try? X402Version.detect(in: JSONValue(parsing: text))) == .v2, "\(number)")
            default:
                #expect(throws: MessageDecodingError.self, "\(number)") { _ = try X402Version.detect(in: JSONValue(parsing: text)) }
                #expect(throws: X402DecodingError.self) { _ = try AnyPaymentPayload(headerValue: header) }
            }
        }
    }
}
