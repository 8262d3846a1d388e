import Foundation
import Testing

@testable import X402

@Suite("Buyer guard rails")
struct ClientPolicyTests {
    typealias F = ClientFixtures

    func payer(
        _ client: CountingSchemeClient, policy: SpendingPolicy, ledger: any SpendLedger = InMemorySpendLedger(),
        clock: ManualClock = ManualClock(), approval: PaymentApprovalHandler? = nil
    ) -> Payer {
        Payer(schemes: F.registry(client), wallet: "0xwallet", policy: policy, ledger: ledger, approval: approval, clock: clock.function)
    }

    @Test("per-payment cap: exactly at the cap pays, one atomic unit over is refused with the numbers")
    func perPaymentCap() async throws {
        let client = CountingSchemeClient()
        let p = payer(client, policy: SpendingPolicy(perPaymentCap: F.dollars("$0.25")))
        _ = try await p.preparePayment(for: F.required([F.offer(amount: "250000")]))
        #expect(client.calls.count == 1)

        await #expect(throws: PaymentRefusal.exceedsPerPaymentCap(amount: DollarAmount(atomic: 250_001, decimals: 6), cap: F.dollars("0.25"))) {
            try await p.preparePayment(for: F.required([F.offer(amount: "250001")]))
        }
        #expect(client.calls.count == 1)  // nothing signed
        let refusal = PaymentRefusal.exceedsPerPaymentCap(amount: F.dollars("0.5"), cap: F.dollars("0.25"))
        #expect(refusal.description == "payment of $0.50 exceeds the per-payment cap of $0.25")
    }

    @Test("approval threshold: at it no question; above it the handler decides; no handler denies")
    func approvalThreshold() async throws {
        let client = CountingSchemeClient()
        let policy = SpendingPolicy(approvalThreshold: F.dollars("0.10"))
        let noHandler = payer(client, policy: policy)
        _ = try await noHandler.preparePayment(for: F.required([F.offer(amount: "100000")]))
        await #expect(throws: PaymentRefusal.approvalDenied(amount: DollarAmount(atomic: 100_001, decimals: 6), threshold: F.dollars("0.1"))) {
            try await noHandler.preparePayment(for: F.required([F.offer(amount: "100001")]))
        }
        #expect(client.calls.count == 1)

        let asked = ManualCounter()
        let yes = payer(
            client, policy: policy,
            approval: { request in
                asked.increment()
                return request.amount == F.dollars("0.2") && request.threshold == F.dollars("0.1")
            })
        _ = try await yes.preparePayment(for: F.required([F.offer(amount: "200000")]))
        #expect(client.calls.count == 2)
        await #expect(throws: PaymentRefusal.self) { try await yes.preparePayment(for: F.required([F.offer(amount: "300000")])) }
        #expect(asked.value == 2)
        #expect(client.calls.count == 2)
    }

    @Test("rolling budget: exactly the budget pays, one unit more is refused; the window edge frees spending")
    func budgetWindow() async throws {
        let client = CountingSchemeClient()
        let clock = ManualClock()
        let ledger = InMemorySpendLedger()
        let p = payer(client, policy: SpendingPolicy(budget: SpendBudget(limit: F.dollars("1.00"))), ledger: ledger, clock: clock)
        _ = try await p.preparePayment(for: F.required([F.offer(amount: "600000")]))
        clock.advance(3600)
        _ = try await p.preparePayment(for: F.required([F.offer(amount: "400000")]))  // exactly $1.00 in the window
        await #expect(
            throws: PaymentRefusal.exceedsBudget(
                amount: DollarAmount(atomic: 1, decimals: 6), spent: F.dollars("1"), budget: F.dollars("1"), window: SpendBudget.day)
        ) {
            try await p.preparePayment(for: F.required([F.offer(amount: "1")]))
        }
        #expect(client.calls.count == 2)

        // One second before the first payment is 24 h old it still counts...
        clock.advance(86400 - 3600 - 1)
        await #expect(throws: PaymentRefusal.self) { try await p.preparePayment(for: F.required([F.offer(amount: "1")])) }
        // ...at exactly 24 h it no longer does: $0.60 is free again, not a unit more.
        clock.advance(1)
        await #expect(throws: PaymentRefusal.self) { try await p.preparePayment(for: F.required([F.offer(amount: "600001")])) }
        _ = try await p.preparePayment(for: F.required([F.offer(amount: "600000")]))
        #expect(try await p.spentInWindow() == F.dollars("1.00"))
        let text = PaymentRefusal.exceedsBudget(amount: F.dollars("0.5"), spent: F.dollars("0.75"), budget: F.dollars("1"), window: SpendBudget.day)
            .description
        #expect(text == "payment of $0.50 would exceed the budget of $1.00 per 24 hours (already spent $0.75, $0.25 left)")
    }

    @Test("budgets are per wallet; failed attempts release their reservation")
    func perWalletAndRelease() async throws {
        let ledger = InMemorySpendLedger()
        let client = CountingSchemeClient()
        let policy = SpendingPolicy(budget: SpendBudget(limit: F.dollars("0.50")))
        let a = Payer(schemes: F.registry(client), wallet: "A", policy: policy, ledger: ledger)
        let b = Payer(schemes: F.registry(client), wallet: "B", policy: policy, ledger: ledger)
        let paid = try await a.preparePayment(for: F.required([F.offer(amount: "500000")]))
        _ = try await b.preparePayment(for: F.required([F.offer(amount: "500000")]))
        await #expect(throws: PaymentRefusal.self) { try await a.preparePayment(for: F.required([F.offer(amount: "1")])) }
        try await a.recordRejection(of: paid, reason: "invalid_exact_evm_payload_signature")
        _ = try await a.preparePayment(for: F.required([F.offer(amount: "500000")]))
        let history = await ledger.history(wallet: "A", limit: 10)
        #expect(history.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.failed, .pending])
    }

    @Test("a signing failure releases the reservation")
    func signingFailureReleases() async throws {
        struct Boom: Error {}
        let ledger = InMemorySpendLedger()
        let p = payer(CountingSchemeClient(failure: Boom()), policy: SpendingPolicy(budget: SpendBudget(limit: F.dollars("1"))), ledger: ledger)
        await #expect(throws: Boom.self) { try await p.preparePayment(for: F.required([F.offer(amount: "1000000")])) }
        #expect(try await ledger.history(wallet: nil, limit: 5).first?.status == .failed)
        #expect(try await p.spentInWindow() == .zero)
    }

    @Test("concurrent spends racing for the last of the budget never exceed it")
    func concurrentRace() async throws {
        let ledger = InMemorySpendLedger()
        let client = CountingSchemeClient()
        let p = Payer(schemes: F.registry(client), wallet: "W", policy: SpendingPolicy(budget: SpendBudget(limit: F.dollars("1.00"))), ledger: ledger)
        _ = try await p.preparePayment(for: F.required([F.offer(amount: "700000")]))
        // $0.30 left; 40 concurrent payments of $0.07 → at most 4 fit.
        let successes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<40 {
                group.addTask { (try? await p.preparePayment(for: F.required([F.offer(amount: "70000")]))) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 4)
        #expect(client.calls.count == 5)
        #expect(try await p.spentInWindow() == F.dollars("0.98"))
    }

    @Test("recipient allow and deny lists, case-insensitive for hex addresses")
    func recipients() async throws {
        let client = CountingSchemeClient()
        let deny = payer(client, policy: SpendingPolicy(deniedRecipients: [F.seller.lowercased()]))
        await #expect(throws: PaymentRefusal.recipientDenied(F.seller)) { try await deny.preparePayment(for: F.required([F.offer(amount: "1")])) }
        let allow = payer(client, policy: SpendingPolicy(allowedRecipients: ["0x1111111111111111111111111111111111111111"]))
        await #expect(throws: PaymentRefusal.recipientNotAllowed(F.seller)) {
            try await allow.preparePayment(for: F.required([F.offer(amount: "1")]))
        }
        let allowed = payer(client, policy: SpendingPolicy(allowedRecipients: [F.seller.uppercased().replacingOccurrences(of: "0X", with: "0x")]))
        _ = try await allowed.preparePayment(for: F.required([F.offer(amount: "1")]))
        #expect(client.calls.count == 1)
    }

    @Test("allowed assets (address or symbol) and networks; a permitted option is used when the best is not")
    func assetsAndNetworks() async throws {
        let client = CountingSchemeClient()
        let offers = [F.offer(amount: "1000", network: .base, asset: F.usdcBase), F.offer(amount: "5000")]
        let onlySepolia = payer(client, policy: SpendingPolicy(allowedNetworks: [NetworkPattern(.baseSepolia)]))
        let paid = try await onlySepolia.preparePayment(for: F.required(offers))
        #expect(paid.candidate.network == .baseSepolia)
        await #expect(throws: PaymentRefusal.networkNotAllowed(.base)) {
            try await onlySepolia.preparePayment(for: F.required([offers[0]]))
        }
        let bySymbol = payer(client, policy: SpendingPolicy(allowedAssets: ["usdc"]))
        _ = try await bySymbol.preparePayment(for: F.required([offers[0]]))
        let other = "0x0000000000000000000000000000000000000001"
        await #expect(throws: PaymentRefusal.assetNotAllowed(asset: other, network: .baseSepolia)) {
            try await bySymbol.preparePayment(for: F.required([F.offer(amount: "1", asset: other)]))
        }
        // Unknown asset + dollar limits: no value, refused.
        let capped = payer(client, policy: SpendingPolicy(perPaymentCap: F.dollars("1")))
        await #expect(throws: PaymentRefusal.unpricedAsset(asset: other, network: .baseSepolia)) {
            try await capped.preparePayment(for: F.required([F.offer(amount: "1", asset: other)]))
        }
    }

    @Test("nothing the registered schemes handle")
    func noSupportedOption() async throws {
        let client = CountingSchemeClient()
        let p = payer(client, policy: .unrestricted)
        await #expect(throws: PaymentRefusal.self) {
            try await p.preparePayment(for: F.required([F.offer(amount: "1", network: .solanaDevnet), F.offer(amount: "1", scheme: "upto")]))
        }
        #expect(client.calls.isEmpty)
    }
}

final class ManualCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = 0
    func increment() { lock.withLock { _value += 1 } }
    var value: Int { lock.withLock { _value } }
}
