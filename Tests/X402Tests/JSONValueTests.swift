import Foundation
import Testing

@testable import X402

@Suite("Ordered JSON value")
struct JSONValueTests {
    @Test("key order, unknown members and number literals survive a round trip")
    func preservesOrderAndLiterals() throws {
        let text = #"{"z":1,"a":[1.50,-0,2e3,{"y":null,"b":true}],"m":"é/\"\\\n\u0001","k":{}}"#
        let value = try JSONValue(parsing: text)
        #expect(value.objectValue?.keys == ["z", "a", "m", "k"])
        #expect(value.serializedString() == #"{"z":1,"a":[1.50,-0,2e3,{"y":null,"b":true}],"m":"é/\"\\\n\u0001","k":{}}"#)
    }

    @Test("escapes are decoded, including surrogate pairs")
    func escapes() throws {
        let value = try JSONValue(parsing: #"["\u00e9\ud83d\ude00\/\b\f\t"]"#)
        #expect(value.arrayValue?.first?.stringValue == "é😀/\u{08}\u{0C}\t")
        // Output escapes like JSON.stringify: no "\/", short escapes, \u00XX otherwise, raw UTF-8.
        #expect(value.serializedString() == "[\"é😀/\\b\\f\\t\"]")
    }

    @Test("equality is semantic: key order ignored, numbers by value, arrays in order")
    func semanticEquality() throws {
        #expect(try JSONValue(parsing: #"{"a":1,"b":[1,2]}"#) == JSONValue(parsing: #"{"b":[1,2],"a":1.0}"#))
        #expect(try JSONValue(parsing: "60") == JSONValue(parsing: "6e1"))
        #expect(try JSONValue(parsing: "0.10") == JSONValue(parsing: "1e-1"))
        #expect(try JSONValue(parsing: "-0") == JSONValue(parsing: "0"))
        #expect(try JSONValue(parsing: #"{"b":[1,2]}"#) != JSONValue(parsing: #"{"b":[2,1]}"#))
        #expect(try JSONValue(parsing: #"{"a":{}}"#) != JSONValue(parsing: #"{}"#))
        #expect(try JSONValue(parsing: #"{"a":null}"#) != JSONValue(parsing: #"{}"#))
        #expect(try JSONValue(parsing: "1") != JSONValue(parsing: "\"1\""))
        #expect(try JSONValue(parsing: "100000000000000000001") != JSONValue(parsing: "100000000000000000000"))
    }

    @Test("integers are read exactly; non-integers are not ints")
    func numbers() throws {
        #expect(try JSONValue(parsing: "300").intValue == 300)
        #expect(try JSONValue(parsing: "3e2").intValue == 300)
        #expect(try JSONValue(parsing: "300.0").intValue == 300)
        #expect(try JSONValue(parsing: "300.5").intValue == nil)
        #expect(try JSONValue(parsing: "1e30").intValue == nil)
        #expect(try JSONValue(parsing: "-42").intValue == -42)
    }

    @Test("JSONObject keeps insertion order, replaces in place and removes with nil")
    func objectOrdering() {
        var o: JSONObject = ["b": 1, "a": 2]
        o["c"] = 3
        o["b"] = 4
        #expect(o.keys == ["b", "a", "c"])
        o["a"] = nil
        #expect(o.keys == ["b", "c"])
        #expect(o.merging(["d": 5, "b": 6]).keys == ["b", "c", "d"])
        #expect(o.merging(["b": 6])["b"] == 6)
    }

    @Test("Codable bridge works with Foundation's coders")
    func codableBridge() throws {
        let payload = try PaymentPayload(headerValue: HeaderVector.all.first { $0.header == "PAYMENT-SIGNATURE" }!.base64)
        let data = try JSONEncoder().encode(payload)
        let decoded = try JSONDecoder().decode(PaymentPayload.self, from: data)
        #expect(decoded == payload)
        let supported = SupportedResponse(
            kinds: [SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")], extensions: [],
            signers: ["eip155:*": ["0x1"]])
        #expect(try JSONDecoder().decode(SupportedResponse.self, from: JSONEncoder().encode(supported)) == supported)
    }

    @Test("hashing agrees with semantic equality: equal values hash alike, in sets and as keys")
    func hashingMatchesEquality() throws {
        let pairs = [
            (#"{"a":1,"b":[1,2]}"#, #"{"b":[1,2],"a":1.0}"#), ("60", "6e1"), ("0.10", "1e-1"), ("-0", "0"),
            (#"[{"x":null,"y":true}]"#, #"[{"y":true,"x":null}]"#), (#""é""#, #""\u00e9""#),
        ]
        for (left, right) in pairs {
            let a = try JSONValue(parsing: left)
            let b = try JSONValue(parsing: right)
            #expect(a == b)
            #expect(a.hashValue == b.hashValue, "\(left) and \(right)")
        }
        let distinct: Set<JSONValue> = try Set(["1", #""1""#, "[1]", #"{"1":1}"#, "true", "null", "[]", "{}"].map { try JSONValue(parsing: $0) })
        #expect(distinct.count == 8)
        #expect(distinct.contains(try JSONValue(parsing: "1.0")))
        // The parse error is hashable too, so it can sit inside other hashable error types.
        let error = #expect(throws: JSONParseError.self) { try JSONValue(parsing: "[1,]") }
        #expect(Set([error, error]).count == 1)
    }
}
