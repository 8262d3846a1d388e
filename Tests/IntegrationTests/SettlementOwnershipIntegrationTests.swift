import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import Testing
import X402
import X402EVM
import X402EVMRPC
import X402HTTP
import X402SQLite

@testable import X402Facilitator

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One payment buys one delivery, pending settlements end well, no settlement is lost (issue #13:
/// security review F2, F6, F11, F12), against a real `x402 facilitator serve` on the devnet.
@Suite("settlement ownership, pending settlements and crashes on the devnet", .devnet, .serialized)
struct SettlementOwnershipIntegrationTests {
    typealias HTTP = FacilitatorServiceIntegrationTests
    typealias Process = FacilitatorProcessIntegrationTests

    static func authorizationsUsed(devnet: Devnet, _ payment: Process.Payment) async throws -> [JSONValue] {
        let used = Keccak256.hash(utf8: "AuthorizationUsed(address,bytes32)")
        return try await Process.tokenLogs(
            devnet: devnet, topics: [.string(used.hexString), .string(payment.payer.address.word.hexString), .string(payment.nonce)])
    }

    static func setAutomine(_ devnet: Devnet, _ on: Bool) async throws {
        _ = try await devnet.client.request(method: "evm_setAutomine", params: [.bool(on)])
    }

    @Test("one payment sent to /settle 20 times at once and 20 times in a row: one success, 39 failures naming the transaction, one transfer")
    func duplicatesThroughTheProcess() async throws {
        let devnet = try await Devnet.shared()
        let facilitator = try await devnet.freshAccount()
        // The per-payer rate limit is off: this tests the settlement rule, not the limiter.
        let running = try await FacilitatorProcess(
            devnet: devnet, key: facilitator.key, database: HTTP.temporaryDatabase(), extraArguments: ["--rate-limit-per-payer", "0/0"])
        defer { Task { await running.stop() } }
        let payment = try await Process.payment(devnet: devnet, amount: 321)
        let body = payment.request.jsonBytes()
        let concurrent = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for _ in 0..<20 { group.addTask { try await HTTP.post(running.url + "/settle", body).1 } }
            return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
        }
        var sequential: [JSONValue] = []
        for _ in 0..<20 { sequential.append(try await HTTP.post(running.url + "/settle", body).1) }
        let all = concurrent + sequential
        let successes = all.filter { $0["success"] == true }
        #expect(successes.count == 1, "\(all)")
        let transaction = try #require(successes.first?["transaction"]?.stringValue)
        for answer in all where answer["success"] != true {
            let reason = answer["errorReason"]?.stringValue
            #expect(reason == "invalid_exact_evm_nonce_already_used" || reason == "duplicate_settlement", "\(answer)")
            #expect(answer["transaction"]?.stringValue == transaction, "\(answer)")
        }
        #expect(try await Self.authorizationsUsed(devnet: devnet, payment).count == 1)
        #expect(try await devnet.usdcBalance(of: payment.payee) == payment.amount)
    }

    @Test(
        "a Swift seller with a pending settlement (mining paused): 402 settlement_pending with the hash, then the content once it is mined; one transfer"
    )
    func sellerPendingThenConfirmed() async throws {
        let devnet = try await Devnet.shared()
        let facilitatorAccount = try await devnet.freshAccount()
        let payer = try await devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payee = devnet.randomAddress()
        let running = try await FacilitatorProcess(
            devnet: devnet, key: facilitatorAccount.key, database: HTTP.temporaryDatabase(), extraArguments: ["--receipt-timeout", "2"])
        defer { Task { await running.stop() } }
        let network = try #require(Network(devnet.network))
        let facilitator = HTTPFacilitatorClient(baseURL: running.url)
        // The devnet's token sits at the Base Sepolia USDC address, so the standard asset table prices it.
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(ExactEVMServer(), networks: NetworkPattern(namespace: "eip155"))
        let server = try ResourceServer(
            configuration: .init(
                routes: ["GET /report": .exact("$0.000777", on: network, payTo: .fixed(payee.checksummed), description: "report")],
                facilitator: facilitator, schemes: schemes))
        let handler: @Sendable (ServerRequest) async throws -> ServerResponse = { _ in
            ServerResponse(status: 200, headers: [.contentType: "text/plain"], body: Array("the report".utf8))
        }
        let unpaid = try await server.respond(to: ServerRequest(method: .get, path: "/report", headers: [.hostHeader: "seller"]), handler: handler)
        let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
        let accepted = try #require(required.accepts.first)
        let signed = try await ExactEVMClient(signer: payer.key).createPayload(for: accepted, context: PaymentContext(version: .v2))
        let header = PaymentPayload(resource: required.resource, accepted: accepted, payload: signed.payload).headerValue
        let paid = ServerRequest(method: .get, path: "/report", headers: [.hostHeader: "seller", .paymentSignature: header])

        // Mining is paused only while the first settlement runs (the devnet is shared with suites
        // running in parallel): its record stays pending until the owner comes back, mined or not.
        try await Self.setAutomine(devnet, false)
        let first: ServerResponse
        do {
            first = try await server.respond(to: paid, handler: handler)
        } catch {
            try await Self.setAutomine(devnet, true)
            throw error
        }
        try await Self.setAutomine(devnet, true)
        // The facilitator reports the pending settlement and its age on /metrics.
        try await devnet.waitUntil("/metrics to show the pending settlement", timeout: .seconds(30)) {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: running.url + "/metrics"), timeout: .seconds(10))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            return text.contains("x402_facilitator_settlements_pending 1") && text.contains("x402_facilitator_settlement_pending_oldest_seconds")
        }
        #expect(first.status == 402)
        #expect(!String(decoding: first.body, as: UTF8.self).contains("the report"))
        let pending = try SettleResponse(headerValue: try #require(first.headers[.paymentResponse]))
        #expect(!pending.success && pending.errorReason == .settlementPending, "\(pending)")
        let hash = try Bytes32(hex: pending.transaction)
        #expect(try await devnet.waitForReceipt(hash).succeeded)

        // The buyer presents the same payment again: the seller settles with its settlement id
        // (no verify: the nonce is used by now) and releases the content.
        let second = try await server.respond(to: paid, handler: handler)
        #expect(second.status == 200 && String(decoding: second.body, as: UTF8.self) == "the report", "\(second)")
        let settled = try SettleResponse(headerValue: try #require(second.headers[.paymentResponse]))
        #expect(settled.success && settled.transaction == pending.transaction)
        // And only once.
        let third = try await server.respond(to: paid, handler: handler)
        #expect(third.status == 402 && !String(decoding: third.body, as: UTF8.self).contains("the report"))
        #expect(try await devnet.usdcBalance(of: payee) == 777)
    }

    @Test(
        "SIGKILL at each step of a settlement: after a restart the payment is settled once and the owner is told the truth",
        arguments: SettlementCrashPoint.allCases)
    func crashAtEachStep(_ point: SettlementCrashPoint) async throws {
        let devnet = try await Devnet.shared()
        let facilitator = try await devnet.freshAccount()
        let database = HTTP.temporaryDatabase()
        let store = try SQLiteSettlementStore(path: database)
        let payment = try await Process.payment(devnet: devnet, amount: 444)
        let crashing = try await FacilitatorProcess(
            devnet: devnet, key: facilitator.key, database: database, environment: ["X402_TEST_CRASH_AT": point.rawValue])
        let lost = try? await HTTP.post(crashing.url + "/settle", payment.request.jsonBytes(), settlementID: payment.settlementID)
        #expect(lost == nil, "the facilitator answered although it should have died at \(point.rawValue)")
        await crashing.stop(signal: SIGKILL)

        let id = SettlementJournal.id(of: payment.request, settlementID: payment.settlementID)
        let entry = try #require(try await store.entry(id: id), "no journal entry after the crash at \(point.rawValue)")
        // The transaction was recorded before its broadcast, so the journal knows it at every point.
        #expect(entry.status == .submitted, "\(entry)")
        let transaction = try #require(entry.transaction)

        let restarted = try await FacilitatorProcess(devnet: devnet, key: facilitator.key, database: database)
        defer { Task { await restarted.stop() } }
        // The owner's retry: answered for its own settlement, whether the resumer got there first or not.
        var answer: JSONValue = .null
        try await devnet.waitUntil("the restarted facilitator to confirm the settlement", timeout: .seconds(60)) {
            answer = try await HTTP.post(restarted.url + "/settle", payment.request.jsonBytes(), settlementID: payment.settlementID).1
            return answer["success"] == true || answer["errorReason"] != "settlement_pending"
        }
        #expect(answer["success"] == true && answer["transaction"]?.stringValue == transaction, "\(answer) \(restarted.log())")
        // Anyone else is refused, with the transaction.
        let (_, stranger) = try await HTTP.post(restarted.url + "/settle", payment.request.jsonBytes())
        #expect(stranger["success"] == false && stranger["transaction"]?.stringValue == transaction, "\(stranger)")
        #expect(try await Self.authorizationsUsed(devnet: devnet, payment).count == 1)
        #expect(try await devnet.usdcBalance(of: payment.payee) == payment.amount)
    }
}
