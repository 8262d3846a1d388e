import Testing

@testable import X402

@Suite("Header vectors from the spec digest")
struct HeaderVectorTests {
    @Test("the fixture holds every vector of test-vectors.md §1–3")
    func fixtureIsComplete() {
        #expect(HeaderVector.all.count == 16)
        #expect(HeaderVector.all.filter { !$0.validJSON }.count == 3)
    }

    @Test("base64 decodes to the documented JSON text", arguments: HeaderVector.all)
    func base64Decodes(_ v: HeaderVector) throws {
        let bytes = try Base64.decode(v.base64)
        #expect(String(decoding: bytes, as: UTF8.self) == v.json)
        #expect(Base64.encode(bytes) == v.base64)
    }

    @Test("valid JSON vectors parse and re-encode (byte for byte when compact)", arguments: HeaderVector.all.filter(\.validJSON))
    func jsonRoundTrip(_ v: HeaderVector) throws {
        let json = try PaymentHeader.decodeJSON(v.base64)
        if v.compact {
            #expect(PaymentHeader.encode(json) == v.base64)
        } else {
            // Python-style spacing cannot survive compact output; the value must.
            let reparsed = try JSONValue(parsing: json.serialized())
            #expect(reparsed == json)
            #expect(json.serializedString().count < v.json.count)
        }
    }

    @Test("invalid-JSON vectors fail as invalid JSON, not as base64", arguments: HeaderVector.all.filter { !$0.validJSON })
    func invalidJSONRejected(_ v: HeaderVector) {
        #expect {
            _ = try PaymentHeader.decodeJSON(v.base64)
        } throws: { error in
            guard case X402DecodingError.invalidJSON = error else { return false }
            return true
        }
    }

    private func vector(_ section: String, _ header: String, index: Int = 0) -> HeaderVector {
        HeaderVector.all.filter { $0.section == section && $0.header == header }[index]
    }

    @Test("typed v2 messages round-trip byte for byte")
    func typedV2() throws {
        let required = vector("1.2", "PAYMENT-REQUIRED")
        let pr = try PaymentRequired(headerValue: required.base64)
        #expect(pr.accepts.count == 1)
        #expect(pr.accepts[0].network == .baseSepolia)
        #expect(pr.accepts[0].atomicAmount == 10000)
        #expect(pr.accepts[0].extra?["name"] == "USDC")
        #expect(pr.resource?.url == "https://api.example.com/premium-data")
        #expect(pr.headerValue == required.base64)

        let signature = vector("1.2", "PAYMENT-SIGNATURE")
        let payload = try PaymentPayload(headerValue: signature.base64)
        #expect(payload.accepted == pr.accepts[0])
        #expect(payload.payload["authorization"]?["value"] == "10000")
        #expect(payload.headerValue == signature.base64)

        for i in 0..<2 {
            let response = vector("1.2", "PAYMENT-RESPONSE", index: i)
            let settle = try SettleResponse(headerValue: response.base64)
            #expect(settle.network == "eip155:84532")
            #expect(settle.success == (i == 0))
            #expect(settle.headerValue == response.base64)
        }
        let failure = try SettleResponse(headerValue: vector("1.2", "PAYMENT-RESPONSE", index: 1).base64)
        #expect(failure.errorReason == .insufficientFunds)
        #expect(failure.errorReason?.isKnown == true)
        #expect(failure.transaction == "")
    }

    @Test("typed v1 messages round-trip byte for byte")
    func typedV1() throws {
        let xPayment = vector("1.1", "X-PAYMENT")
        let payload = try AnyPaymentPayload(headerValue: xPayment.base64)
        guard case .v1(let v1) = payload else {
            Issue.record("expected a v1 payload")
            return
        }
        #expect(v1.network == "base-sepolia")
        #expect(payload.network == .baseSepolia)
        #expect(payload.headerValue == xPayment.base64)
        for i in 0..<2 {
            let v = vector("1.1", "X-PAYMENT-RESPONSE", index: i)
            let settle = try SettleResponse(headerValue: v.base64)
            #expect(settle.resolvedNetwork == .baseSepolia)
            #expect(settle.headerValue == v.base64)
        }
    }

    @Test("the cloudflare batch-settlement payload decodes leniently and keeps its members")
    func cloudflarePayload() throws {
        let v = vector("3.1", "PAYMENT-SIGNATURE")
        let payload = try PaymentPayload(headerValue: v.base64)
        #expect(payload.accepted.scheme == "batch-settlement")
        #expect(payload.accepted.network.identifier == "cloudflare:402")
        #expect(payload.accepted.maxTimeoutSeconds == 30)
        #expect(payload.accepted.extra == nil)
        #expect(payload.resource == nil)
        // Member order differs from ours; the value is the same.
        #expect(try JSONValue(parsing: payload.jsonBytes()) == PaymentHeader.decodeJSON(v.base64))
    }

    @Test("settlement headers that are not SettleResponses are reported, not crashed on")
    func partialSettlementHeaders() throws {
        for v in [vector("3.1", "PAYMENT-RESPONSE"), vector("3.2", "PAYMENT-RESPONSE")] {
            #expect(throws: X402DecodingError.invalidMessage(MessageDecodingError(path: "success", problem: .missingField))) {
                _ = try SettleResponse(headerValue: v.base64)
            }
            // Still readable as plain JSON.
            #expect(try PaymentHeader.decodeJSON(v.base64)["amount"] == "5")
        }
    }
}
