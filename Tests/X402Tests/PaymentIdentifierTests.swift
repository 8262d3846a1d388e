import Foundation
import HTTPTypes
import Testing
import X402TestSupport

@testable import X402

@Suite struct PaymentIdentifierTests {
    @Test func theDeclarationMatchesTheReference() {
        let d = PaymentIdentifier.declaration(required: true)
        #expect(d["info"] == ["required": true])
        #expect(d["schema"]?["required"] == ["required"])
        #expect(d["schema"]?["properties"]?["id"]?["minLength"] == 16)
        #expect(d["schema"]?["properties"]?["id"]?["maxLength"] == 128)
        #expect(d["schema"]?["properties"]?["id"]?["pattern"] == "^[a-zA-Z0-9_-]+$")
        #expect(PaymentIdentifier.isDeclared(in: [PaymentIdentifier.extensionKey: d]))
        #expect(PaymentIdentifier.isRequired(by: [PaymentIdentifier.extensionKey: d]))
        #expect(!PaymentIdentifier.isDeclared(in: [PaymentIdentifier.extensionKey: ["info": [:]]]))
        #expect(!PaymentIdentifier.isDeclared(in: [PaymentIdentifier.extensionKey: "yes"]))
        #expect(!PaymentIdentifier.isDeclared(in: nil))
    }

    @Test func generatedIdsHaveTheReferenceShape() {
        let id = PaymentIdentifier.generate()
        #expect(id.hasPrefix("pay_") && id.count == 36)
        #expect(id.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(PaymentIdentifier.isValid(id))
        #expect(id != PaymentIdentifier.generate())
    }

    @Test(arguments: [
        ("pay_7d5d747be160e2", true), ("a_b-c_1234567890ABC", true), (String(repeating: "x", count: 128), true),
        ("short_id_15chrs", false), (String(repeating: "x", count: 129), false), ("pay_abc!@#defghijklmn", false),
        ("pay_ünïcödé_0123456", false), ("pay 7d5d747be160e280", false), ("", false),
    ])
    func validity(_ id: String, _ valid: Bool) {
        #expect(PaymentIdentifier.isValid(id) == valid)
    }

    static func payload(id: JSONValue?) -> AnyPaymentPayload {
        var info: JSONObject = ["required": false]
        if let id { info["id"] = id }
        return .v2(
            PaymentPayload(
                accepted: ClientFixtures.offer(amount: "10"), payload: [:], extensions: [PaymentIdentifier.extensionKey: ["info": .object(info)]]))
    }

    @Test func readingAnIdFromAPayment() throws {
        #expect(try PaymentIdentifier.id(in: Self.payload(id: nil)) == nil)
        #expect(try PaymentIdentifier.id(in: Self.payload(id: .null)) == nil)
        #expect(try PaymentIdentifier.id(in: Self.payload(id: "pay_7d5d747be160e280")) == "pay_7d5d747be160e280")
        for bad: JSONValue in ["short", 12_345_678_901_234_567, ["pay_7d5d747be160e280"], "pay_7d5d747be160e280\n"] {
            #expect(throws: PaymentIdentifierProblem.invalid) { try PaymentIdentifier.id(in: Self.payload(id: bad)) }
        }
    }

    @Test func thePayerAddsAnIdOnlyWhenDeclared() async throws {
        let payer = Payer(schemes: ClientFixtures.registry(CountingSchemeClient()), wallet: "w")
        let declared = ClientFixtures.required(
            [ClientFixtures.offer(amount: "10")], extensions: [PaymentIdentifier.extensionKey: PaymentIdentifier.declaration(), "other": ["info": 1]])
        let generated = try await payer.preparePayment(for: declared)
        let id = try #require(try PaymentIdentifier.id(in: generated.payload))
        #expect(id.hasPrefix("pay_"))
        guard case .v2(let p) = generated.payload else {
            Issue.record("not v2")
            return
        }
        // The server's declaration is echoed whole, with the id added to its info.
        #expect(p.extensions?[PaymentIdentifier.extensionKey]?["schema"] == PaymentIdentifier.declaration()["schema"])
        #expect(p.extensions?[PaymentIdentifier.extensionKey]?["info"]?["required"] == false)
        #expect(p.extensions?["other"] == ["info": 1])

        let given = try await payer.preparePayment(for: declared, paymentIdentifier: "order_000000000042")
        #expect(try PaymentIdentifier.id(in: given.payload) == "order_000000000042")

        let undeclared = try await payer.preparePayment(for: ClientFixtures.required([ClientFixtures.offer(amount: "10")]))
        #expect(try PaymentIdentifier.id(in: undeclared.payload) == nil)
    }

    @Test func anInvalidGivenIdIsRefusedBeforeSigning() async throws {
        let client = CountingSchemeClient()
        let payer = Payer(schemes: ClientFixtures.registry(client), wallet: "w")
        let declared = ClientFixtures.required(
            [ClientFixtures.offer(amount: "10")], extensions: [PaymentIdentifier.extensionKey: PaymentIdentifier.declaration()])
        await #expect(throws: PaymentIdentifierProblem.invalid) { try await payer.preparePayment(for: declared, paymentIdentifier: "bad id") }
        #expect(client.calls.isEmpty)
    }
}

@Suite struct PaymentIdentifierServerTests {
    static func server(
        _ facilitator: ScriptedFacilitator, required: Bool, store: any PaymentStateStore = InMemoryPaymentStateStore()
    ) throws
        -> ResourceServer
    {
        let route = PaidRoute(
            accepts: [.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo))], description: "Weather",
            extensions: [PaymentIdentifier.extensionKey: PaymentIdentifier.declaration(required: required)])
        return try ResourceServer(
            configuration: .init(routes: ["GET /weather": route], facilitator: facilitator, schemes: testSchemes(), store: store))
    }

    /// A paid request for the server's first offer carrying `id` (none when `nil`).
    static func paid(_ server: ResourceServer, id: String?, nonce: String) async throws -> ServerRequest {
        let unpaid = await server.respond(to: request()) { _ in ServerResponse(status: 200) }
        let required = try paymentRequired(unpaid)
        var p = payment(for: try #require(required.accepts.first), nonce: nonce, resource: required.resource)
        p.extensions = required.extensions
        if let id { p.extensions = PaymentIdentifier.adding(id, to: p.extensions) }
        return request(.get, "/weather", headers: [.hostHeader: "api.example.com", .paymentSignature: p.headerValue])
    }

    @Test func aRequiredIdThatIsMissingOrMalformedIs400() async throws {
        let facilitator = ScriptedFacilitator()
        let server = try Self.server(facilitator, required: true)
        let counter = Counter()
        let missing = try await server.respond(to: await Self.paid(server, id: nil, nonce: "0x01"), handler: contentHandler(counter))
        #expect(missing.status == .badRequest)
        #expect(try paymentRequired(missing).error == ErrorReason.paymentIdentifierRequired.rawValue)
        let malformed = try await server.respond(to: await Self.paid(server, id: "bad id!", nonce: "0x01"), handler: contentHandler(counter))
        #expect(malformed.status == .badRequest)
        #expect(try paymentRequired(malformed).error == ErrorReason.invalidPaymentIdentifier.rawValue)
        #expect(await facilitator.verifies == 0)
        #expect(await counter.value == 0)
    }

    @Test func anOptionalIdMayBeLeftOut() async throws {
        let server = try Self.server(ScriptedFacilitator(), required: false)
        #expect(try await server.respond(to: await Self.paid(server, id: nil, nonce: "0x01"), handler: contentHandler(Counter())).status == .ok)
    }

    @Test func theSameIdWithAnotherPaymentIsAConflict() async throws {
        let facilitator = ScriptedFacilitator()
        let server = try Self.server(facilitator, required: true)
        let counter = Counter()
        let id = PaymentIdentifier.generate()
        let first = try await server.respond(to: await Self.paid(server, id: id, nonce: "0x01"), handler: contentHandler(counter))
        #expect(first.status == .ok)
        let conflict = try await server.respond(to: await Self.paid(server, id: id, nonce: "0x02"), handler: contentHandler(counter))
        #expect(conflict.status == .conflict)
        #expect(try paymentRequired(conflict).error == ErrorReason.paymentIdentifierConflict.rawValue)
        #expect(await facilitator.verifies == 1)
        #expect(await facilitator.settles == 1)
        #expect(await counter.value == 1)
    }

    @Test func theSameIdWithTheSamePaymentIsARetryWithoutASecondSettlement() async throws {
        let facilitator = ScriptedFacilitator()
        let server = try Self.server(facilitator, required: true)
        let counter = Counter()
        let id = PaymentIdentifier.generate()
        let paid = try await Self.paid(server, id: id, nonce: "0x01")
        #expect(try await server.respond(to: paid, handler: contentHandler(counter)).status == .ok)
        let again = try await server.respond(to: paid, handler: contentHandler(counter))
        #expect(again.status.code == 402)
        #expect(try paymentRequired(again).error == ErrorReason.paymentAlreadyUsed.rawValue)
        #expect(await facilitator.settles == 1)
        #expect(await counter.value == 1)
    }

    @Test func aRetryAfterAFailedSettlementSettlesOnce() async throws {
        // The first settlement fails with no transaction; the same payment (same id) is settled on retry.
        let facilitator = ScriptedFacilitator()
        await facilitator.setSettle { r in .success(.failure(.unexpectedSettleError, network: r.paymentRequirements.networkIdentifier)) }
        let server = try Self.server(facilitator, required: true)
        let paid = try await Self.paid(server, id: PaymentIdentifier.generate(), nonce: "0x01")
        #expect(try await server.respond(to: paid, handler: contentHandler(Counter())).status.code == 402)
        await facilitator.setSettle { r in
            .success(SettleResponse(success: true, transaction: "0xfeed", network: r.paymentRequirements.networkIdentifier, payer: testPayer))
        }
        #expect(try await server.respond(to: paid, handler: contentHandler(Counter())).status == .ok)
        #expect(await facilitator.settled == ["0xfeed"])
    }
}
