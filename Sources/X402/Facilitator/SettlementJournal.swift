public import Foundation

/// One `/settle` request as the facilitator recorded it: received → submitted (with the
/// transaction) → confirmed or failed.
public struct SettlementJournalEntry: Sendable, Equatable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Accepted; nothing known to be sent yet.
        case received
        /// A transaction was broadcast; its receipt has not been seen (or not yet recorded).
        case submitted
        /// Settled: the answer is final and is returned to repeated requests.
        case confirmed
        /// Not settled. Final only when ``SettlementJournalEntry/transaction`` is set (a mined
        /// failure); otherwise a repeated request is tried again.
        case failed
    }

    /// The payment's identity: a hash of the request as decoded.
    public var id: String
    /// The network as carried in the payload (v1 name or CAIP-2).
    public var network: String
    public var scheme: String
    public var status: Status
    public var payer: String?
    /// The transaction hash or signature, once known.
    public var transaction: String?
    /// The scheme's own key for the transfer (e.g. EVM `eip155:<chain>/<token>/<payer>/<nonce>`).
    public var schemeKey: String?
    /// The answer given, once there is one.
    public var response: SettleResponse?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, network: String, scheme: String, status: Status, payer: String? = nil, transaction: String? = nil,
        schemeKey: String? = nil, response: SettleResponse? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.network = network
        self.scheme = scheme
        self.status = status
        self.payer = payer
        self.transaction = transaction
        self.schemeKey = schemeKey
        self.response = response
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether the recorded answer stands for every repeat of this request.
    public var isFinal: Bool {
        switch status {
        case .confirmed: response != nil
        case .failed: response != nil && !(transaction ?? "").isEmpty
        case .received, .submitted: false
        }
    }
}

/// Durable storage for ``SettlementJournalEntry`` values (SQLite, PostgreSQL, memory).
public protocol SettlementJournalStore: Sendable {
    /// The entry with `id`, if any.
    func entry(id: String) async throws -> SettlementJournalEntry?
    /// Inserts or replaces the entry with `entry.id`.
    func save(_ entry: SettlementJournalEntry) async throws
    /// Entries in any of `statuses`, oldest first.
    func entries(in statuses: Set<SettlementJournalEntry.Status>) async throws -> [SettlementJournalEntry]
}

/// A ``SettlementJournalStore`` in memory (nothing survives a restart).
public actor InMemorySettlementJournalStore: SettlementJournalStore {
    private var byID: [String: SettlementJournalEntry] = [:]

    public init() {}

    public func entry(id: String) -> SettlementJournalEntry? { byID[id] }

    public func save(_ entry: SettlementJournalEntry) { byID[entry.id] = entry }

    public func entries(in statuses: Set<SettlementJournalEntry.Status>) -> [SettlementJournalEntry] {
        byID.values.filter { statuses.contains($0.status) }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }
}

/// A scheme's record of one transfer (e.g. an EVM authorization) as a settlement store keeps it
/// beside the journal (SQLite and PostgreSQL use the same row).
public struct SchemeSettlementRow: Sendable, Equatable {
    /// The scheme's key for the transfer (`eip155:<chain>/<token>/<payer>/<nonce>` for exact EVM).
    public var key: String
    /// The transaction hash.
    public var transaction: String
    /// `pending`, `succeeded` or `failed`.
    public var status: String
    public var reason: String?
    public var message: String?
    /// Unix seconds of the last update.
    public var updatedAt: Int64
    /// The scheme's further fields as one JSON text (EVM: the owning settlement id, the sender and
    /// nonce, the signed bytes of a pending transaction, earlier hashes), or `nil`.
    public var detail: String?

    public init(
        key: String, transaction: String, status: String, reason: String? = nil, message: String? = nil, updatedAt: Int64,
        detail: String? = nil
    ) {
        self.key = key
        self.transaction = transaction
        self.status = status
        self.reason = reason
        self.message = message
        self.updatedAt = updatedAt
        self.detail = detail
    }
}

/// Where a settlement store keeps the schemes' transfer records (``SchemeSettlementRow``), keyed by
/// the scheme's key; the SQLite and PostgreSQL settlement stores both provide it.
public protocol SchemeSettlementRowStore: Sendable {
    func schemeRecord(key: String) async throws -> SchemeSettlementRow?
    /// Inserts or replaces the row with `row.key`.
    func saveSchemeRecord(_ row: SchemeSettlementRow) async throws
    func removeSchemeRecord(key: String) async throws
    /// Rows whose status is `status` (e.g. `pending`), oldest update first, at most `limit`.
    func schemeRecords(status: String, limit: Int) async throws -> [SchemeSettlementRow]
}

/// Runs one payment's settlement while no other instance sharing the settlement journal settles
/// the same payment (PostgreSQL provides it with an advisory lock; a single-process store needs none).
public protocol SettlementExclusion: Sendable {
    /// Runs `body` while holding the exclusive right to settle the payment `key`.
    /// - Parameters:
    ///   - key: The payment's identity (payer and nonce), e.g. ``PaymentIdentity/key``.
    ///   - body: The settlement; it runs once, after the right is obtained.
    /// - Returns: What `body` returned.
    /// - Throws: The store's error when the right cannot be obtained (then `body` did not run).
    func exclusively(payment key: String, _ body: @escaping @Sendable () async -> SettleResponse) async throws -> SettleResponse
}
