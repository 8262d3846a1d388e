public import X402

/// Identifies one EIP-3009 authorization on one chain: it can move money at most once.
public struct SettlementKey: Sendable, Hashable, CustomStringConvertible {
    public var chainID: UInt64
    public var token: EthereumAddress
    public var payer: EthereumAddress
    public var nonce: Bytes32

    public init(chainID: UInt64, token: EthereumAddress, payer: EthereumAddress, nonce: Bytes32) {
        self.chainID = chainID
        self.token = token
        self.payer = payer
        self.nonce = nonce
    }

    /// A stable text form for durable stores: `eip155:<chain>/<token>/<payer>/<nonce>` (lower case).
    public var description: String { "eip155:\(chainID)/\(token.lowercased)/\(payer.lowercased)/\(nonce.hexString)" }
}

/// What is known about a settlement that reached the chain (or may have).
///
/// The record is written *before* its transaction is broadcast (with the signed bytes), so a
/// crash between the two leaves a record that can be rebroadcast or confirmed, never a transfer
/// nobody knows about.
public struct SettlementRecord: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// Signed and recorded, broadcast (or about to be); the receipt has not been seen yet.
        case pending
        /// Mined with status 1 and the expected `Transfer` log.
        case succeeded
        /// Mined but failed (reverted, or no matching `Transfer` log).
        case failed(reason: ErrorReason, message: String?)
    }

    public var key: SettlementKey
    /// The transaction hash.
    public var transaction: Bytes32
    public var status: Status
    /// Unix seconds of the last update.
    public var updatedAt: UInt64
    /// The settlement id (`Idempotency-Key`) of the request that started this settlement, or
    /// `nil` when it sent none. Only a request presenting the same id gets the success answer
    /// again; every other request for the authorization is answered as a duplicate.
    public var owner: String?
    /// The facilitator key that signed ``transaction``, and the account nonce it used.
    public var sender: EthereumAddress?
    public var senderNonce: UInt64?
    /// The signed bytes of ``transaction``, kept while it is pending so it can be rebroadcast
    /// (after a restart, or when the node dropped it).
    public var rawTransaction: [UInt8]?
    /// Transactions sent earlier for this authorization that were found dropped (their nonce was
    /// taken by another transaction without a receipt for them). Consulted before a nonce-used
    /// revert is recorded as a failure.
    public var earlierTransactions: [Bytes32]

    public init(
        key: SettlementKey, transaction: Bytes32, status: Status, updatedAt: UInt64, owner: String? = nil,
        sender: EthereumAddress? = nil, senderNonce: UInt64? = nil, rawTransaction: [UInt8]? = nil, earlierTransactions: [Bytes32] = []
    ) {
        self.key = key
        self.transaction = transaction
        self.status = status
        self.updatedAt = updatedAt
        self.owner = owner
        self.sender = sender
        self.senderNonce = senderNonce
        self.rawTransaction = rawTransaction
        self.earlierTransactions = earlierTransactions
    }

    /// The most earlier transactions a record keeps (older ones are dropped first).
    public static let maximumEarlierTransactions = 16

    /// The fields beyond key, transaction and status as one JSON text (for database columns);
    /// `nil` when there are none.
    public var detailText: String? {
        var object = JSONObject()
        if let owner { object["owner"] = .string(owner) }
        if let sender { object["sender"] = .string(sender.lowercased) }
        if let senderNonce { object["senderNonce"] = .string(String(senderNonce)) }
        if let rawTransaction { object["raw"] = .string(Hex.encode(rawTransaction)) }
        if !earlierTransactions.isEmpty { object["earlier"] = .array(earlierTransactions.map { .string($0.hexString) }) }
        guard !object.isEmpty else { return nil }
        return JSONValue.object(object).serializedString()
    }

    /// Reads ``detailText`` back into this record; unknown or malformed members are ignored
    /// (the record then lacks them, which only costs a rebroadcast).
    public mutating func applyDetail(_ text: String?) {
        guard let text, text.utf8.count <= 1 << 20, let value = try? JSONValue(parsing: Array(text.utf8)), let object = value.objectValue else {
            return
        }
        if let owner = object["owner"]?.stringValue, SettlementIdempotency.isAcceptable(owner) { self.owner = owner }
        if let sender = object["sender"]?.stringValue { self.sender = try? EthereumAddress(sender) }
        if let nonce = object["senderNonce"]?.stringValue { senderNonce = UInt64(nonce) }
        if let raw = object["raw"]?.stringValue { rawTransaction = try? Hex.decode(raw) }
        if case .array(let list)? = object["earlier"] {
            earlierTransactions = list.prefix(Self.maximumEarlierTransactions).compactMap { $0.stringValue.flatMap { try? Bytes32(hex: $0) } }
        }
    }
}

/// Where settled authorizations are remembered, so a repeated `/settle` returns the recorded
/// transaction instead of sending another.
///
/// The in-process ``InMemorySettlementRecordStore`` is the default. A durable store (SQLite,
/// Postgres) makes the guarantee survive restarts and span processes; `save` must be an upsert.
/// Even without a record, the facilitator checks `authorizationState` on-chain before sending,
/// and EIP-3009 itself makes a second transfer of the same authorization revert.
public protocol SettlementRecordStore: Sendable {
    /// The record for `key`, if any.
    func record(for key: SettlementKey) async throws -> SettlementRecord?
    /// Inserts or replaces the record for `record.key`.
    func save(_ record: SettlementRecord) async throws
    /// Forgets `key` (used when a broadcast turned out never to have happened).
    func remove(_ key: SettlementKey) async throws
}

/// A ``SettlementRecordStore`` in memory, bounded: the oldest records are dropped beyond `capacity`
/// (an authorization is only settleable until its `validBefore`, so old records matter little).
public actor InMemorySettlementRecordStore: SettlementRecordStore {
    private var records: [SettlementKey: SettlementRecord] = [:]
    private var order: [SettlementKey] = []
    private var orderStart = 0
    public let capacity: Int

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    public func record(for key: SettlementKey) -> SettlementRecord? { records[key] }

    public func save(_ record: SettlementRecord) {
        if records.updateValue(record, forKey: record.key) == nil {
            order.append(record.key)
        }
        while records.count > capacity, orderStart < order.count {
            records[order[orderStart]] = nil
            orderStart += 1
        }
        if orderStart > 4096, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }

    public func remove(_ key: SettlementKey) { records[key] = nil }

    /// The number of records held.
    public var count: Int { records.count }
}

/// Lets concurrent settlements of the same authorization share one execution.
actor InFlightSettlements<Outcome: Sendable> {
    private var running: [SettlementKey: (task: Task<Outcome, Never>, owner: String?)] = [:]

    /// Runs `operation` for `key` on behalf of `owner` (a settlement id, or `nil`), or joins the
    /// run already under way. `joined` tells whether this caller shared another's run, and
    /// `runOwner` is the settlement id of the caller that started it.
    func run(
        _ key: SettlementKey, owner: String?, _ operation: @escaping @Sendable () async -> Outcome
    ) async
        -> (outcome: Outcome, joined: Bool, runOwner: String?)
    {
        if let (task, runOwner) = running[key] { return (await task.value, true, runOwner) }
        let task = Task { await operation() }
        running[key] = (task, owner)
        let outcome = await task.value
        running[key] = nil
        return (outcome, false, owner)
    }
}
