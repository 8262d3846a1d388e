import Foundation
import Testing

@testable import X402

/// Security review F1 and F13: JSON numbers and objects from a peer must never trap or cost more
/// than linear work. Before the fix, every literal of `crashLiterals` killed the process inside
/// `JSONNumber.decimal`/`intValue` (checked arithmetic on an unbounded exponent), which no
/// `try`/`catch` can stop, so these tests crashed the test runner instead of failing politely.
@Suite("Hostile JSON numbers and objects")
struct HostileNumberTests {
    /// The literal family from the review; all are valid RFC 8259 grammar.
    static let crashLiterals = [
        "1e9223372036854775807",
        "10e9223372036854775807",
        "0.1e-9223372036854775808",
        "-1e-9223372036854775808",
        "1E+9223372036854775807",
        "1e99999999999999999999999999",
        "1e10001",
        "-0.5e-10001",
    ]

    private static func isOutOfRange(_ error: JSONParseError) -> Bool {
        error.kind == .numberOutOfRange(limit: JSONNumber.maximumExponentMagnitude)
    }

    private static func isOutOfRange(_ error: X402DecodingError) -> Bool {
        guard case .invalidJSON(let parse) = error else { return false }
        return isOutOfRange(parse)
    }

    @Test("a huge exponent is a typed parse error, not a trap", arguments: crashLiterals)
    func hugeExponentIsTypedError(_ literal: String) {
        let error = #expect(throws: JSONParseError.self) { _ = try JSONValue(parsing: literal) }
        #expect(error.map(Self.isOutOfRange) == true)
        #expect(error?.offset == 0)
        #expect(JSONNumber(literal: literal) == nil)
        let inside = #expect(throws: JSONParseError.self) { _ = try JSONValue(parsing: #"{"a":[true,"# + literal + "]}") }
        #expect(inside?.offset == 11)
    }

    @Test("hostile x402Version in PAYMENT-SIGNATURE, X-PAYMENT, PAYMENT-REQUIRED and a facilitator body", arguments: crashLiterals)
    func hostileVersionInEveryEnvelope(_ literal: String) {
        let payload = #"{"x402Version":"# + literal + #","accepted":{},"payload":{}}"#
        let header = Base64.encode(Array(payload.utf8))
        let seller = #expect(throws: X402DecodingError.self) { _ = try AnyPaymentPayload(headerValue: header) }
        #expect(seller.map(Self.isOutOfRange) == true)
        let legacy = #expect(throws: X402DecodingError.self) { _ = try PaymentPayloadV1(headerValue: header) }
        #expect(legacy.map(Self.isOutOfRange) == true)

        let required = #"{"x402Version":"# + literal + #","accepts":[]}"#
        let buyer = #expect(throws: X402DecodingError.self) {
            _ = try AnyPaymentRequired(header: Base64.encode(Array(required.utf8)), body: [UInt8]())
        }
        #expect(buyer.map(Self.isOutOfRange) == true)
        let body402 = #expect(throws: X402DecodingError.self) { _ = try AnyPaymentRequired(header: nil, body: Array(required.utf8)) }
        #expect(body402.map(Self.isOutOfRange) == true)

        let facilitatorBody = #"{"x402Version":2,"paymentPayload":"# + payload + #","paymentRequirements":{}}"#
        let facilitator = #expect(throws: X402DecodingError.self) {
            _ = try IncomingFacilitatorRequest(jsonBytes: Array(facilitatorBody.utf8))
        }
        #expect(facilitator.map(Self.isOutOfRange) == true)
        let topLevel = #"{"x402Version":"# + literal + #","paymentPayload":{"x402Version":2},"paymentRequirements":{}}"#
        let top = #expect(throws: X402DecodingError.self) { _ = try FacilitatorRequest(jsonBytes: Array(topLevel.utf8)) }
        #expect(top.map(Self.isOutOfRange) == true)
    }

    @Test("exponents up to the bound are exact values, not traps")
    func boundaryExponents() throws {
        let big = try #require(JSONNumber(literal: "1e10000"))
        #expect(big.intValue == nil)
        #expect(big.uint64Value == nil)
        #expect(big == JSONNumber(literal: "10e9999"))
        #expect(big != JSONNumber(literal: "0.1e10000"))
        #expect(big.hashValue == JSONNumber(literal: "10e9999")?.hashValue)
        let tiny = try #require(JSONNumber(literal: "-1e-10000"))
        #expect(tiny.intValue == nil)
        #expect(tiny == JSONNumber(literal: "-0.01e-9998"))
        // Leading zeros in an exponent do not count towards the bound.
        #expect(JSONNumber(literal: "7e000000000000000000000000000002")?.intValue == 700)
        #expect(JSONNumber(literal: "1e+010000") != nil)
        #expect(JSONNumber(literal: "1e+010001") == nil)
        // A zero mantissa is zero whatever the exponent.
        #expect(JSONNumber(literal: "0e10000") == JSONNumber(0))
        #expect(JSONNumber(literal: "-0.000e-10000")?.intValue == 0)
    }

    @Test("x402Version written as 1.0, 10e-1 or 0.2e1 is still the integer version")
    func nonCanonicalVersionLiterals() throws {
        for (literal, version) in [("1.0", X402Version.v1), ("10e-1", .v1), ("0.2e1", .v2), ("2E0", .v2), ("200e-2", .v2)] {
            #expect(try X402Version.detect(in: JSONValue(parsing: #"{"x402Version":"# + literal + "}")) == version)
        }
        #expect(throws: MessageDecodingError.self) { _ = try X402Version.detect(in: JSONValue(parsing: #"{"x402Version":1.5}"#)) }
        #expect(throws: MessageDecodingError.self) {
            _ = try X402Version.detect(in: JSONValue(parsing: #"{"x402Version":1e10000}"#))
        }
    }

    @Test("integer conversion is exact at the edges of Int and UInt64")
    func integerEdges() throws {
        #expect(JSONNumber(literal: "9223372036854775807")?.intValue == .max)
        #expect(JSONNumber(literal: "-9223372036854775808")?.intValue == .min)
        #expect(JSONNumber(literal: "9223372036854775808")?.intValue == nil)
        #expect(JSONNumber(literal: "922337203685477580.7e1")?.intValue == .max)
        #expect(JSONNumber(literal: "9.223372036854775808e18")?.intValue == nil)
        #expect(JSONNumber(literal: "-9.223372036854775808e18")?.intValue == .min)
        #expect(JSONNumber(literal: "18446744073709551615")?.uint64Value == .max)
        #expect(JSONNumber(literal: "1.8446744073709551615e19")?.uint64Value == nil)  // only literal UInt64 text is read beyond Int
        #expect(JSONNumber(literal: "1e19")?.intValue == nil)
        #expect(JSONNumber(literal: "1e18")?.intValue == 1_000_000_000_000_000_000)
    }

    @Test("a long mantissa is linear work and exact")
    func longMantissa() throws {
        let zeros = String(repeating: "0", count: 50_000)
        let small = try #require(JSONNumber(literal: "0." + zeros + "1"))
        #expect(small == JSONNumber(literal: "0.0" + zeros + "10e1"))
        #expect(small.intValue == nil)
        let large = try #require(JSONNumber(literal: "1" + zeros))
        #expect(large == JSONNumber(literal: "1" + zeros.dropLast(10_000) + "e10000"))
        #expect(large.intValue == nil)
    }

    @Test("an object with thousands of keys decodes, and a duplicate among them is rejected")
    func manyKeys() throws {
        let count = 7_300  // about what a 64 KiB facilitator body can hold
        var text = "{"
        for i in 0..<count { text += (i == 0 ? "" : ",") + "\"k\(i)\":\(i)" }
        let value = try JSONValue(parsing: text + "}")
        let object = try #require(value.objectValue)
        #expect(object.count == count)
        #expect(object["k0"] == 0)
        #expect(object["k7299"] == 7299)
        #expect(object["k7300"] == nil)

        let duplicate = text + ",\"k3650\":1}"
        #expect(throws: JSONParseError(kind: .duplicateKey("k3650"), offset: text.utf8.count + 1)) {
            _ = try JSONValue(parsing: duplicate)
        }
        // Same inside a header a seller reads before any authentication (2 700 keys ≈ 24 KiB).
        var header = #"{"x402Version":2"#
        for i in 0..<2_700 { header += ",\"k\(i)\":0" }
        header += ",\"x402Version\":1}"
        #expect(throws: X402DecodingError.self) { _ = try AnyPaymentPayload(headerValue: Base64.encode(Array(header.utf8))) }
    }

    @Test("canonically equivalent keys count as duplicates, as before the index")
    func canonicalEquivalentKeys() {
        var text = "{"
        for i in 0..<20 { text += "\"k\(i)\":0," }
        let error = #expect(throws: JSONParseError.self) { _ = try JSONValue(parsing: text + "\"\u{E9}\":1,\"e\u{301}\":2}") }
        #expect(error?.kind == .duplicateKey("e\u{301}"))
    }

    @Test("a large object keeps order and lookups through set, replace and remove")
    func largeObjectMutations() {
        var object = JSONObject()
        for i in 0..<100 { object["k\(i)"] = .number(JSONNumber(i)) }
        object["k50"] = "replaced"
        #expect(object.keys[50] == "k50")
        #expect(object["k50"] == "replaced")
        object["k10"] = nil
        #expect(object.count == 99)
        #expect(object["k10"] == nil)
        #expect(object["k11"] == 11)
        #expect(object["k99"] == 99)
        #expect(object.keys[10] == "k11")
        for i in 0..<95 where i != 10 { object["k\(i)"] = nil }
        #expect(object.keys == ["k95", "k96", "k97", "k98", "k99"])
        #expect(object["k97"] == 97)
        object["k0"] = 0
        #expect(object.keys.last == "k0")
        #expect(object == JSONObject([("k0", 0), ("k99", 99), ("k98", 98), ("k97", 97), ("k96", 96), ("k95", 95)]))

        // Merging and writer append stay correct above the index threshold.
        var left = JSONObject()
        var right = JSONObject()
        for i in 0..<40 {
            left["a\(i)"] = 1
            right["a\(i + 20)"] = 2
        }
        let merged = left.merging(right)
        #expect(merged.count == 60)
        #expect(merged["a19"] == 1)
        #expect(merged["a20"] == 2)
        #expect(merged["a59"] == 2)
    }

    @Test("deep nesting of objects and arrays stops at the limit with a typed error")
    func deepNesting() {
        let deep = String(repeating: #"{"a":["#, count: 20_000) + String(repeating: "]}", count: 20_000)
        let error = #expect(throws: JSONParseError.self) { _ = try JSONValue(parsing: deep) }
        #expect(error?.kind == .tooDeep(limit: JSONValue.defaultMaximumDepth))
        let header = Base64.encode(Array(String(repeating: "[", count: 20_000).utf8))
        #expect(throws: X402DecodingError.self) { _ = try PaymentRequired(headerValue: header) }
    }

    @Test("a discovery entry's lastUpdated must be a finite date (1e300 or \"nan\" used to trap on re-encoding)")
    func discoveryTimestamps() throws {
        func item(_ lastUpdated: String) -> String {
            #"{"x402Version":2,"items":[{"resource":"https://a/b","type":"http","x402Version":2,"accepts":[],"lastUpdated":"#
                + lastUpdated + #"}],"pagination":{"limit":1,"offset":0,"total":1}}"#
        }
        for hostile in ["1e300", "-1e300", "1e10000", #""nan""#, #""inf""#, #""-infinity""#, #""1e300""#, "253402300800"] {
            #expect(throws: X402DecodingError.self, "\(hostile)") { _ = try DiscoveryResponse(jsonBytes: Array(item(hostile).utf8)) }
        }
        let fine = try DiscoveryResponse(jsonBytes: Array(item("1700000000.5").utf8))
        #expect(fine.items.first?.lastUpdated.timeIntervalSince1970 == 1_700_000_000.5)
        #expect(fine.json["items"]?.arrayValue?.first?["lastUpdated"] == 1_700_000_000)
        // A date built in code outside the range encodes clamped instead of trapping.
        let odd = DiscoveryResource(resource: "r", x402Version: .v2, accepts: [], lastUpdated: Date(timeIntervalSince1970: 1e300))
        #expect(odd.json["lastUpdated"] == 253_402_300_799)
    }
}
