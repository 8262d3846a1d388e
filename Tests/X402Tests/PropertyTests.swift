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
