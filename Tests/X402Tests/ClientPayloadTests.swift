import Foundation
import Testing

@testable import X402

@Suite("Buyer payment payloads and headers")
struct ClientPayloadTests {
    typealias F = ClientFixtures

    @Test("v2: accepted verbatim, resource copied, extensions echoed and merged")
    func v2Payload() async throws {
        var offer = F.offer(amount: "10000")
        offer.additionalMembers = ["vendorField": true]
        let serverExtensions: JSONObject = [
            "bazaar": ["info": ["a": 1], "schema": ["type": "object"]],
            "payment-identifier": ["info": ["required": false], "schema": ["type": "object"]],
        ]
        let client = CountingSchemeClient(extensions: ["payment-identifier": ["info": ["id": "pay_123"]], "mine": ["info": [:]]])
        let required = F.required([offer], extensions: serverExtensions)
        let p = Payer(schemes: F.registry(client), wallet: "w")
        let prepared = try await p.preparePayment(for: required)
        #expect(prepared.headerName == "PAYMENT-SIGNATURE")
        guard case .v2(let payload) = prepared.payload else {
            Issue.record("not v2")
            return
        }
        #expect(payload.accepted == offer)
        #expect(payload.accepted.json == offer.json)
        #expect(payload.resource?.url == "https://api.example/data")
        #expect(payload.extensions?["bazaar"] == serverExtensions["bazaar"])
        #expect(payload.extensions?["payment-identifier"]?["schema"] == ["type": "object"])
        #expect(payload.extensions?["payment-identifier"]?["info"] == ["id": "pay_123"])
        #expect(payload.extensions?["mine"] != nil)
        // The header decodes back to the same payload and matches the server's offer.
        let decoded = try AnyPaymentPayload(headerValue: prepared.headerValue)
        #expect(decoded == prepared.payload)
        #expect(RequirementsMatching.indexOfAccepted(decoded, in: required.accepts) == 0)
    }

    @Test("v1: scheme and v1 network name at top level, X-PAYMENT; the client sees v2-form requirements")
    func v1Payload() async throws {
        let client = CountingSchemeClient()
        let required = AnyPaymentRequired.v1(
            PaymentRequiredV1(
                error: "X-PAYMENT header is required",
                accepts: [
                    PaymentRequirementsV1(
                        scheme: "exact", network: "base-sepolia", maxAmountRequired: "10000", resource: "https://legacy/data",
                        payTo: F.seller, maxTimeoutSeconds: 60, asset: F.usdcBaseSepolia, extra: ["name": "USDC", "version": "2"])
                ]))
        let ledger = InMemorySpendLedger()
        let p = Payer(schemes: F.registry(client), wallet: "w", ledger: ledger)
        let prepared = try await p.preparePayment(for: required)
        #expect(prepared.headerName == "X-PAYMENT")
        guard case .v1(let payload) = prepared.payload else {
            Issue.record("not v1")
            return
        }
        #expect(payload.scheme == "exact")
        #expect(payload.network == "base-sepolia")
        #expect(payload.payload["signature"] == "0xsigned")
        #expect(client.calls.first?.network == .baseSepolia)
        #expect(client.calls.first?.amount == "10000")
        let record = try #require(try await ledger.history(wallet: "w", limit: 1).first)
        #expect(record.resource == "https://legacy/data")
        #expect(record.value == F.dollars("0.01"))
        #expect(record.status == .pending)
    }

    @Test("settlement header: PAYMENT-RESPONSE first, else X-PAYMENT-RESPONSE; outcome recorded in the ledger")
    func settlementHeader() async throws {
        let receipt = SettleResponse(success: true, transaction: "0xabc", network: "eip155:84532", payer: "0xpayer")
        let v2 = try SettleResponse.fromResponseHeaders { $0 == "PAYMENT-RESPONSE" ? receipt.headerValue : nil }
        #expect(v2 == receipt)
        let v1 = try SettleResponse.fromResponseHeaders { $0 == "X-PAYMENT-RESPONSE" ? receipt.headerValue : nil }
        #expect(v1 == receipt)
        #expect(try SettleResponse.fromResponseHeaders { _ in nil } == nil)
        #expect(throws: X402DecodingError.self) { try SettleResponse.fromResponseHeaders { _ in "%%%" } }

        let ledger = InMemorySpendLedger()
        let p = Payer(schemes: F.registry(CountingSchemeClient()), wallet: "w", ledger: ledger)
        let prepared = try await p.preparePayment(for: F.required([F.offer(amount: "10000")]))
        try await p.recordSettlement(of: prepared, receipt: receipt)
        let record = try #require(try await ledger.history(wallet: "w", limit: 1).first)
        #expect(record.status == .settled)
        #expect(record.transaction == "0xabc")
        #expect(record.payer == "0xpayer")
    }
}
