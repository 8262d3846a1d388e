public import Foundation

/// What to do with a quoted purchase (see ``PurchaseApprovals/assess(_:url:method:probe:ownerApproval:)``).
public enum PurchaseAssessment: Sendable {
    /// Pay now. `terms` is set when the owner approved on the spot (the payment must stay within
    /// them and is not asked about again); `nil` pays under the policy as usual.
    case payNow(PaymentCandidate, terms: ApprovedTerms?)
    /// Recorded as ``PurchaseStatus/preApproved`` (a probe) or ``PurchaseStatus/awaitingApproval``;
    /// nothing was signed.
    case queued(PendingPurchase)
}

/// Thrown by a paying client's gate when a purchase was queued instead of paid: nothing was signed.
public struct PurchaseQueued: Error, Sendable, CustomStringConvertible {
    /// The recorded purchase.
    public var purchase: PendingPurchase

    /// The error for `purchase`.
    public init(_ purchase: PendingPurchase) { self.purchase = purchase }

    public var description: String { "purchase \(purchase.fetchID) is \(purchase.status.rawValue); nothing was signed" }
}

/// How a confirmation's payment ended, as the transport reports it to
/// ``PurchaseApprovals/confirm(_:pay:)``.
public enum PurchaseSettlement: Sendable, Hashable {
    /// A payment was sent and the seller delivered (`transaction` when it sent a receipt).
    case paid(transaction: String?)
    /// It did not end in a delivery (`reason` says why). The purchase is not paid again.
    case failed(reason: String)
}

/// The owner's approval queue over a ``Payer``: transport-free, so the CLI, an MCP server or an
/// app drive it the same way.
///
/// 1. ``assess(_:url:method:probe:ownerApproval:)`` decides for a 402 answer: pay now, record a
///    ``PurchaseStatus/preApproved`` purchase (a probe within the policy), record an
///    ``PurchaseStatus/awaitingApproval`` one (above the approval threshold, or a recipient the
///    firewall does not allow; the ``notify`` hook is told), or refuse (a cap, a deny list, the
///    budget or a per-host limit) by throwing ``PaymentRefusal``. Nothing is signed.
/// 2. The owner ``approve(_:note:)``s or ``deny(_:note:)``s; open purchases ``expire(now:)``.
/// 3. ``confirm(_:pay:)`` claims the purchase (one caller wins, across processes when the
///    store is shared), lets the transport re-read the 402 and pay within ``PendingPurchase/terms``
///    (``Payer/preparePayment(for:resource:terms:paymentIdentifier:)``), and records the outcome. A purchase is
///    paid at most once: a second confirmation is refused.
public struct PurchaseApprovals: Sendable {
    public var payer: Payer
    public var store: any PurchaseApprovalStore
    /// How long a purchase can be approved and confirmed after it was recorded (15 minutes by default).
    public var lifetime: Duration
    /// Told about every purchase that starts awaiting approval (e.g. runs the owner's hook).
    public var notify: (@Sendable (PendingPurchase) async -> Void)?
    /// Makes fetch ids (random by default).
    public var makeID: @Sendable () -> String

    /// The queue.
    ///
    /// - Parameters:
    ///   - payer: the payer whose policy, ledger and clock apply.
    ///   - store: where purchases live.
    ///   - lifetime: how long a purchase stays approvable and confirmable.
    ///   - notify: told about purchases awaiting approval.
    public init(
        payer: Payer, store: any PurchaseApprovalStore, lifetime: Duration = .seconds(15 * 60),
        notify: (@Sendable (PendingPurchase) async -> Void)? = nil
    ) {
        self.payer = payer
        self.store = store
        self.lifetime = lifetime
        self.notify = notify
        self.makeID = { Self.randomID() }
    }

    /// `ft_` and 24 lower-case hex digits.
    public static func randomID() -> String {
        "ft_" + (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// Whether `text` has the shape of a fetch id (checked before it is looked up or printed).
    public static func isValidID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || (48...57).contains($0) || (97...122).contains($0) || (65...90).contains($0)
            }
    }

    /// Decides what to do with a 402 answer for `url`; records the purchase unless it is paid now.
    ///
    /// - Parameters:
    ///   - required: the seller's 402 answer.
    ///   - url: the URL that asked for payment.
    ///   - method: the request's HTTP method.
    ///   - probe: record the purchase even when it could be paid now (``PurchaseStatus/preApproved``).
    ///   - ownerApproval: the owner, when one is at hand (at a terminal, or an explicit `--yes`):
    ///     asked (when not probing) instead of queueing a purchase that needs approval; `true`
    ///     pays it now within its quoted terms, `false` refuses it (nothing is queued). `nil`
    ///     queues it as ``PurchaseStatus/awaitingApproval`` and tells ``notify``.
    /// - Returns: pay now, or the queued purchase.
    /// - Throws: ``PaymentRefusal`` when the policy refuses it outright, or the owner declined.
    public func assess(
        _ required: AnyPaymentRequired, url: String, method: String = "GET", probe: Bool = false, ownerApproval: PaymentApprovalHandler? = nil
    ) async throws -> PurchaseAssessment {
        let quote = payer.quote(required, resource: url)
        guard let option = quote.chosen else {
            if let refusal = quote.options.first?.refusal { throw refusal }
            throw PaymentRefusal.noSupportedOption(offered: required.accepts.map { "\($0.version) \($0.scheme) on \($0.networkIdentifier)" })
        }
        let candidate = option.candidate
        let host = RecipientFirewall.host(of: url)
        let policy = payer.policy
        let value = candidate.value ?? .zero
        let now = payer.clock()
        // The limits as they stand now (the ledger's reservation at payment is what enforces them).
        if let budget = policy.budget {
            let spent = try await payer.ledger.spent(by: payer.wallet, since: now.addingTimeInterval(-budget.window.timeInterval))
            if spent + value > budget.limit {
                throw PaymentRefusal.exceedsBudget(amount: value, spent: spent, budget: budget.limit, window: budget.window)
            }
        }
        if let hostBudget = policy.hostLimits.budget(for: host) {
            let since = now.addingTimeInterval(-hostBudget.budget.window.timeInterval)
            let spent = try await payer.ledger.spent(by: payer.wallet, host: hostBudget.host, since: since)
            if spent + value > hostBudget.budget.limit {
                throw PaymentRefusal.exceedsHostBudget(
                    host: hostBudget.host, amount: value, spent: spent, budget: hostBudget.budget.limit, window: hostBudget.budget.window)
            }
        }
        let reasons = policy.approvalReasons(for: candidate, host: host)
        if !probe {
            if reasons.isEmpty { return .payNow(candidate, terms: nil) }
            if let ownerApproval {
                let request = PaymentApprovalRequest(
                    candidate: candidate, amount: value, threshold: policy.approvalThreshold ?? .zero, resource: url, reasons: reasons)
                guard await ownerApproval(request) else { throw PaymentRefusal.declined(reasons, payTo: candidate.payTo, host: host) }
                return .payNow(candidate, terms: ApprovedTerms(candidate))
            }
        }
        let purchase = PendingPurchase(
            fetchID: makeID(), status: reasons.isEmpty ? .preApproved : .awaitingApproval, wallet: payer.wallet, url: url,
            method: method.uppercased(), host: host, version: candidate.version, terms: ApprovedTerms(candidate), decimals: candidate.asset?.decimals,
            symbol: candidate.asset?.symbol, value: candidate.value, reasons: reasons.map(\.description), createdAt: now,
            expiresAt: now.addingTimeInterval(lifetime.timeInterval))
        try await store.create(purchase)
        if purchase.status == .awaitingApproval, let notify { await notify(purchase) }
        return .queued(purchase)
    }

    /// The purchase, expired first if its time has passed.
    public func purchase(_ fetchID: String) async throws -> PendingPurchase {
        guard let purchase = try await store.purchase(fetchID) else { throw PurchaseApprovalError.unknown(fetchID) }
        let now = payer.clock()
        if purchase.isExpired(at: now),
            let expired = try await store.transition(
                fetchID, from: PurchaseStatus.open, to: .expired, at: now, note: "expired", transaction: nil, onlyBefore: nil)
        {
            return expired
        }
        return try await store.purchase(fetchID) ?? purchase
    }

    /// Purchases newest first (expiring the due ones first), optionally only in `statuses`.
    public func list(statuses: Set<PurchaseStatus>? = nil, limit: Int = 50) async throws -> [PendingPurchase] {
        _ = try await expire(now: payer.clock())
        return try await store.purchases(statuses: statuses, limit: limit)
    }

    /// Expires every open purchase due at `now`.
    @discardableResult
    public func expire(now: Date) async throws -> [PendingPurchase] { try await store.expire(dueBy: now) }

    /// The owner approves a purchase awaiting approval: it becomes confirmable within its terms
    /// until it expires.
    ///
    /// - Throws: ``PurchaseApprovalError`` when it is unknown, expired, or not awaiting approval.
    @discardableResult
    public func approve(_ fetchID: String, note: String? = nil) async throws -> PendingPurchase {
        try await change(fetchID, from: [.awaitingApproval], to: .approved, note: note ?? "approved by the owner", operation: "approve")
    }

    /// The owner denies a purchase (awaiting approval, pre-approved or approved): it is never paid.
    @discardableResult
    public func deny(_ fetchID: String, note: String? = nil) async throws -> PendingPurchase {
        try await change(fetchID, from: PurchaseStatus.open, to: .denied, note: note ?? "denied by the owner", operation: "deny")
    }

    private func change(
        _ fetchID: String, from: Set<PurchaseStatus>, to: PurchaseStatus, note: String, operation: String
    ) async throws
        -> PendingPurchase
    {
        let current = try await purchase(fetchID)
        if current.status == .expired { throw PurchaseApprovalError.expired(fetchID) }
        let now = payer.clock()
        if let changed = try await store.transition(fetchID, from: from, to: to, at: now, note: note, transaction: nil, onlyBefore: now) {
            return changed
        }
        let latest = try await purchase(fetchID)
        if latest.status == .expired { throw PurchaseApprovalError.expired(fetchID) }
        throw PurchaseApprovalError.notAllowed(fetchID, status: latest.status, operation: operation)
    }

    /// Settles a purchase left in ``PurchaseStatus/paying`` by a confirmation that never finished
    /// (the process was killed, the machine lost power): the spend ledger says what became of the
    /// payment it was making.
    ///
    /// Only a purchase claimed at least `stuckAfter` ago is looked at, longer than any confirmation
    /// runs. Its payment is the spend-ledger record the confirmation attached before sending it
    /// (``attachPayment(_:record:)``):
    /// * none attached → ``PurchaseStatus/failed``: nothing was sent;
    /// * settled → ``PurchaseStatus/paid`` with that transaction;
    /// * failed (refused, or released unused after its authorization expired) → failed;
    /// * still open (sent, not confirmed, authorization not yet expired and reconciled) → nothing
    ///   changes: it may still settle. Reconcile the ledger after its `validBefore` and recover again.
    ///
    /// The purchase is never paid again either way.
    ///
    /// - Throws: ``PurchaseApprovalError`` when it is unknown, not being paid, or claimed less than
    ///   `stuckAfter` ago (another confirmation may still be running).
    public func recover(_ fetchID: String, stuckAfter: Duration = .seconds(600)) async throws -> PurchaseRecovery {
        let current = try await purchase(fetchID)
        guard current.status == .paying else { throw PurchaseApprovalError.notAllowed(fetchID, status: current.status, operation: "recover") }
        let now = payer.clock()
        guard now.timeIntervalSince(current.updatedAt) >= stuckAfter.timeInterval else {
            throw PurchaseApprovalError.notAllowed(fetchID, status: .paying, operation: "recover")
        }
        func finish(_ to: PurchaseStatus, _ note: String, _ transaction: String?) async throws -> PendingPurchase {
            if let changed = try await store.transition(
                fetchID, from: [.paying], to: to, at: now, note: note, transaction: transaction, onlyBefore: nil)
            {
                return changed
            }
            return try await purchase(fetchID)
        }
        // No attached record: the confirmation stopped before sending anything (a payment signed
        // but never sent cannot move money; its ledger reservation is released once it expires).
        guard let recordID = current.spendRecord else {
            return .failed(try await finish(.failed, "recovered: interrupted before a payment was sent", nil))
        }
        guard let record = try await payer.ledger.history(wallet: current.wallet, limit: 10_000).first(where: { $0.id == recordID }) else {
            return .undecided(record: recordID, validBefore: nil)
        }
        switch record.status {
        case .settled:
            return .paid(try await finish(.paid, "recovered: the ledger holds its settled payment", record.transaction))
        case .failed:
            return .failed(try await finish(.failed, "recovered: its payment failed (\(record.failureReason ?? "no reason"))", nil))
        case .pending, .unconfirmed:
            return .undecided(record: recordID, validBefore: record.authorization?.validBefore)
        }
    }

    /// Records, before the payment is sent, which spend-ledger record a confirmation's signed
    /// payment is (``recover(_:stuckAfter:)`` reads it after a crash).
    ///
    /// - Throws: ``PurchaseApprovalError/notAllowed(_:status:operation:)`` unless the purchase is
    ///   being paid; the caller must then not send the payment.
    public func attachPayment(_ fetchID: String, record: UUID) async throws {
        guard try await store.attachSpendRecord(fetchID, record: record) else {
            let status = (try? await purchase(fetchID))?.status ?? .failed
            throw PurchaseApprovalError.notAllowed(fetchID, status: status, operation: "attach a payment to")
        }
    }

    /// The terms a confirmation pays a claimed `purchase` within, given the 402 answer
    /// `required` read again from `url`: the answer must come from the purchase's host, and a
    /// purchase the policy pre-approved (a probe the owner never saw) must still be payable
    /// without the owner's approval under the policy as it is now (a threshold lowered or a
    /// firewall turned on since the probe applies).
    ///
    /// - Parameters:
    ///   - purchase: the purchase being confirmed.
    ///   - required: the seller's 402 answer at confirmation.
    ///   - url: the URL that answered.
    /// - Returns: ``PendingPurchase/terms``, for ``Payer/preparePayment(for:resource:terms:paymentIdentifier:)``.
    /// - Throws: ``PaymentRefusal/termsChanged(_:)`` for another host; the refusal for a missing
    ///   approval when the policy now asks for one.
    public func paymentTerms(for purchase: PendingPurchase, answer required: AnyPaymentRequired, from url: String) throws -> ApprovedTerms {
        let host = RecipientFirewall.host(of: url)
        guard host == purchase.host else { throw PaymentRefusal.termsChanged(["host \(purchase.host ?? "?") → \(host ?? "?")"]) }
        // Only purchases that needed approval carry reasons: none means the policy pre-approved it.
        if purchase.reasons.isEmpty,
            let within = payer.quote(required, resource: url).options.first(where: { $0.refusal == nil && purchase.terms.admits($0.candidate) })
        {
            let reasons = payer.policy.approvalReasons(for: within.candidate, host: host)
            if !reasons.isEmpty { throw PaymentRefusal.declined(reasons, payTo: within.candidate.payTo, host: host) }
        }
        return purchase.terms
    }

    /// Confirms a pre-approved or approved purchase: claims it (only one confirmation ever wins),
    /// runs `pay` — which re-reads the 402 and pays within ``PendingPurchase/terms`` through
    /// ``Payer/preparePayment(for:resource:terms:paymentIdentifier:)`` — and records how it ended.
    ///
    /// Whatever `pay` reports or throws, the purchase leaves ``PurchaseStatus/paying`` as
    /// ``PurchaseStatus/paid`` or ``PurchaseStatus/failed`` and is never paid again.
    ///
    /// - Parameters:
    ///   - fetchID: the purchase.
    ///   - pay: the transport's payment, given the claimed purchase.
    /// - Returns: the purchase after the payment, and what `pay` returned.
    /// - Throws: ``PurchaseApprovalError`` when the purchase cannot be confirmed (awaiting
    ///   approval, denied, expired, paid or being paid), or what `pay` threw.
    public func confirm<Result: Sendable>(
        _ fetchID: String, pay: (PendingPurchase) async throws -> (Result, PurchaseSettlement)
    ) async throws -> (PendingPurchase, Result) {
        let current = try await purchase(fetchID)
        let now = payer.clock()
        guard let claimed = try await store.claimForPayment(fetchID, at: now) else {
            let latest = try await purchase(fetchID)
            if latest.status == .expired || latest.isExpired(at: now) { throw PurchaseApprovalError.expired(fetchID) }
            throw PurchaseApprovalError.notAllowed(
                fetchID, status: latest.status == current.status ? current.status : latest.status, operation: "confirm")
        }
        let result: Result
        let settlement: PurchaseSettlement
        do {
            (result, settlement) = try await pay(claimed)
        } catch {
            _ = try? await store.transition(
                fetchID, from: [.paying], to: .failed, at: payer.clock(), note: "\(error)", transaction: nil, onlyBefore: nil)
            throw error
        }
        let finished: PendingPurchase?
        switch settlement {
        case .paid(let transaction):
            finished = try await store.transition(
                fetchID, from: [.paying], to: .paid, at: payer.clock(), note: "paid", transaction: transaction, onlyBefore: nil)
        case .failed(let reason):
            finished = try await store.transition(
                fetchID, from: [.paying], to: .failed, at: payer.clock(), note: reason, transaction: nil, onlyBefore: nil)
        }
        return (finished ?? claimed, result)
    }
}

/// What ``PurchaseApprovals/recover(_:stuckAfter:)`` found.
public enum PurchaseRecovery: Sendable, Equatable {
    /// Its payment settled: the purchase is paid.
    case paid(PendingPurchase)
    /// Nothing was paid and nothing can be: the purchase failed.
    case failed(PendingPurchase)
    /// A signed payment (`record` in the spend ledger) is still open and may settle until
    /// `validBefore`: the purchase stays `paying`.
    case undecided(record: UUID, validBefore: Date?)
}
