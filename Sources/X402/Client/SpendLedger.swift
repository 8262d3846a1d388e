public import Foundation

/// One payment attempt in a spend ledger.
public struct SpendRecord: Sendable, Equatable, Identifiable {
    /// Where the attempt stands.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Reserved and (about to be) signed; the outcome is not known yet. Counts against the budget.
        case pending
        /// The server returned a successful settlement. Counts against the budget.
        case settled
        /// Refused before anything was signed, or signed but known not to have moved funds (its
        /// authorization expired unused on chain). Does not count.
        case failed
        /// Signed and sent, and the server did not deliver (a 402, an error status, a pending
        /// settlement), but the signature may still be settled by whoever holds it. Counts against
        /// the budget until reconciliation reads the authorization on chain after it expired
        /// (see ``SpendReconciler``).
        case unconfirmed
    }

    public var id: UUID
    /// The paying wallet (address or any stable name); budgets are per wallet.
    public var wallet: String
    public var createdAt: Date
    /// The resource URL, when known.
    public var resource: String?
    public var version: X402Version
    public var scheme: String
    /// CAIP-2 network identifier.
    public var network: String
    public var asset: String
    public var payTo: String
    /// Atomic amount, decimal string.
    public var amount: String
    /// The dollar value counted against the budget.
    public var value: DollarAmount
    public var status: Status
    /// Settlement transaction (hash or signature), once settled.
    public var transaction: String?
    /// The payer reported in the settlement receipt.
    public var payer: String?
    /// Why the attempt failed.
    public var failureReason: String?
    /// When the outcome was recorded.
    public var completedAt: Date?
    /// The signed authorization, once signed (scheme clients that describe it, e.g. exact EVM):
    /// what reconciliation reads on chain.
    public var authorization: SignedAuthorization?

    public init(
        id: UUID = UUID(), wallet: String, createdAt: Date, resource: String? = nil, version: X402Version, scheme: String,
        network: String, asset: String, payTo: String, amount: String, value: DollarAmount, status: Status = .pending,
        transaction: String? = nil, payer: String? = nil, failureReason: String? = nil, completedAt: Date? = nil,
        authorization: SignedAuthorization? = nil
    ) {
        self.id = id
        self.wallet = wallet
        self.createdAt = createdAt
        self.resource = resource
        self.version = version
        self.scheme = scheme
        self.network = network
        self.asset = asset
        self.payTo = payTo
        self.amount = amount
        self.value = value
        self.status = status
        self.transaction = transaction
        self.payer = payer
        self.failureReason = failureReason
        self.completedAt = completedAt
        self.authorization = authorization
    }

    /// Whether the outcome is still open: the signature may yet move funds (pending or
    /// unconfirmed). Such records count against the budget.
    public var isOpen: Bool { status == .pending || status == .unconfirmed }

    /// The lower-cased host of ``resource``: what per-host limits count by.
    public var host: String? { RecipientFirewall.host(of: resource) }

    /// Whether the record counts against a budget window ending at `now`: not failed, and
    /// created less than `window` ago (a record exactly `window` old no longer counts).
    public func counts(at now: Date, window: Duration) -> Bool {
        status != .failed && createdAt > now.addingTimeInterval(-window.timeInterval) && createdAt <= now
    }
}

/// Where a payer records its payment attempts, so spending limits hold across restarts and
/// processes. The budget is computed from the ledger; ``reserve(_:budget:now:)`` is atomic, so
/// concurrent payers racing for the last of a budget never exceed it together.
public protocol SpendLedger: Sendable {
    /// Records `record` as pending — only if, with it, the wallet's non-failed spending in the
    /// budget window ending at `now` stays within `budget.limit`. Checking and inserting is one
    /// atomic step.
    ///
    /// - Throws: ``PaymentRefusal/exceedsBudget(amount:spent:budget:window:)`` when it does not fit.
    func reserve(_ record: SpendRecord, budget: SpendBudget?, now: Date) async throws

    /// Records `record` as pending as ``reserve(_:budget:now:)`` does, and only if the spending
    /// on the record's host (``SpendRecord/host``) in `hostBudget`'s window stays within it too.
    /// Checking both and inserting is one atomic step in the stores of this package.
    ///
    /// - Throws: ``PaymentRefusal/exceedsBudget(amount:spent:budget:window:)`` or
    ///   ``PaymentRefusal/exceedsHostBudget(host:amount:spent:budget:window:)``.
    func reserve(_ record: SpendRecord, budget: SpendBudget?, hostBudget: HostBudget?, now: Date) async throws

    /// The wallet's non-failed spending on `host` recorded after `since`.
    func spent(by wallet: String, host: String, since: Date) async throws -> DollarAmount

    /// Marks a pending attempt settled with its receipt.
    func markSettled(_ id: UUID, receipt: SettleResponse, at: Date) async throws

    /// Marks a pending attempt failed; it no longer counts against the budget.
    ///
    /// Call it only when no funds can move: nothing was signed, or the signed authorization is
    /// known to have expired unused.
    func markFailed(_ id: UUID, reason: String, at: Date) async throws

    /// Stores the signed authorization of a pending attempt (it stays pending).
    func recordAuthorization(_ id: UUID, _ authorization: SignedAuthorization) async throws

    /// Marks a signed attempt unconfirmed: the server did not deliver, but the signature may
    /// still settle, so it keeps counting. `transaction` is a settlement hash the server
    /// reported as pending, if any.
    func markUnconfirmed(_ id: UUID, reason: String, transaction: String?, at: Date) async throws

    /// Marks an open attempt settled because its authorization was read as used on chain
    /// (no receipt was received).
    func markUsedOnChain(_ id: UUID, at: Date) async throws

    /// Open (pending or unconfirmed) attempts with a signed authorization whose `validBefore`
    /// is at or before `expiredBy`, oldest first, at most `limit`.
    func expiredOpenAttempts(expiredBy: Date, limit: Int) async throws -> [SpendRecord]

    /// The wallet's non-failed spending recorded after `since`.
    func spent(by wallet: String, since: Date) async throws -> DollarAmount

    /// Records newest first, optionally for one wallet.
    func history(wallet: String?, limit: Int) async throws -> [SpendRecord]
}

/// Why a ledger operation failed (other than a budget refusal).
public enum SpendLedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownRecord(UUID)
    case duplicateRecord(UUID)

    public var description: String {
        switch self {
        case .unknownRecord(let id): "no spend record \(id)"
        case .duplicateRecord(let id): "spend record \(id) already exists"
        }
    }
}

/// A spend ledger in memory: limits hold within one process only.
public actor InMemorySpendLedger: SpendLedger {
    private var records: [SpendRecord] = []

    public init(records: [SpendRecord] = []) { self.records = records }

    public func reserve(_ record: SpendRecord, budget: SpendBudget?, now: Date) throws {
        try reserve(record, budget: budget, hostBudget: nil, now: now)
    }

    public func reserve(_ record: SpendRecord, budget: SpendBudget?, hostBudget: HostBudget?, now: Date) throws {
        guard !records.contains(where: { $0.id == record.id }) else { throw SpendLedgerError.duplicateRecord(record.id) }
        if let hostBudget {
            let host = hostBudget.host
            let spent = records.filter { $0.wallet == record.wallet && $0.host == host && $0.counts(at: now, window: hostBudget.budget.window) }
                .map(\.value).sum()
            if record.host == host, spent + record.value > hostBudget.budget.limit {
                throw PaymentRefusal.exceedsHostBudget(
                    host: host, amount: record.value, spent: spent, budget: hostBudget.budget.limit, window: hostBudget.budget.window)
            }
        }
        if let budget {
            let spent = records.filter { $0.wallet == record.wallet && $0.counts(at: now, window: budget.window) }.map(\.value).sum()
            if spent + record.value > budget.limit {
                throw PaymentRefusal.exceedsBudget(amount: record.value, spent: spent, budget: budget.limit, window: budget.window)
            }
        }
        var pending = record
        pending.status = .pending
        records.append(pending)
    }

    public func recordAuthorization(_ id: UUID, _ authorization: SignedAuthorization) throws {
        guard let i = records.firstIndex(where: { $0.id == id }) else { throw SpendLedgerError.unknownRecord(id) }
        records[i].authorization = authorization
    }

    public func markUnconfirmed(_ id: UUID, reason: String, transaction: String?, at: Date) throws {
        guard let i = records.firstIndex(where: { $0.id == id }) else { throw SpendLedgerError.unknownRecord(id) }
        records[i].status = .unconfirmed
        records[i].failureReason = reason
        if let transaction, !transaction.isEmpty { records[i].transaction = transaction }
        records[i].completedAt = at
    }

    public func markUsedOnChain(_ id: UUID, at: Date) throws {
        guard let i = records.firstIndex(where: { $0.id == id }) else { throw SpendLedgerError.unknownRecord(id) }
        records[i].status = .settled
        records[i].completedAt = at
    }

    public func expiredOpenAttempts(expiredBy: Date, limit: Int) -> [SpendRecord] {
        Array(
            records.filter { r in r.isOpen && r.authorization.map { $0.validBefore <= expiredBy } == true }
                .sorted { $0.createdAt < $1.createdAt }.prefix(Swift.max(0, limit)))
    }

    public func markSettled(_ id: UUID, receipt: SettleResponse, at: Date) throws {
        guard let i = records.firstIndex(where: { $0.id == id }) else { throw SpendLedgerError.unknownRecord(id) }
        records[i].status = .settled
        records[i].transaction = receipt.transaction
        records[i].payer = receipt.payer
        records[i].failureReason = nil
        records[i].completedAt = at
    }

    public func markFailed(_ id: UUID, reason: String, at: Date) throws {
        guard let i = records.firstIndex(where: { $0.id == id }) else { throw SpendLedgerError.unknownRecord(id) }
        records[i].status = .failed
        records[i].failureReason = reason
        records[i].completedAt = at
    }

    public func spent(by wallet: String, since: Date) -> DollarAmount {
        records.filter { $0.wallet == wallet && $0.status != .failed && $0.createdAt > since }.map(\.value).sum()
    }

    public func spent(by wallet: String, host: String, since: Date) -> DollarAmount {
        let host = RecipientFirewall.normalized(host: host)
        return records.filter { $0.wallet == wallet && $0.host == host && $0.status != .failed && $0.createdAt > since }.map(\.value).sum()
    }

    public func history(wallet: String?, limit: Int) -> [SpendRecord] {
        Array(records.filter { wallet == nil || $0.wallet == wallet }.sorted { $0.createdAt > $1.createdAt }.prefix(limit))
    }
}

extension SpendLedger {
    /// Default for ledgers written before per-host limits existed: checks the host's spending
    /// from ``spent(by:host:since:)``, then reserves with ``reserve(_:budget:now:)``. The two
    /// steps are not one atomic step; the ledgers of this package override it.
    public func reserve(_ record: SpendRecord, budget: SpendBudget?, hostBudget: HostBudget?, now: Date) async throws {
        if let hostBudget, record.host == hostBudget.host {
            let since = now.addingTimeInterval(-hostBudget.budget.window.timeInterval)
            let spent = try await spent(by: record.wallet, host: hostBudget.host, since: since)
            if spent + record.value > hostBudget.budget.limit {
                throw PaymentRefusal.exceedsHostBudget(
                    host: hostBudget.host, amount: record.value, spent: spent, budget: hostBudget.budget.limit, window: hostBudget.budget.window)
            }
        }
        try await reserve(record, budget: budget, now: now)
    }

    /// Default: the host's spending summed from ``history(wallet:limit:)`` (at most 10 000 records).
    public func spent(by wallet: String, host: String, since: Date) async throws -> DollarAmount {
        let host = RecipientFirewall.normalized(host: host)
        return try await history(wallet: wallet, limit: 10_000).filter { $0.host == host && $0.status != .failed && $0.createdAt > since }
            .map(\.value).sum()
    }

    /// Default for ledgers written before reconciliation existed: the authorization is not
    /// kept, so the attempt stays pending and keeps counting.
    public func recordAuthorization(_ id: UUID, _ authorization: SignedAuthorization) async throws {}

    /// Default: the attempt stays pending, which counts against the budget just the same.
    public func markUnconfirmed(_ id: UUID, reason: String, transaction: String?, at: Date) async throws {}

    /// Default: the attempt stays pending (it keeps counting).
    public func markUsedOnChain(_ id: UUID, at: Date) async throws {}

    /// Default: nothing to reconcile (open attempts keep counting until they leave the window).
    public func expiredOpenAttempts(expiredBy: Date, limit: Int) async throws -> [SpendRecord] { [] }
}
