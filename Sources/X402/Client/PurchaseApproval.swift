public import Foundation

/// Where a pending purchase stands.
///
/// ```
/// pre_approved ──────────────┐
/// awaiting_approval → approved ─→ paying → paid | failed
///        │               │
///        └→ denied ←─────┘        (any of the first three → expired after expiresAt)
/// ```
public enum PurchaseStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Probed within the policy: confirming pays (no owner action needed).
    case preApproved = "pre_approved"
    /// Needs the owner's approval (above the threshold, or a recipient the firewall does not allow).
    case awaitingApproval = "awaiting_approval"
    /// The owner approved: confirming pays, within the approved terms.
    case approved
    /// The owner denied it: never paid.
    case denied
    /// Not confirmed (or approved) before it expired: never paid.
    case expired
    /// Claimed by one confirmation that is paying it now. No other confirmation can pay it.
    case paying
    /// Paid: a payment was sent and the seller delivered.
    case paid
    /// The confirmation failed (changed terms, a limit, a rejected payment): not paid again.
    case failed

    /// Statuses a purchase can still be paid from.
    public static let payable: Set<PurchaseStatus> = [.preApproved, .approved]
    /// Statuses that still expire.
    public static let open: Set<PurchaseStatus> = [.preApproved, .awaitingApproval, .approved]
}

/// The terms a purchase was quoted (and, once approved, approved) with. Confirmation pays only
/// an offer within them: the same scheme, network, asset and recipient, at most the amount.
public struct ApprovedTerms: Sendable, Hashable {
    public var scheme: String
    /// CAIP-2 network identifier.
    public var network: String
    public var asset: String
    public var payTo: String
    /// The most that may be paid, in the asset's atomic units.
    public var maxAmount: UInt256

    /// Terms.
    ///
    /// - Parameters:
    ///   - scheme: the payment scheme (`exact`).
    ///   - network: the CAIP-2 network.
    ///   - asset: the asset address.
    ///   - payTo: the recipient.
    ///   - maxAmount: the most that may be paid, in atomic units.
    public init(scheme: String, network: String, asset: String, payTo: String, maxAmount: UInt256) {
        self.scheme = scheme
        self.network = network
        self.asset = asset
        self.payTo = payTo
        self.maxAmount = maxAmount
    }

    /// The terms of `candidate`, exactly.
    public init(_ candidate: PaymentCandidate) {
        self.init(
            scheme: candidate.scheme, network: candidate.network.identifier, asset: candidate.requirements.asset, payTo: candidate.payTo,
            maxAmount: candidate.atomicAmount)
    }

    /// How `candidate` departs from these terms (empty: it is within them).
    public func changes(in candidate: PaymentCandidate) -> [String] {
        var changes: [String] = []
        if candidate.scheme != scheme { changes.append("scheme \(scheme) → \(candidate.scheme)") }
        if candidate.network.identifier != network { changes.append("network \(network) → \(candidate.network.identifier)") }
        if SpendingPolicy.normalized(candidate.requirements.asset) != SpendingPolicy.normalized(asset) {
            changes.append("asset \(asset) → \(candidate.requirements.asset)")
        }
        if SpendingPolicy.normalized(candidate.payTo) != SpendingPolicy.normalized(payTo) {
            changes.append("recipient \(payTo) → \(candidate.payTo)")
        }
        if candidate.atomicAmount > maxAmount {
            changes.append("amount \(maxAmount.decimalString) → \(candidate.atomicAmount.decimalString) atomic units")
        }
        return changes
    }

    /// Whether `candidate` is within these terms.
    public func admits(_ candidate: PaymentCandidate) -> Bool { changes(in: candidate).isEmpty }
}

/// A purchase recorded by a probe or by a price that needs the owner's approval: nothing was
/// signed; ``PurchaseApprovals/confirm(_:pay:)`` pays it later, once, within ``terms``.
public struct PendingPurchase: Sendable, Hashable, Identifiable {
    /// The purchase's id (the `fetch_id` agents confirm with).
    public var fetchID: String
    public var id: String { fetchID }
    public var status: PurchaseStatus
    /// The paying wallet.
    public var wallet: String
    /// The URL that asked for payment.
    public var url: String
    /// The HTTP method (`GET`).
    public var method: String
    /// The URL's lower-cased host.
    public var host: String?
    public var version: X402Version
    /// The quoted (and approved) terms: scheme, network, asset, recipient, most atomic units.
    public var terms: ApprovedTerms
    /// The asset's decimals, when the asset registry knows it.
    public var decimals: Int?
    /// The asset's symbol (`USDC`), when known.
    public var symbol: String?
    /// The price in dollars (dollar-pegged assets only).
    public var value: DollarAmount?
    /// Why the owner's approval is needed (empty for a pre-approved probe).
    public var reasons: [String]
    public var createdAt: Date
    /// After this the purchase can no longer be approved or confirmed.
    public var expiresAt: Date
    public var updatedAt: Date
    /// The settlement transaction, once paid.
    public var transaction: String?
    /// The last state change's note (why it was denied, failed or expired).
    public var note: String?
    /// The spend-ledger record of the payment its confirmation signed, attached before the
    /// payment was sent (`nil`: nothing was sent).
    public var spendRecord: UUID?

    /// A purchase.
    public init(
        fetchID: String, status: PurchaseStatus, wallet: String, url: String, method: String, host: String?, version: X402Version,
        terms: ApprovedTerms, decimals: Int?, symbol: String?, value: DollarAmount?, reasons: [String], createdAt: Date, expiresAt: Date,
        updatedAt: Date? = nil, transaction: String? = nil, note: String? = nil, spendRecord: UUID? = nil
    ) {
        self.fetchID = fetchID
        self.status = status
        self.wallet = wallet
        self.url = url
        self.method = method
        self.host = host
        self.version = version
        self.terms = terms
        self.decimals = decimals
        self.symbol = symbol
        self.value = value
        self.reasons = reasons
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.updatedAt = updatedAt ?? createdAt
        self.transaction = transaction
        self.note = note
        self.spendRecord = spendRecord
    }

    /// The price in atomic units.
    public var amount: UInt256 { terms.maxAmount }
    /// The fee the buyer pays on top, in atomic units: zero (in x402 the facilitator pays gas;
    /// the price is all the buyer pays).
    public var fee: UInt256 { .zero }
    /// ``amount`` plus ``fee``.
    public var total: UInt256 { amount + fee }

    /// `amount` as a decimal number of tokens (`0.5`), or the atomic units when the decimals are unknown.
    public func tokens(_ atomic: UInt256) -> String { decimals.map { Money.format(atomic, decimals: $0) } ?? atomic.decimalString }

    /// Whether the purchase is past its expiry at `now` while still open.
    public func isExpired(at now: Date) -> Bool { PurchaseStatus.open.contains(status) && now >= expiresAt }
}

/// One state change of a purchase, as the store records it.
public struct PurchaseEvent: Sendable, Hashable {
    public var fetchID: String
    public var at: Date
    /// The previous status (`nil` when the purchase was created).
    public var from: PurchaseStatus?
    public var to: PurchaseStatus
    public var note: String?

    /// An event.
    public init(fetchID: String, at: Date, from: PurchaseStatus?, to: PurchaseStatus, note: String?) {
        self.fetchID = fetchID
        self.at = at
        self.from = from
        self.to = to
        self.note = note
    }
}

/// Where pending purchases live. Every state change is a compare-and-set, so it happens exactly
/// once even when several processes share the store; each change is recorded as a
/// ``PurchaseEvent``.
public protocol PurchaseApprovalStore: Sendable {
    /// Stores a new purchase (and its creation event).
    ///
    /// - Throws: ``PurchaseApprovalError/duplicate(_:)`` when the id exists.
    func create(_ purchase: PendingPurchase) async throws

    /// The purchase with `fetchID`, if any.
    func purchase(_ fetchID: String) async throws -> PendingPurchase?

    /// Purchases newest first, optionally only those in `statuses`, at most `limit`.
    func purchases(statuses: Set<PurchaseStatus>?, limit: Int) async throws -> [PendingPurchase]

    /// Moves the purchase to `to` only if its status is in `from`, recording the event.
    ///
    /// - Parameters:
    ///   - fetchID: the purchase.
    ///   - from: the statuses it may be in.
    ///   - to: the new status.
    ///   - at: the time of the change.
    ///   - note: why (stored with the purchase and the event).
    ///   - transaction: a settlement transaction to store (for ``PurchaseStatus/paid``).
    ///   - onlyBefore: if set, the change happens only while the purchase's expiry is after it.
    /// - Returns: the purchase after the change, or `nil` when it was not in `from` (or expired,
    ///   or unknown): another caller changed it first.
    func transition(
        _ fetchID: String, from: Set<PurchaseStatus>, to: PurchaseStatus, at: Date, note: String?, transaction: String?, onlyBefore: Date?
    ) async throws -> PendingPurchase?

    /// Records the spend-ledger record of the payment a confirmation signed, before it is sent,
    /// only while the purchase is ``PurchaseStatus/paying``.
    ///
    /// - Returns: whether it was recorded (`false`: not paying, or unknown).
    func attachSpendRecord(_ fetchID: String, record: UUID) async throws -> Bool

    /// Expires every open purchase whose expiry is at or before `now`; returns them.
    func expire(dueBy now: Date) async throws -> [PendingPurchase]

    /// State changes newest first, for one purchase or all, at most `limit`.
    func events(fetchID: String?, limit: Int) async throws -> [PurchaseEvent]
}

extension PurchaseApprovalStore {
    /// Claims a payable purchase for payment: moves it from ``PurchaseStatus/preApproved`` or
    /// ``PurchaseStatus/approved`` to ``PurchaseStatus/paying`` while it has not expired. Only one
    /// caller ever wins; the others get `nil`.
    public func claimForPayment(_ fetchID: String, at now: Date) async throws -> PendingPurchase? {
        try await transition(fetchID, from: PurchaseStatus.payable, to: .paying, at: now, note: nil, transaction: nil, onlyBefore: now)
    }
}

/// Why an approval operation failed.
public enum PurchaseApprovalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No purchase with this id.
    case unknown(String)
    /// A purchase with this id exists already.
    case duplicate(String)
    /// The purchase is not in a status that allows the operation (e.g. confirming one that
    /// awaits approval, was denied, or was paid already).
    case notAllowed(String, status: PurchaseStatus, operation: String)
    /// The purchase expired.
    case expired(String)

    public var description: String {
        switch self {
        case .unknown(let id): "no purchase \(id)"
        case .duplicate(let id): "purchase \(id) already exists"
        case .notAllowed(let id, let status, let operation):
            switch status {
            case .awaitingApproval: "purchase \(id) is awaiting the owner's approval; cannot \(operation) it yet"
            case .paying: "purchase \(id) is being paid by another confirmation; cannot \(operation) it"
            case .paid: "purchase \(id) was paid already; cannot \(operation) it (nothing was paid again)"
            default: "purchase \(id) is \(status.rawValue); cannot \(operation) it"
            }
        case .expired(let id): "purchase \(id) expired"
        }
    }
}

/// Pending purchases in memory: one process only.
public actor InMemoryPurchaseApprovalStore: PurchaseApprovalStore {
    private var byID: [String: PendingPurchase] = [:]
    private var order: [String] = []
    private var log: [PurchaseEvent] = []

    public init() {}

    public func create(_ purchase: PendingPurchase) throws {
        guard byID[purchase.fetchID] == nil else { throw PurchaseApprovalError.duplicate(purchase.fetchID) }
        byID[purchase.fetchID] = purchase
        order.append(purchase.fetchID)
        log.append(PurchaseEvent(fetchID: purchase.fetchID, at: purchase.createdAt, from: nil, to: purchase.status, note: purchase.note))
    }

    public func purchase(_ fetchID: String) -> PendingPurchase? { byID[fetchID] }

    public func purchases(statuses: Set<PurchaseStatus>?, limit: Int) -> [PendingPurchase] {
        Array(order.reversed().compactMap { byID[$0] }.filter { statuses?.contains($0.status) ?? true }.prefix(Swift.max(0, limit)))
    }

    public func transition(
        _ fetchID: String, from: Set<PurchaseStatus>, to: PurchaseStatus, at: Date, note: String?, transaction: String?, onlyBefore: Date?
    ) -> PendingPurchase? {
        guard var purchase = byID[fetchID], from.contains(purchase.status) else { return nil }
        if let onlyBefore, purchase.expiresAt <= onlyBefore { return nil }
        let previous = purchase.status
        purchase.status = to
        purchase.updatedAt = at
        if let note { purchase.note = note }
        if let transaction { purchase.transaction = transaction }
        byID[fetchID] = purchase
        log.append(PurchaseEvent(fetchID: fetchID, at: at, from: previous, to: to, note: note))
        return purchase
    }

    public func attachSpendRecord(_ fetchID: String, record: UUID) -> Bool {
        guard var purchase = byID[fetchID], purchase.status == .paying else { return false }
        purchase.spendRecord = record
        byID[fetchID] = purchase
        return true
    }

    public func expire(dueBy now: Date) -> [PendingPurchase] {
        let due = order.compactMap { byID[$0] }.filter { $0.isExpired(at: now) }
        return due.compactMap {
            transition($0.fetchID, from: PurchaseStatus.open, to: .expired, at: now, note: "expired", transaction: nil, onlyBefore: nil)
        }
    }

    public func events(fetchID: String?, limit: Int) -> [PurchaseEvent] {
        Array(log.reversed().filter { fetchID == nil || $0.fetchID == fetchID }.prefix(Swift.max(0, limit)))
    }
}
