import Foundation
import Testing

@testable import X402

@Suite("Messages and the unified 402 model")
struct MessageModelTests {
    static let v2Header = HeaderVector.all.first { $0.header == "PAYMENT-REQUIRED" && $0.section == "1.2" }!.base64

    static let v1Body = """
        {"x402Version":1,"error":"X-PAYMENT header is required","accepts":[{"scheme":"exact","network":"base-sepolia",\
        "maxAmountRequired":"10000","resource":"https://api.example.com/premium-data","description":"Access to premium market data",\
        "mimeType":"application/json","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,\
        "asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","outputSchema":null,"extra":{"name":"USDC","version":"2"}}]}
        """

    @Test("a v2 header-style 402 and a v1 body-style 402 decode into one model")
    func unifiedModel() throws {
        let v2 = try AnyPaymentRequired(header: Self.v2Header, body: Array("{}".utf8))
        let v1 = try AnyPaymentRequired(header: nil, body: Array(Self.v1Body.utf8))
        #expect(v2.version == .v2)
        #expect(v1.version == .v1)
        #expect(v1.error == "X-PAYMENT header is required")
        // Both offer the same payment once normalised.
        let a = try #require(v2.accepts.first?.normalized)
        let b = try #require(v1.accepts.first?.normalized)
        #expect(a.network == b.network)
        #expect(a.amount == b.amount)
        #expect(a.asset == b.asset)
        #expect(a.payTo == b.payTo)
        #expect(a.extra == b.extra)
        #expect(v1.accepts.first?.networkIdentifier == "base-sepolia")
    }

    @Test("v1 requirements keep a null outputSchema and their member order")
    func v1RoundTrip() throws {
        let v1 = try PaymentRequiredV1(json: JSONValue(parsing: Self.v1Body))
        #expect(v1.accepts[0].outputSchema == .null)
        #expect(v1.json.serializedString() == Self.v1Body)
    }

    @Test("a 402 without a header and without a v1 body is an error, not a crash")
    func notA402() {
        #expect(throws: X402DecodingError.self) { _ = try AnyPaymentRequired(header: nil, body: Array("<html>".utf8)) }
        #expect(throws: X402DecodingError.self) { _ = try AnyPaymentRequired(header: nil, body: Array("{}".utf8)) }
    }

    @Test("unknown members are preserved where the protocol echoes objects")
    func unknownMembers() throws {
        let text =
            #"{"scheme":"exact","network":"eip155:8453","amount":"1","asset":"0xa","payTo":"0xb","maxTimeoutSeconds":60,"extra":{},"serviceTier":"gold"}"#
        let r = try PaymentRequirements(json: JSONValue(parsing: text))
        #expect(r.additionalMembers["serviceTier"] == "gold")
        #expect(r.json.serializedString() == text)
        let resource = try ResourceInfo(json: JSONValue(parsing: #"{"url":"u","tags":["a"],"serviceName":"S"}"#))
        #expect(resource.json.serializedString() == #"{"url":"u","tags":["a"],"serviceName":"S"}"#)
    }

    @Test("verify and settle responses from other implementations decode")
    func foreignResponses() throws {
        // x402-rs failure body.
        let rs = try VerifyResponse(
            json: JSONValue(parsing: #"{"isValid":false,"invalidReason":"invalid_signature","invalidReasonDetails":"bad","payer":""}"#))
        #expect(rs.invalidReason == "invalid_signature")
        #expect(rs.invalidMessage == "bad")
        // TS allows null optionals.
        let ts = try VerifyResponse(json: JSONValue(parsing: #"{"isValid":true,"invalidReason":null,"payer":"0x1"}"#))
        #expect(ts.isValid && ts.invalidReason == nil)
        // Unknown reasons are carried unchanged.
        let unknown = try SettleResponse(
            json: JSONValue(parsing: #"{"success":false,"errorReason":"brand_new_reason","transaction":"","network":"eip155:1"}"#))
        #expect(unknown.errorReason?.rawValue == "brand_new_reason")
        #expect(unknown.errorReason?.isKnown == false)
        #expect(unknown.json.serializedString().contains("brand_new_reason"))
        // A v1-only /supported.
        let supported = try SupportedResponse(json: JSONValue(parsing: #"{"kinds":[{"x402Version":1,"scheme":"exact","network":"base-sepolia"}]}"#))
        #expect(supported.extensions.isEmpty && supported.signers.isEmpty)
        #expect(supported.kind(version: .v1, scheme: "exact", network: "base-sepolia") != nil)
    }

    @Test("discovery lists accept numeric and string timestamps")
    func discovery() throws {
        let text = #"""
            {"x402Version":2,"items":[{"resource":"https://api.example.com/weather","type":"http","x402Version":2,
            "accepts":[{"scheme":"exact","network":"eip155:84532","amount":"1000","asset":"0xa","payTo":"0xb","maxTimeoutSeconds":300,"extra":{}}],
            "lastUpdated":1703123456,"metadata":{"category":"weather"}},
            {"resource":"r2","type":"http","x402Version":1,"accepts":[],"lastUpdated":"2024-01-15T10:30:00.000Z"}],
            "pagination":{"limit":20,"offset":0,"total":2}}
            """#
        let list = try DiscoveryResponse(json: JSONValue(parsing: text))
        #expect(list.items.count == 2)
        #expect(list.items[0].lastUpdated == Date(timeIntervalSince1970: 1_703_123_456))
        #expect(list.items[1].lastUpdated == Date(timeIntervalSince1970: 1_705_314_600))
        #expect(list.pagination.total == 2)
        #expect(try DiscoveryResponse(json: list.json) == list)
    }

    @Test("every catalogued reason is known; constants are in the catalogue")
    func reasons() {
        let constants: [ErrorReason] = [
            .insufficientFunds, .exactEVMSignature, .exactEVMValidBefore, .exactEVMNonceAlreadyUsed, .permit2AllowanceRequired,
            .duplicateSettlement, .unexpectedSettleError, .acceptedRequirementsMismatch, .exactEVMAuthorizationValueMismatch,
        ]
        for c in constants { #expect(c.isKnown, "\(c)") }
        // Every reason of the v2 spec list (core-types.md §6.1) is catalogued.
        for reason in [
            "insufficient_funds", "invalid_exact_evm_payload_authorization_valid_after", "invalid_exact_evm_payload_authorization_valid_before",
            "invalid_exact_evm_payload_authorization_value_mismatch", "invalid_exact_evm_payload_signature",
            "invalid_exact_evm_payload_recipient_mismatch", "invalid_network", "invalid_payload", "invalid_payment_requirements",
            "invalid_scheme", "unsupported_scheme", "invalid_x402_version", "invalid_transaction_state", "unexpected_verify_error",
            "unexpected_settle_error",
        ] {
            #expect(ErrorReason(reason).isKnown, "\(reason)")
        }
        #expect(!ErrorReason("not_a_reason").isKnown)
    }
}
