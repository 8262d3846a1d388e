// Two seller instances over one shared payment-state store race one `payment-identifier` id with
// two different payments: run by X402Tests (memory), X402SQLiteTests (two connections on one
// file) and X402PostgresTests (two pools on one database).

import Foundation
import HTTPTypes
import Testing
package import X402

/// The cross-instance `payment-identifier` lock, at the seller: the binding is per id, so two
/// instances sharing a store cannot both accept one id for two payments.
package enum PaymentIdentifierRace {
    /// A seller instance: one paid route declaring `payment-identifier` (required), the given
    /// store, the shared facilitator.
    static func seller(store: any PaymentStateStore, facilitator: ScriptedFacilitator) throws -> ResourceServer {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
        let route = PaidRoute(
            accepts: [.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo))], description: "Weather",
            extensions: [PaymentIdentifier.extensionKey: PaymentIdentifier.declaration(required: true)])
        return try ResourceServer(configuration: .init(routes: ["GET /weather": route], facilitator: facilitator, schemes: schemes, store: store))
    }

    /// A request paying `seller`'s offer with authorization nonce `nonce` and id `id`.
    static func paid(_ seller: ResourceServer, id: String, nonce: String) async throws -> ServerRequest {
        let unpaid = await seller.respond(to: ServerRequest(method: .get, path: "/weather", headers: [.hostHeader: "api.example.com"])) { _ in
            ServerResponse(status: .ok)
        }
        let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
        let accepted = try #require(required.accepts.first)
        var payment = PaymentPayload(
            resource: required.resource, accepted: accepted,
            payload: [
                "signature": "0xabcdef",
                "authorization": [
                    "from": .string(testPayer), "to": .string(accepted.payTo), "value": .string(accepted.amount), "validAfter": "0",
                    "validBefore": "9999999999", "nonce": .string(nonce),
                ],
            ],
            extensions: required.extensions)
        payment.extensions = PaymentIdentifier.adding(id, to: payment.extensions)
        return ServerRequest(
            method: .get, path: "/weather", headers: [.hostHeader: "api.example.com", .paymentSignature: payment.headerValue])
    }

    /// Races, `rounds` times, one fresh id with two different payments, one on each instance, at
    /// the same moment: exactly one is served and settled, the other is answered 409
    /// `payment_identifier_conflict` without reaching the facilitator's settle; the loser's
    /// payment stays refused afterwards on either instance.
    package static func run(first: any PaymentStateStore, second: any PaymentStateStore, rounds: Int = 5) async throws {
        let facilitator = ScriptedFacilitator()
        await facilitator.setYields(4)
        let a = try seller(store: first, facilitator: facilitator)
        let b = try seller(store: second, facilitator: facilitator)
        let served = Served()
        let handler: @Sendable (ServerRequest) async -> ServerResponse = { _ in
            await served.add()
            return ServerResponse(status: .ok, body: Array("weather".utf8))
        }
        for round in 0..<rounds {
            let id = PaymentIdentifier.generate()
            // Fresh nonces: a shared database keeps the payments of earlier runs.
            let requestA = try await paid(a, id: id, nonce: freshNonce())
            let requestB = try await paid(b, id: id, nonce: freshNonce())
            async let answerA = a.respond(to: requestA, handler: handler)
            async let answerB = b.respond(to: requestB, handler: handler)
            let answers = [await answerA, await answerB]
            let codes = answers.map(\.status.code)
            #expect(codes.sorted() == [200, 409], "round \(round): \(codes)")
            let loser = try #require(answers.firstIndex { $0.status.code == 409 })
            let conflict = try PaymentRequired(headerValue: try #require(answers[loser].headers[.paymentRequired]))
            #expect(conflict.error == ErrorReason.paymentIdentifierConflict.rawValue)
            // The loser's payment is still a conflict, on its own instance and on the other.
            let loserRequest = loser == 0 ? requestA : requestB
            for seller in [a, b] {
                #expect(await seller.respond(to: loserRequest, handler: handler).status.code == 409)
            }
        }
        #expect(await facilitator.settles == rounds)
        #expect(await served.count == rounds)
    }

    static func freshNonce() -> String {
        "0x" + (0..<32).map { _ in String(UInt8.random(in: .min ... .max), radix: 16) }.joined()
    }

    actor Served {
        var count = 0
        func add() { count += 1 }
    }
}
