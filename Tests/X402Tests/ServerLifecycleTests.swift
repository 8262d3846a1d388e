import Foundation
import HTTPTypes
import Testing
import X402TestSupport

@testable import X402

/// The payment lifecycle without its HTTP answer: what a second transport (e.g. MCP) builds on.
@Suite("Resource server lifecycle (transport-free)")
struct ServerLifecycleTests {
    @Test func unpaidRequestIsAnsweredWithTheOfferAsFacts() async throws {
        let server = try makeServer(ScriptedFacilitator())
        guard case .answer(let answer) = await server.evaluate(request()) else {
            Issue.record("expected an answer")
            return
        }
        guard case .paymentRequired = answer.reason else {
            Issue.record("expected paymentRequired, got \(answer.reason)")
            return
        }
        let offer = try #require(answer.offer)
        #expect(offer.required.accepts.first?.amount == "10000")
        #expect(offer.requirementsV1.first?.network == "base-sepolia")
        #expect(answer.version == .v2)
        // The HTTP answer of the same facts is the 402 with PAYMENT-REQUIRED.
        let response = await server.response(for: answer)
        #expect(response.status == .paymentRequired)
        #expect(try paymentRequired(response).accepts == offer.required.accepts)
    }

    @Test func paidRequestIsSettledAfterTheHandlerSucceeds() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let paid = try await paidRequest(server)
        guard case .proceed(let payment) = await server.evaluate(paid) else {
            Issue.record("expected proceed")
            return
        }
        #expect(await f.settleCalls.isEmpty)
        guard case .settled(let settlement) = await server.conclude(payment, handlerSucceeded: true) else {
            Issue.record("expected a settlement")
            return
        }
        #expect(settlement.success && settlement.transaction == "0xfeed")
        // The same payment again is a replay, reported as a failure fact.
        guard case .answer(let replay) = await server.evaluate(paid), case .failed(.replayed, duringSettlement: false) = replay.reason else {
            Issue.record("expected a replay failure")
            return
        }
    }

    @Test func refusingHandlerLeavesThePaymentUnsettled() async throws {
        let f = ScriptedFacilitator()
        let server = try makeServer(f)
        let paid = try await paidRequest(server)
        guard case .proceed(let payment) = await server.evaluate(paid) else {
            Issue.record("expected proceed")
            return
        }
        guard case .unsettled = await server.conclude(payment, handlerSucceeded: false) else {
            Issue.record("expected unsettled")
            return
        }
        #expect(await f.settleCalls.isEmpty)
        // Not used: it may be presented again.
        guard case .proceed = await server.evaluate(paid) else {
            Issue.record("expected the payment to be usable again")
            return
        }
    }

    @Test func failedSettlementIsAnAnswerWithItsReceipt() async throws {
        let f = ScriptedFacilitator(settle: { r in .success(.failure(.transactionFailed, network: r.paymentRequirements.networkIdentifier)) })
        let server = try makeServer(f)
        let paid = try await paidRequest(server)
        guard case .proceed(let payment) = await server.evaluate(paid) else {
            Issue.record("expected proceed")
            return
        }
        guard case .answer(let answer) = await server.conclude(payment, handlerSucceeded: true),
            case .failed(.settlementFailed(let settlement), duringSettlement: true) = answer.reason
        else {
            Issue.record("expected a settlement failure")
            return
        }
        #expect(settlement.errorReason == .transactionFailed)
        let response = await server.response(for: answer)
        #expect(response.status == .paymentRequired)
        #expect(try settleResponse(response).success == false)
    }

    @Test func configurationKeepsTheDefaults() throws {
        let configuration = ResourceServer.Configuration(
            routes: ["GET /weather": .exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo))], facilitator: ScriptedFacilitator(),
            schemes: testSchemes())
        #expect(configuration.claimLease == .seconds(600))
        #expect(configuration.acceptsV1 && !configuration.exposesHeadersForCORS && configuration.unpaidOfferVersion == .v2)
        let server = try ResourceServer(configuration: configuration)
        #expect(server.claimLease == .seconds(600) && server.acceptsV1 && server.unpaidOfferVersion == .v2)
        var broken = configuration
        broken.routes = ["GET /weather": .exact("ten dollars", on: .baseSepolia, payTo: .fixed(testPayTo))]
        #expect(throws: RouteConfigurationError.self) { _ = try ResourceServer(configuration: broken) }
    }
}
