import X402

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
public struct SettlementRecord: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// Broadcast; the receipt has not been seen yet.
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

    public init(key: SettlementKey, transaction: Bytes32, status: Status, updatedAt: UInt64) {
        self.key = key
        self.transaction = transaction
        self.status = status
        self.updatedAt = updatedAt
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
    private var running: [SettlementKey: Task<Outcome, Never>] = [:]

    /// Runs `operation` for `key`, or joins the run already under way. `joined` tells whether
    /// this caller shared another's run.
    func run(_ key: SettlementKey, _ operation: @escaping @Sendable () async -> Outcome) async -> (outcome: Outcome, joined: Bool) {
        if let task = running[key] { return (await task.value, true) }
        let task = Task { await operation() }
        running[key] = task
        let outcome = await task.value
        running[key] = nil
        return (outcome, false)
    }
}
