import Foundation
import Testing

@testable import X402

/// The owner's approval queue, the recipient firewall and the per-host limits, in memory.
@Suite("Purchase approvals")
struct PurchaseApprovalTests {
    typealias F = ClientFixtures
    static let url = "https://api.example/data"
    static let other = "0x3333333333333333333333333333333333333333"

    struct Setup {
        let client = CountingSchemeClient()
        let clock = ManualClock()
        let ledger = InMemorySpendLedger()
        let store = InMemoryPurchaseApprovalStore()
        let notified = Box<[PendingPurchase]>([])
        var policy: SpendingPolicy

        init(
            _ policy: SpendingPolicy = SpendingPolicy(
                approvalThreshold: try! DollarAmount("0.10"), budget: SpendBudget(limit: try! DollarAmount("5")))
        ) {
            self.policy = policy
        }

        var payer: Payer {
            Payer(schemes: F.registry(client), wallet: "0xwallet", policy: policy, ledger: ledger, clock: clock.function)
        }

        var approvals: PurchaseApprovals {
            let notified = self.notified
            return PurchaseApprovals(payer: payer, store: store, lifetime: .seconds(600)) { purchase in notified.update { $0.append(purchase) } }
        }

        /// Pays within `terms` the way a transport does at confirmation: re-read 402 → prepare.
        func pay(_ required: AnyPaymentRequired, _ purchase: PendingPurchase) async throws -> (PreparedPayment, PurchaseSettlement) {
            let prepared = try await payer.preparePayment(for: required, resource: purchase.url, terms: purchase.terms)
            try await payer.recordSettlement(
                of: prepared, receipt: SettleResponse(success: true, transaction: "0xtx", network: prepared.candidate.network.identifier))
            return (prepared, .paid(transaction: "0xtx"))
        }
    }

    static func queued(_ assessment: PurchaseAssessment) throws -> PendingPurchase {
        guard case .queued(let purchase) = assessment else {
            Issue.record("expected a queued purchase, got \(assessment)")
            throw CancellationError()
        }
        return purchase
    }

    @Test("within the policy pays now; a probe records pre_approved and signs nothing; confirm pays once")
    func probeAndConfirm() async throws {
        let s = Setup()
        let cheap = F.required([F.offer(amount: "50000")])
        guard case .payNow(let candidate, let terms) = try await s.approvals.assess(cheap, url: Self.url) else {
            Issue.record("expected pay now")
            return
        }
        #expect(candidate.atomicAmount == 50_000)
        #expect(terms == nil)

        let purchase = try Self.queued(try await s.approvals.assess(cheap, url: Self.url, method: "get", probe: true))
        #expect(purchase.status == .preApproved)
        #expect(purchase.method == "GET")
        #expect(purchase.host == "api.example")
        #expect(purchase.amount == 50_000)
        #expect(purchase.fee == .zero)
        #expect(purchase.total == 50_000)
        #expect(purchase.tokens(purchase.total) == "0.05")
        #expect(purchase.terms.payTo == F.seller)
        #expect(purchase.expiresAt == s.clock.now.addingTimeInterval(600))
        #expect(s.client.calls.isEmpty)
        #expect(s.notified.value.isEmpty)  // pre-approved: nobody to tell

        let (paid, prepared) = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(cheap, $0) }
        #expect(paid.status == .paid)
        #expect(paid.transaction == "0xtx")
        #expect(prepared.candidate.atomicAmount == 50_000)
        #expect(s.client.calls.count == 1)

        // A second confirmation pays nothing.
        await #expect(throws: PurchaseApprovalError.notAllowed(purchase.fetchID, status: .paid, operation: "confirm")) {
            _ = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(cheap, $0) }
        }
        #expect(s.client.calls.count == 1)
        let events = await s.store.events(fetchID: purchase.fetchID, limit: 10).map(\.to)
        #expect(events == [.paid, .paying, .preApproved])
    }

    @Test("above the threshold: awaiting_approval, the owner is notified; confirm before approval is refused; approve → confirm pays")
    func awaitingApproval() async throws {
        let s = Setup()
        let dear = F.required([F.offer(amount: "500000")])
        let purchase = try Self.queued(try await s.approvals.assess(dear, url: Self.url))
        #expect(purchase.status == .awaitingApproval)
        #expect(purchase.reasons == ["$0.50 is above the approval threshold of $0.10"])
        #expect(s.notified.value.map(\.fetchID) == [purchase.fetchID])

        await #expect(throws: PurchaseApprovalError.notAllowed(purchase.fetchID, status: .awaitingApproval, operation: "confirm")) {
            _ = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(dear, $0) }
        }
        #expect(s.client.calls.isEmpty)

        let approved = try await s.approvals.approve(purchase.fetchID)
        #expect(approved.status == .approved)
        // Approving twice is refused (the change happens once).
        await #expect(throws: PurchaseApprovalError.notAllowed(purchase.fetchID, status: .approved, operation: "approve")) {
            try await s.approvals.approve(purchase.fetchID)
        }
        let (paid, _) = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(dear, $0) }
        #expect(paid.status == .paid)
        #expect(s.client.calls.count == 1)
        #expect(try await s.ledger.spent(by: "0xwallet", since: .distantPast) == F.dollars("0.5"))
    }

    @Test("an owner at the terminal approving on the spot pays now within the quoted terms; declining refuses and queues nothing")
    func ownerApprovesOnTheSpot() async throws {
        let s = Setup()
        let dear = F.required([F.offer(amount: "500000")])
        guard case .payNow(_, let terms?) = try await s.approvals.assess(dear, url: Self.url, ownerApproval: { _ in true }) else {
            Issue.record("expected pay now with terms")
            return
        }
        #expect(terms.maxAmount == 500_000)
        await #expect(throws: PaymentRefusal.approvalDenied(amount: F.dollars("0.5"), threshold: F.dollars("0.10"))) {
            _ = try await s.approvals.assess(dear, url: Self.url, ownerApproval: { _ in false })
        }
        #expect(await s.store.purchases(statuses: nil, limit: 10).isEmpty)
        #expect(s.notified.value.isEmpty)
    }

    @Test("deny: never paid; a denied purchase cannot be approved or confirmed")
    func deny() async throws {
        let s = Setup()
        let dear = F.required([F.offer(amount: "500000")])
        let purchase = try Self.queued(try await s.approvals.assess(dear, url: Self.url))
        let denied = try await s.approvals.deny(purchase.fetchID, note: "too dear")
        #expect(denied.status == .denied)
        #expect(denied.note == "too dear")
        await #expect(throws: PurchaseApprovalError.notAllowed(purchase.fetchID, status: .denied, operation: "approve")) {
            try await s.approvals.approve(purchase.fetchID)
        }
        await #expect(throws: PurchaseApprovalError.notAllowed(purchase.fetchID, status: .denied, operation: "confirm")) {
            _ = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(dear, $0) }
        }
        #expect(s.client.calls.isEmpty)
        await #expect(throws: PurchaseApprovalError.unknown("ft_nothing")) { try await s.approvals.deny("ft_nothing") }
    }

    @Test("expiry: an open purchase past its expiry is expired; approving or confirming it is refused")
    func expiry() async throws {
        let s = Setup()
        let dear = F.required([F.offer(amount: "500000")])
        let cheap = F.required([F.offer(amount: "10000")])
        let waiting = try Self.queued(try await s.approvals.assess(dear, url: Self.url))
        let probed = try Self.queued(try await s.approvals.assess(cheap, url: Self.url, probe: true))
        let approvedLater = try Self.queued(try await s.approvals.assess(dear, url: Self.url))
        try await s.approvals.approve(approvedLater.fetchID)

        s.clock.advance(599)
        #expect(try await s.approvals.purchase(waiting.fetchID).status == .awaitingApproval)
        s.clock.advance(1)  // exactly at expiresAt
        await #expect(throws: PurchaseApprovalError.expired(waiting.fetchID)) { try await s.approvals.approve(waiting.fetchID) }
        await #expect(throws: PurchaseApprovalError.expired(probed.fetchID)) {
            _ = try await s.approvals.confirm(probed.fetchID) { try await s.pay(cheap, $0) }
        }
        await #expect(throws: PurchaseApprovalError.expired(approvedLater.fetchID)) {
            _ = try await s.approvals.confirm(approvedLater.fetchID) { try await s.pay(dear, $0) }
        }
        #expect(s.client.calls.isEmpty)
        let open = try await s.approvals.list(statuses: PurchaseStatus.open)
        #expect(open.isEmpty)
        #expect(try await s.approvals.list(statuses: [.expired]).count == 3)
    }

    @Test("confirm re-reads the 402: a higher price, another recipient, asset or network is refused and marked failed; a lower price pays")
    func changedTerms() async throws {
        let changes: [(String, PaymentRequirements, String)] = [
            ("price", F.offer(amount: "50001"), "amount 50000 → 50001 atomic units"),
            ("recipient", F.offer(amount: "50000", payTo: Self.other), "recipient \(F.seller) → \(Self.other)"),
            ("asset", F.offer(amount: "50000", asset: "0x4444444444444444444444444444444444444444"), "asset"),
            ("network", F.offer(amount: "50000", network: .base, asset: F.usdcBase), "network eip155:84532 → eip155:8453"),
        ]
        for (name, changed, expected) in changes {
            let s = Setup()
            let purchase = try Self.queued(try await s.approvals.assess(F.required([F.offer(amount: "50000")]), url: Self.url, probe: true))
            do {
                _ = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(F.required([changed]), $0) }
                Issue.record("\(name): a changed offer was paid")
            } catch PaymentRefusal.termsChanged(let list) {
                #expect(list.contains { $0.hasPrefix(expected) }, "\(name): \(list)")
            }
            #expect(s.client.calls.isEmpty, "\(name)")
            let failed = try await s.approvals.purchase(purchase.fetchID)
            #expect(failed.status == .failed, "\(name)")
            #expect(failed.note?.contains("changed") == true, "\(name)")
        }

        let s = Setup()
        let purchase = try Self.queued(try await s.approvals.assess(F.required([F.offer(amount: "50000")]), url: Self.url, probe: true))
        let (paid, prepared) = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(F.required([F.offer(amount: "40000")]), $0) }
        #expect(paid.status == .paid)
        #expect(prepared.candidate.atomicAmount == 40_000)
    }

    @Test("among several offers confirm picks the one within the terms")
    func picksOfferWithinTerms() async throws {
        let s = Setup()
        let purchase = try Self.queued(try await s.approvals.assess(F.required([F.offer(amount: "50000")]), url: Self.url, probe: true))
        let required = F.required([F.offer(amount: "1000", payTo: Self.other), F.offer(amount: "50000")])
        let (_, prepared) = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(required, $0) }
        #expect(prepared.candidate.payTo == F.seller)
    }

    @Test("firewall: allowed recipient or host auto-approves; others queue; deny by address or host is absolute")
    func firewall() async throws {
        var policy = SpendingPolicy()
        policy.firewall = RecipientFirewall(
            enabled: true, allowedRecipients: [F.seller.lowercased()], allowedHosts: ["*.trusted.example"],
            deniedRecipients: ["0x5555555555555555555555555555555555555555"], deniedHosts: ["evil.example"])
        let s = Setup(policy)
        let offer = F.required([F.offer(amount: "10000")])
        let otherOffer = F.required([F.offer(amount: "10000", payTo: Self.other)])

        // Allowed by address (case-insensitively).
        guard case .payNow = try await s.approvals.assess(offer, url: Self.url) else {
            Issue.record("allowed recipient queued")
            return
        }
        // Allowed by host pattern (a subdomain), not the bare domain.
        guard case .payNow = try await s.approvals.assess(otherOffer, url: "https://api.trusted.example/x") else {
            Issue.record("allowed host queued")
            return
        }
        let queued = try Self.queued(try await s.approvals.assess(otherOffer, url: "https://trusted.example/x"))
        #expect(queued.status == .awaitingApproval)
        #expect(queued.reasons.first?.contains("not on the firewall's allow list") == true)

        // Denied host: absolute, even for an allowed recipient; denied address likewise, even on an allowed host.
        await #expect(throws: PaymentRefusal.hostDenied("evil.example")) { _ = try await s.approvals.assess(offer, url: "https://EVIL.example/a") }
        let deniedOffer = F.required([F.offer(amount: "10000", payTo: "0x5555555555555555555555555555555555555555")])
        await #expect(throws: PaymentRefusal.recipientDenied("0x5555555555555555555555555555555555555555")) {
            _ = try await s.approvals.assess(deniedOffer, url: "https://api.trusted.example/x")
        }
        // The deny list holds even when the firewall is off, and in the plain payer path too.
        var off = s.policy
        off.firewall.enabled = false
        let plain = Payer(schemes: F.registry(s.client), wallet: "0xwallet", policy: off, ledger: s.ledger, clock: s.clock.function)
        await #expect(throws: PaymentRefusal.hostDenied("evil.example")) {
            _ = try await plain.preparePayment(for: offer, resource: "https://evil.example/a")
        }
        _ = try await plain.preparePayment(for: otherOffer, resource: "https://trusted.example/x")  // off: the allow list is not consulted
        // The plain payer asks its approval handler about an unlisted recipient, and refuses without one.
        await #expect(throws: PaymentRefusal.recipientNotApproved(payTo: Self.other, host: "trusted.example")) {
            _ = try await s.payer.preparePayment(for: otherOffer, resource: "https://trusted.example/x")
        }
        #expect(s.client.calls.count == 1)
    }

    @Test("an approved purchase outside the firewall pays at confirm; the deny list still refuses it then")
    func firewallApprovedThenDenied() async throws {
        var policy = SpendingPolicy()
        policy.firewall = RecipientFirewall(enabled: true)
        var s = Setup(policy)
        let offer = F.required([F.offer(amount: "10000")])
        let purchase = try Self.queued(try await s.approvals.assess(offer, url: Self.url))
        try await s.approvals.approve(purchase.fetchID)
        s.policy.firewall.deniedRecipients = [F.seller]
        await #expect(throws: PaymentRefusal.recipientDenied(F.seller)) {
            _ = try await s.approvals.confirm(purchase.fetchID) { try await s.pay(offer, $0) }
        }
        #expect(s.client.calls.isEmpty)
    }

    @Test("per-host daily limit beside the global budget: refused at probe, enforced at payment, other hosts unaffected, window frees it")
    func perHostLimit() async throws {
        var policy = SpendingPolicy(budget: SpendBudget(limit: try DollarAmount("10")))
        policy.hostLimits = HostSpendLimits(limits: ["API.example": try DollarAmount("0.10")], defaultLimit: try DollarAmount("1"))
        let s = Setup(policy)
        let offer = F.required([F.offer(amount: "60000")])
        _ = try await s.payer.preparePayment(for: offer, resource: Self.url)
        // A probe sees the limit: 0.06 + 0.06 > 0.10.
        await #expect(
            throws: PaymentRefusal.exceedsHostBudget(
                host: "api.example", amount: F.dollars("0.06"), spent: F.dollars("0.06"), budget: F.dollars("0.1"), window: SpendBudget.day)
        ) { _ = try await s.approvals.assess(offer, url: Self.url, probe: true) }
        // The ledger's reservation enforces it even when the probe passed earlier.
        await #expect(throws: PaymentRefusal.self) { _ = try await s.payer.preparePayment(for: offer, resource: Self.url) }
        #expect(s.client.calls.count == 1)
        // Another host has its own (default) limit.
        _ = try await s.payer.preparePayment(for: offer, resource: "https://other.example/x")
        #expect(s.client.calls.count == 2)
        #expect(try await s.ledger.spent(by: "0xwallet", host: "api.example", since: .distantPast) == F.dollars("0.06"))
        s.clock.advance(24 * 3600)
        _ = try await s.payer.preparePayment(for: offer, resource: Self.url)
        #expect(s.client.calls.count == 3)
    }

    @Test("a trailing dot names the same host: it escapes neither the deny list nor the per-host limit")
    func trailingDotHost() async throws {
        var policy = SpendingPolicy()
        policy.firewall = RecipientFirewall(deniedHosts: ["evil.example"])
        policy.hostLimits = HostSpendLimits(limits: ["api.example.": F.dollars("0.05")])
        let s = Setup(policy)
        await #expect(throws: PaymentRefusal.hostDenied("evil.example")) {
            _ = try await s.approvals.assess(F.required([F.offer(amount: "10000")]), url: "https://EVIL.example./a")
        }
        _ = try await s.payer.preparePayment(for: F.required([F.offer(amount: "40000")]), resource: "https://api.example/x")
        await #expect(
            throws: PaymentRefusal.exceedsHostBudget(
                host: "api.example", amount: F.dollars("0.02"), spent: F.dollars("0.04"), budget: F.dollars("0.05"), window: SpendBudget.day)
        ) { _ = try await s.payer.preparePayment(for: F.required([F.offer(amount: "20000")]), resource: "https://API.example./y") }
        #expect(s.client.calls.count == 1)
    }

    @Test("the firewall allows by the caller's URL only, never by the host the seller claims")
    func hostAllowTrustsCallerOnly() async throws {
        var policy = SpendingPolicy()
        policy.firewall = RecipientFirewall(enabled: true, allowedHosts: ["api.example"])
        let s = Setup(policy)
        // The 402 claims to be for https://api.example/data; without the caller's URL that is not trusted.
        let offer = F.required([F.offer(amount: "10000", payTo: Self.other)])
        await #expect(throws: PaymentRefusal.recipientNotApproved(payTo: Self.other, host: nil)) {
            _ = try await s.payer.preparePayment(for: offer)
        }
        #expect(s.client.calls.isEmpty)
        _ = try await s.payer.preparePayment(for: offer, resource: Self.url)
        #expect(s.client.calls.count == 1)
    }

    @Test("confirming a pre-approved probe applies the policy as it is now; an owner's approval stands; another host is refused")
    func preApprovedUnderPolicyNow() async throws {
        var s = Setup()
        let offer = F.required([F.offer(amount: "50000")])  // $0.05: under the $0.10 threshold
        let probed = try Self.queued(try await s.approvals.assess(offer, url: Self.url, probe: true))
        #expect(probed.status == .preApproved)
        #expect(try s.approvals.paymentTerms(for: probed, answer: offer, from: Self.url) == probed.terms)
        #expect(throws: PaymentRefusal.termsChanged(["host api.example → elsewhere.example"])) {
            _ = try s.approvals.paymentTerms(for: probed, answer: offer, from: "https://elsewhere.example/data")
        }
        let dear = F.required([F.offer(amount: "500000")])
        let approved = try await s.approvals.approve(try Self.queued(try await s.approvals.assess(dear, url: Self.url)).fetchID)

        // The owner turns the firewall on after the probe: the probe now needs approval.
        s.policy.firewall = RecipientFirewall(enabled: true)
        #expect(throws: PaymentRefusal.recipientNotApproved(payTo: F.seller, host: "api.example")) {
            _ = try s.approvals.paymentTerms(for: probed, answer: offer, from: Self.url)
        }
        // ... and lowers the threshold: confirming refuses, marks it failed and signs nothing.
        s.policy.firewall = .off
        s.policy.approvalThreshold = F.dollars("0.01")
        let approvals = s.approvals
        await #expect(throws: PaymentRefusal.approvalDenied(amount: F.dollars("0.05"), threshold: F.dollars("0.01"))) {
            _ = try await approvals.confirm(probed.fetchID) { claimed in
                _ = try approvals.paymentTerms(for: claimed, answer: offer, from: Self.url)
                return try await s.pay(offer, claimed)
            }
        }
        #expect(try await s.approvals.purchase(probed.fetchID).status == .failed)
        #expect(s.client.calls.isEmpty)
        // The owner's approval of the dear one stands under the tighter policy.
        let (paid, _) = try await approvals.confirm(approved.fetchID) { claimed in
            _ = try approvals.paymentTerms(for: claimed, answer: dear, from: Self.url)
            return try await s.pay(dear, claimed)
        }
        #expect(paid.status == .paid)
        #expect(s.client.calls.count == 1)
    }

    @Test("the global budget refuses at probe time")
    func budgetAtProbe() async throws {
        let s = Setup(SpendingPolicy(budget: SpendBudget(limit: try DollarAmount("0.05"))))
        await #expect(throws: PaymentRefusal.self) {
            _ = try await s.approvals.assess(F.required([F.offer(amount: "60000")]), url: Self.url, probe: true)
        }
    }

    @Test("two confirmations racing for one approval: exactly one pays")
    func racingConfirmations() async throws {
        let s = Setup()
        let cheap = F.required([F.offer(amount: "10000")])
        let purchase = try Self.queued(try await s.approvals.assess(cheap, url: Self.url, probe: true))
        let approvals = s.approvals
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (try? await approvals.confirm(purchase.fetchID) { try await s.pay(cheap, $0) }) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(s.client.calls.count == 1)
    }

    @Test("a confirmation that died while paying: recover reads its attached payment — none → failed, settled → paid, open → undecided")
    func recoverStuckPurchases() async throws {
        let s = Setup()
        let cheap = F.required([F.offer(amount: "10000")])
        let approvals = s.approvals
        func stuck() async throws -> PendingPurchase {
            let purchase = try Self.queued(try await approvals.assess(cheap, url: Self.url, probe: true))
            // The confirmation claims it, then the process dies at some point.
            return try #require(try await s.store.claimForPayment(purchase.fetchID, at: s.clock.now))
        }
        func sign(_ purchase: PendingPurchase) async throws -> PreparedPayment {
            let prepared = try await s.payer.preparePayment(for: cheap, resource: Self.url, terms: purchase.terms)
            try await approvals.attachPayment(purchase.fetchID, record: prepared.recordID)
            return prepared
        }
        // Killed before sending anything (another payment to the same URL and recipient settles
        // meanwhile: it is not this purchase's).
        let unsent = try await stuck()
        // Killed after the seller settled, before the purchase was marked.
        let settled = try await stuck()
        let paidPayment = try await sign(settled)
        try await s.payer.recordSettlement(
            of: paidPayment, receipt: SettleResponse(success: true, transaction: "0xsettled", network: "eip155:84532"))
        // Killed after sending, before any answer.
        let open = try await stuck()
        let openPayment = try await sign(open)

        // A confirmation may still be running: too early to recover.
        await #expect(throws: PurchaseApprovalError.notAllowed(unsent.fetchID, status: .paying, operation: "recover")) {
            _ = try await approvals.recover(unsent.fetchID)
        }
        s.clock.advance(601)
        guard case .failed(let failed) = try await approvals.recover(unsent.fetchID) else {
            Issue.record("expected failed")
            return
        }
        #expect(failed.status == .failed)
        #expect(failed.note == "recovered: interrupted before a payment was sent")

        guard case .paid(let paid) = try await approvals.recover(settled.fetchID) else {
            Issue.record("expected paid")
            return
        }
        #expect(paid.status == .paid)
        #expect(paid.transaction == "0xsettled")

        guard case .undecided(let record, _) = try await approvals.recover(open.fetchID) else {
            Issue.record("expected undecided")
            return
        }
        #expect(record == openPayment.recordID)
        #expect(try await approvals.purchase(open.fetchID).status == .paying)
        // Its payment fails (the seller refused it, or reconciliation released it unused): now the purchase fails.
        try await s.payer.ledger.markFailed(openPayment.recordID, reason: "expired unused", at: s.clock.now)
        guard case .failed(let released) = try await approvals.recover(open.fetchID) else {
            Issue.record("expected failed")
            return
        }
        #expect(released.note == "recovered: its payment failed (expired unused)")
        // Recovered purchases are never paid again, and recover works once; a payment cannot be
        // attached to a purchase that is not being paid.
        await #expect(throws: PurchaseApprovalError.notAllowed(paid.fetchID, status: .paid, operation: "confirm")) {
            _ = try await approvals.confirm(paid.fetchID) { try await s.pay(cheap, $0) }
        }
        await #expect(throws: PurchaseApprovalError.notAllowed(failed.fetchID, status: .failed, operation: "recover")) {
            _ = try await approvals.recover(failed.fetchID)
        }
        await #expect(throws: PurchaseApprovalError.notAllowed(failed.fetchID, status: .failed, operation: "attach a payment to")) {
            try await approvals.attachPayment(failed.fetchID, record: UUID())
        }
        #expect(s.client.calls.count == 2)
    }

    @Test("fetch ids: random, well-formed; hostile ids are rejected by shape")
    func ids() {
        let a = PurchaseApprovals.randomID()
        #expect(a.hasPrefix("ft_") && a.count == 27)
        #expect(a != PurchaseApprovals.randomID())
        #expect(PurchaseApprovals.isValidID(a))
        #expect(!PurchaseApprovals.isValidID(""))
        #expect(!PurchaseApprovals.isValidID("ft_1; rm -rf /"))
        #expect(!PurchaseApprovals.isValidID(String(repeating: "a", count: 65)))
    }
}

/// A value shared with `@Sendable` closures in tests.
final class Box<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value
    init(_ value: Value) { _value = value }
    var value: Value { lock.withLock { _value } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&_value) } }
}
