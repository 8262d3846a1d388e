import Foundation
import Testing

@testable import X402

/// A scheme client that describes its (fake) authorization, like the exact EVM client does.
final class DescribingSchemeClient: SchemeClient, AuthorizationDescribing, @unchecked Sendable {
    let scheme = "exact"
    let validFor: TimeInterval
    let clock: ManualClock
    private let lock = NSLock()
    private var nonces: [String] = []

    init(clock: ManualClock, validFor: TimeInterval = 600) {
        self.clock = clock
        self.validFor = validFor
    }

    var signed: [String] { lock.withLock { nonces } }

    func createPayload(for requirements: PaymentRequirements, context: PaymentContext) async throws -> SchemePayload {
        let nonce = "0x" + String(format: "%064x", lock.withLock { nonces.count + 1 })
        lock.withLock { nonces.append(nonce) }
        return SchemePayload(payload: [
            "signature": "0xsigned",
            "authorization": [
                "from": "0xbuyer", "nonce": .string(nonce), "validBefore": .string(String(Int(clock.now.timeIntervalSince1970 + validFor))),
            ],
        ])
    }

    func signedAuthorization(in payload: SchemePayload) -> SignedAuthorization? {
        guard let a = payload.payload["authorization"]?.objectValue, let from = a["from"]?.stringValue, let nonce = a["nonce"]?.stringValue,
            let before = a["validBefore"]?.stringValue.flatMap(Double.init)
        else { return nil }
        return SignedAuthorization(authorizer: from, nonce: nonce, validBefore: Date(timeIntervalSince1970: before))
    }
}

/// The fault-injection seam for the chain: answers scripted per nonce, counts reads.
final class ScriptedAuthorizationReader: AuthorizationStateReader, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: AuthorizationUse] = [:]
    private var _reads: [String] = []
    var failing = false

    func set(_ nonce: String, _ use: AuthorizationUse) { lock.withLock { answers[nonce] = use } }
    var reads: [String] { lock.withLock { _reads } }

    struct Unreachable: Error {}

    func authorizationUse(network: String, asset: String, authorization: SignedAuthorization) async throws -> AuthorizationUse {
        let (answer, failing) = lock.withLock { () -> (AuthorizationUse?, Bool) in
            _reads.append(authorization.nonce)
            return (answers[authorization.nonce], self.failing)
        }
        if failing { throw Unreachable() }
        return answer ?? .unused
    }
}

@Suite("Buyer spend reconciliation")
struct ClientReconcileTests {
    typealias F = ClientFixtures

    /// Signs two payments against a $0.015 budget after the first was "rejected" by a hostile
    /// server (a 402 after it received the signature).
    @Test("a payment the server refused after receiving the signature keeps counting: the budget cannot be reset by a 402")
    func unconfirmedCounts() async throws {
        let clock = ManualClock()
        let ledger = InMemorySpendLedger()
        let client = DescribingSchemeClient(clock: clock)
        let payer = Payer(
            schemes: F.registry(client), wallet: "0xwallet", policy: SpendingPolicy(budget: SpendBudget(limit: F.dollars("0.015"))), ledger: ledger,
            clock: clock.function)
        let first = try await payer.preparePayment(for: F.required([F.offer(amount: "10000")]))
        try await payer.recordUnconfirmed(of: first, reason: "payment rejected")
        // A failed receipt is the server's word too.
        let record = try #require(try await ledger.history(wallet: nil, limit: 1).first)
        #expect(record.status == .unconfirmed)
        #expect(record.authorization?.nonce == client.signed.first)
        #expect(try await payer.spentInWindow() == F.dollars("0.01"))
        await #expect(throws: PaymentRefusal.self) { try await payer.preparePayment(for: F.required([F.offer(amount: "10000")])) }
        #expect(client.signed.count == 1)

        let receiptFailure = SettleResponse(success: false, errorReason: .insufficientFunds, transaction: "", network: "eip155:84532")
        try await payer.recordSettlement(of: first, receipt: receiptFailure)
        #expect(try await ledger.history(wallet: nil, limit: 1).first?.status == .unconfirmed)
        #expect(try await payer.spentInWindow() == F.dollars("0.01"))
    }

    @Test("reconcile: nothing before validBefore + grace; then unused releases, used settles, unreadable keeps counting")
    func reconcile() async throws {
        let clock = ManualClock()
        let ledger = InMemorySpendLedger()
        let client = DescribingSchemeClient(clock: clock, validFor: 600)
        let payer = Payer(schemes: F.registry(client), wallet: "0xwallet", ledger: ledger, clock: clock.function)
        var prepared: [PreparedPayment] = []
        for _ in 0..<3 {
            let p = try await payer.preparePayment(for: F.required([F.offer(amount: "10000")]))
            try await payer.recordUnconfirmed(of: p, reason: "HTTP 500 without settlement")
            prepared.append(p)
        }
        // A settled one and a never-signed one are not touched.
        let settled = try await payer.preparePayment(for: F.required([F.offer(amount: "10000")]))
        try await payer.recordSettlement(of: settled, receipt: SettleResponse(success: true, transaction: "0xt", network: "eip155:84532"))
        let nonces = client.signed
        let reader = ScriptedAuthorizationReader()
        reader.set(nonces[1], .used)

        clock.advance(600 + 119)  // expired, but within the grace
        var summary = try await payer.reconcile(using: reader)
        #expect(summary == ReconciliationSummary())
        #expect(reader.reads.isEmpty)
        #expect(try await payer.spentInWindow() == F.dollars("0.04"))

        clock.advance(2)
        reader.failing = true
        summary = try await payer.reconcile(using: reader)
        #expect(Set(summary.unreadable) == Set(prepared.map(\.recordID)))
        #expect(try await payer.spentInWindow() == F.dollars("0.04"))

        reader.failing = false
        summary = try await payer.reconcile(using: reader)
        #expect(Set(summary.released) == [prepared[0].recordID, prepared[2].recordID])
        #expect(summary.usedOnChain == [prepared[1].recordID])
        #expect(Set(reader.reads.suffix(3)) == Set(nonces.prefix(3)))
        // Two released: $0.02 left (the used one and the settled one).
        #expect(try await payer.spentInWindow() == F.dollars("0.02"))
        let history = await ledger.history(wallet: nil, limit: 10)
        #expect(history.first { $0.id == prepared[0].recordID }?.status == .failed)
        #expect(
            history.first { $0.id == prepared[0].recordID }?.failureReason == "HTTP 500 without settlement; authorization expired unused on chain")
        #expect(history.first { $0.id == prepared[1].recordID }?.status == .settled)
        #expect(history.first { $0.id == settled.recordID }?.transaction == "0xt")

        // A second pass reads nothing (no open expired attempts remain).
        let readsBefore = reader.reads.count
        summary = try await payer.reconcile(using: reader)
        #expect(summary == ReconciliationSummary())
        #expect(reader.reads.count == readsBefore)
    }

    @Test("a successful call without a receipt stays pending and is reconciled the same way")
    func pendingWithoutReceipt() async throws {
        let clock = ManualClock()
        let ledger = InMemorySpendLedger()
        let client = DescribingSchemeClient(clock: clock, validFor: 60)
        let payer = Payer(schemes: F.registry(client), wallet: "0xwallet", ledger: ledger, clock: clock.function)
        _ = try await payer.preparePayment(for: F.required([F.offer(amount: "10000")]))
        let reader = ScriptedAuthorizationReader()
        reader.set(try #require(client.signed.first), .used)
        clock.advance(60 + 121)
        let summary = try await payer.reconcile(using: reader)
        #expect(summary.usedOnChain.count == 1)
        #expect(try await ledger.history(wallet: nil, limit: 1).first?.status == .settled)
        #expect(try await payer.spentInWindow() == F.dollars("0.01"))
    }
}
