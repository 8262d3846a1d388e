public import Foundation

/// Asked before paying more than the approval threshold; answers whether to pay.
public typealias PaymentApprovalHandler = @Sendable (PaymentApprovalRequest) async -> Bool

/// What the approval handler is asked about.
public struct PaymentApprovalRequest: Sendable {
    public var candidate: PaymentCandidate
    /// The payment's dollar value.
    public var amount: DollarAmount
    public var threshold: DollarAmount
    /// The resource URL, when known.
    public var resource: String?
    /// Why approval is asked (above the threshold, a recipient the firewall does not allow).
    public var reasons: [ApprovalReason] = []
}

/// What a resource would cost on each option the payer can use, without paying.
public struct PaymentQuote: Sendable {
    /// One option with its price and what the policy says about it.
    public struct Option: Sendable {
        public var candidate: PaymentCandidate
        /// The rule the option breaks, if any (approval and budget are not evaluated here).
        public var refusal: PaymentRefusal?

        public var price: DollarAmount? { candidate.value }
        public var atomicAmount: UInt256 { candidate.atomicAmount }
        public var network: Network { candidate.network }
        public var payTo: String { candidate.payTo }
        public var asset: String { candidate.requirements.asset }
    }

    /// The 402 answer quoted.
    public var paymentRequired: AnyPaymentRequired
    /// The payable options, best first.
    public var options: [Option]
    /// The option a payment would use now, if any.
    public var chosen: Option? { options.first { $0.refusal == nil } }
    /// Set by the paying clients when the 402 came from another origin than the one requested
    /// (after a redirect): the URL that answered. Paying it needs the owner's consent.
    public var crossOriginURL: String?
}

/// A payment ready to send, already reserved in the spend ledger.
public struct PreparedPayment: Sendable {
    /// The ledger entry to complete with the outcome.
    public var recordID: UUID
    public var candidate: PaymentCandidate
    public var payload: AnyPaymentPayload
    /// `PAYMENT-SIGNATURE` or `X-PAYMENT`.
    public var headerName: String { payload.headerName }
    /// The base64 header value.
    public var headerValue: String { payload.headerValue }
}

/// The buyer's transport-free logic: selects an option, applies the guard rails, reserves the
/// spend in the ledger and signs with the registered scheme client.
public struct Payer: Sendable {
    public var schemes: SchemeRegistry<any SchemeClient>
    /// The paying wallet's identity for budgets and the ledger (e.g. its address).
    public var wallet: String
    public var policy: SpendingPolicy
    public var ledger: any SpendLedger
    public var selector: any PaymentSelector
    /// Assets with a known dollar value (dollar-pegged stablecoins).
    public var assets: AssetRegistry
    /// Asked above the approval threshold; `nil` refuses such payments.
    public var approval: PaymentApprovalHandler?
    public var clock: @Sendable () -> Date

    public init(
        schemes: SchemeRegistry<any SchemeClient>, wallet: String, policy: SpendingPolicy = .unrestricted,
        ledger: any SpendLedger = InMemorySpendLedger(), selector: any PaymentSelector = PreferringSelector(),
        assets: AssetRegistry = .standard, approval: PaymentApprovalHandler? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.schemes = schemes
        self.wallet = wallet
        self.policy = policy
        self.ledger = ledger
        self.selector = selector
        self.assets = assets
        self.approval = approval
        self.clock = clock
    }

    /// Prices every payable option of a 402 answer, best first, with the policy's verdict.
    public func quote(_ required: AnyPaymentRequired) -> PaymentQuote { quote(required, resource: nil) }

    /// Prices every payable option of a 402 answer for a resource at `resource` (whose host the
    /// firewall's deny list is checked against), best first, with the policy's verdict.
    public func quote(_ required: AnyPaymentRequired, resource: String?) -> PaymentQuote {
        let host = RecipientFirewall.host(of: resource ?? required.resource?.url)
        let candidates = schemes.candidates(for: required, assets: assets)
        var ordered: [PaymentCandidate] = []
        var remaining = candidates
        while let next = selector.select(from: remaining) {
            ordered.append(next)
            remaining.removeAll { $0.index == next.index }
        }
        ordered += remaining
        return PaymentQuote(
            paymentRequired: required, options: ordered.map { .init(candidate: $0, refusal: policy.violation(by: $0, host: host)) })
    }

    /// Chooses an option, checks every guard rail, reserves the spend and signs.
    ///
    /// Nothing is signed unless every rule passes and the ledger reservation succeeded. If
    /// signing fails the reservation is released.
    ///
    /// - Parameters:
    ///   - required: the seller's 402 answer (either protocol version).
    ///   - resource: the URL being paid for, recorded in the ledger (defaults to the
    ///     answer's `resource.url` or the v1 requirement's `resource`).
    ///   - paymentIdentifier: the `payment-identifier` id sent when the answer declares the
    ///     extension (v2); `nil` generates one (`pay_` + 32 hex digits).
    /// - Returns: the signed payment, ready to send, with its ledger reservation.
    /// - Throws: ``PaymentRefusal`` for a policy refusal, ``PaymentIdentifierProblem/invalid`` for
    ///   a malformed `paymentIdentifier` (before anything is signed), or the scheme client's error.
    public func preparePayment(
        for required: AnyPaymentRequired, resource: String? = nil, paymentIdentifier: String? = nil
    ) async throws
        -> PreparedPayment
    {
        try await preparePayment(for: required, resource: resource, terms: nil, paymentIdentifier: paymentIdentifier)
    }

    /// Chooses an option, checks every guard rail, reserves the spend and signs; with `terms`,
    /// only an option within the terms the owner approved.
    ///
    /// With `terms` (an approved or pre-approved purchase), the approval threshold and the
    /// firewall's allow list are not asked again — the owner decided — but the per-payment cap,
    /// the deny lists, the budget and the per-host limits still apply. An answer whose options
    /// are all outside the terms (price above, another recipient, asset, network or scheme) is
    /// refused with ``PaymentRefusal/termsChanged(_:)`` and nothing is signed.
    ///
    /// - Parameters:
    ///   - required: the seller's 402 answer (either protocol version).
    ///   - resource: the URL being paid for (its host is what the firewall and the per-host
    ///     limits use).
    ///   - terms: the approved terms, or `nil` for an ordinary payment under the policy.
    ///   - paymentIdentifier: the `payment-identifier` id sent when the answer declares the
    ///     extension (v2); `nil` generates one.
    /// - Returns: the signed payment, ready to send, with its ledger reservation.
    /// - Throws: ``PaymentRefusal`` for a policy refusal, ``PaymentIdentifierProblem/invalid`` for
    ///   a malformed `paymentIdentifier`, or the scheme client's error.
    public func preparePayment(
        for required: AnyPaymentRequired, resource: String?, terms: ApprovedTerms?, paymentIdentifier: String? = nil
    ) async throws -> PreparedPayment {
        if let paymentIdentifier, !PaymentIdentifier.isValid(paymentIdentifier) { throw PaymentIdentifierProblem.invalid }
        let candidates = schemes.candidates(for: required, assets: assets)
        guard !candidates.isEmpty else {
            throw PaymentRefusal.noSupportedOption(offered: required.accepts.map { "\($0.version) \($0.scheme) on \($0.networkIdentifier)" })
        }
        let host = RecipientFirewall.host(of: resource ?? required.resource?.url)
        let allowed = candidates.filter { policy.violation(by: $0, host: host) == nil }
        let permitted = terms.map { terms in allowed.filter(terms.admits) } ?? allowed
        guard let chosen = selector.select(from: permitted) else {
            // Report the rule the best option breaks (an offer outside the approved terms first).
            let best = selector.select(from: candidates) ?? candidates[0]
            if let terms {
                guard let within = selector.select(from: candidates.filter(terms.admits)) else {
                    throw PaymentRefusal.termsChanged(terms.changes(in: selector.select(from: allowed) ?? best))
                }
                throw policy.violation(by: within, host: host) ?? PaymentRefusal.noSupportedOption(offered: [])
            }
            if let violation = policy.violation(by: best, host: host) { throw violation }
            throw PaymentRefusal.noSupportedOption(offered: [])
        }
        let resourceURL = resource ?? Self.resourceURL(of: required, offer: chosen.offer)
        let value = chosen.value ?? .zero

        // Allowing by host trusts only the caller's URL, never the seller's claim about itself.
        let trustedHost = resource == nil ? nil : host
        let reasons = terms == nil ? policy.approvalReasons(for: chosen, host: trustedHost) : []
        if !reasons.isEmpty {
            let threshold = policy.approvalThreshold ?? .zero
            let request = PaymentApprovalRequest(candidate: chosen, amount: value, threshold: threshold, resource: resourceURL, reasons: reasons)
            guard let approval, await approval(request) else {
                throw PaymentRefusal.declined(reasons, payTo: chosen.payTo, host: trustedHost)
            }
        }

        let now = clock()
        let record = SpendRecord(
            wallet: wallet, createdAt: now, resource: resourceURL, version: chosen.version, scheme: chosen.scheme,
            network: chosen.network.identifier, asset: chosen.requirements.asset, payTo: chosen.payTo,
            amount: chosen.atomicAmount.decimalString, value: value)
        try await ledger.reserve(
            record, budget: policy.budget, hostBudget: policy.hostLimits.budget(for: RecipientFirewall.host(of: resourceURL)), now: now)

        guard let client = schemes.implementation(version: chosen.version, scheme: chosen.scheme, network: chosen.network) else {
            try? await ledger.markFailed(record.id, reason: "no scheme client", at: clock())
            throw PaymentRefusal.noSupportedOption(offered: [])
        }
        let signed: SchemePayload
        do {
            let context = PaymentContext(version: required.version, resource: required.resource, extensions: required.extensions)
            signed = try await client.createPayload(for: chosen.requirements, context: context)
        } catch {
            try? await ledger.markFailed(record.id, reason: "signing failed: \(error)", at: clock())
            throw error
        }
        if let describing = client as? any AuthorizationDescribing, let authorization = describing.signedAuthorization(in: signed) {
            do {
                try await ledger.recordAuthorization(record.id, authorization)
            } catch {
                // The signature has not left this process: nothing can move, so release it.
                try? await ledger.markFailed(record.id, reason: "could not record the authorization: \(error)", at: clock())
                throw error
            }
        }
        var payload = AnyPaymentPayload(paying: chosen.offer, of: required, with: signed)
        if case .v2(var p) = payload, PaymentIdentifier.isDeclared(in: p.extensions) {
            p.extensions = PaymentIdentifier.adding(paymentIdentifier ?? PaymentIdentifier.generate(), to: p.extensions)
            payload = .v2(p)
        }
        return PreparedPayment(recordID: record.id, candidate: chosen, payload: payload)
    }

    /// Records the outcome of a sent payment: a successful receipt marks it settled. A failed
    /// receipt marks it ``SpendRecord/Status-swift.enum/unconfirmed``: the server's word that
    /// nothing moved is not proof (it holds a live signature), so the spend keeps counting until
    /// ``reconcile(using:grace:)`` reads the authorization on chain after it expired.
    public func recordSettlement(of payment: PreparedPayment, receipt: SettleResponse) async throws {
        if receipt.success {
            try await ledger.markSettled(payment.recordID, receipt: receipt, at: clock())
        } else {
            try await ledger.markUnconfirmed(
                payment.recordID, reason: receipt.errorReason?.rawValue ?? "settlement failed", transaction: receipt.transaction, at: clock())
        }
    }

    /// Records that the server did not deliver after receiving the payment (a 402 again, an
    /// error status). The spend keeps counting (status `unconfirmed`) until reconciliation.
    public func recordUnconfirmed(of payment: PreparedPayment, reason: String, transaction: String? = nil) async throws {
        try await ledger.markUnconfirmed(payment.recordID, reason: reason, transaction: transaction, at: clock())
    }

    /// Records that the payment is known not to have moved funds, releasing it from the budget.
    ///
    /// Use only with proof (e.g. the authorization expired unused on chain); a server's 402 or
    /// error is not proof — use ``recordUnconfirmed(of:reason:transaction:)`` then.
    public func recordRejection(of payment: PreparedPayment, reason: String) async throws {
        try await ledger.markFailed(payment.recordID, reason: reason, at: clock())
    }

    /// Runs `check` on a signed payment before it is sent (e.g. recording which payment an
    /// approved purchase sends). If `check` throws, the payment must not be sent: its reservation
    /// is released (the signature goes nowhere) and the error is rethrown.
    ///
    /// - Parameters:
    ///   - payment: The signed payment, not yet sent.
    ///   - check: What must hold (or be recorded) before the payment leaves.
    /// - Throws: What `check` throws.
    public func beforeSending(_ payment: PreparedPayment, _ check: (PreparedPayment) async throws -> Void) async throws {
        do {
            try await check(payment)
        } catch {
            try? await recordRejection(of: payment, reason: "not sent: \(error)")
            throw error
        }
    }

    /// Reconciles this payer's expired open attempts against the chain (see ``SpendReconciler``).
    public func reconcile(using reader: any AuthorizationStateReader, grace: Duration = .seconds(120)) async throws -> ReconciliationSummary {
        try await SpendReconciler(ledger: ledger, reader: reader, grace: grace).reconcile(now: clock())
    }

    /// The wallet's spending in the current budget window (24 hours if no budget is set).
    public func spentInWindow() async throws -> DollarAmount {
        let window = policy.budget?.window ?? SpendBudget.day
        return try await ledger.spent(by: wallet, since: clock().addingTimeInterval(-window.timeInterval))
    }

    static func resourceURL(of required: AnyPaymentRequired, offer: AnyPaymentRequirements) -> String? {
        if let url = required.resource?.url { return url }
        if case .v1(let r) = offer { return r.resource }
        return nil
    }
}
