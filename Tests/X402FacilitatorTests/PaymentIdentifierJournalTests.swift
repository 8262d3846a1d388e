import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import X402

@testable import X402Facilitator

@Suite("payment-identifier in the facilitator's settlement journal")
struct PaymentIdentifierJournalTests {
    /// A `/settle` body for a payment numbered `n`, carrying `id` as its payment identifier.
    static func body(_ n: Int, id: String?) -> String {
        var info: JSONObject = ["required": true]
        if let id { info["id"] = .string(id) }
        let r = Fixtures.requirements
        let payload = PaymentPayload(
            resource: ResourceInfo(url: "https://api.example.com/weather"), accepted: r, payload: ["ok": true, "n": .number(JSONNumber(n))],
            extensions: [PaymentIdentifier.extensionKey: ["info": .object(info)]])
        return String(decoding: FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(r)).jsonBytes(), as: UTF8.self)
    }

    @Test("the same id with another payment is a conflict and sends nothing; the same payment again is not one")
    func conflict() async throws {
        let scheme = FakeScheme()
        let store = InMemorySettlementJournalStore()
        let routes = Fixtures.routes(scheme: scheme, journal: SettlementJournal(store: store))
        let id = PaymentIdentifier.generate()
        let key: HTTPFields = [HTTPField.Name(SettlementIdempotency.headerName)!: "settlement-id-0000001"]
        try await Fixtures.app(routes).test(.router) { client in
            let (_, first, _) = try await client.post("/settle", Self.body(1, id: id), headers: key)
            #expect(first["success"] == true)
            // The owner's retry: answered from the journal, not a conflict, nothing sent again.
            let (_, retry, _) = try await client.post("/settle", Self.body(1, id: id), headers: key)
            #expect(retry == first)
            // Another payment under the same id.
            let (_, other, _) = try await client.post("/settle", Self.body(2, id: id))
            #expect(other["success"] == false)
            #expect(other["errorReason"] == .string(ErrorReason.paymentIdentifierConflict.rawValue))
            #expect(scheme.settleCount == 1)
            // Without an id, or with another id, the second payment settles.
            let (_, free, _) = try await client.post("/settle", Self.body(2, id: PaymentIdentifier.generate()))
            #expect(free["success"] == true)
            #expect(scheme.settleCount == 2)
        }
        // The binding entries are never resumed (only received/submitted entries are).
        let open = await store.entries(in: [.received, .submitted])
        #expect(open.isEmpty)
    }
}
