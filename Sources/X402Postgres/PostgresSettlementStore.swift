// Compiled only with the package trait `PostgreSQL` (on by default); see Package.swift.
#if PostgreSQL
import Foundation
public import Logging
import PostgresNIO
public import X402
import NIOConcurrencyHelpers

/// Settlements in PostgreSQL, shared by every facilitator instance using the same database: the
/// journal (`SettlementJournalStore`), the schemes' transfer records, and a per-payment lock
/// (``exclusively(_:_:)``) so that instances given the same payment at once settle it one after
/// the other — the second then finds the first one's recorded answer instead of sending again.
public final class PostgresSettlementStore: SettlementJournalStore, SchemeSettlementRowStore {
    public let database: PostgresStorePool
    /// A separate pool for the per-payment locks, so holders of locks never wait for a connection
    /// that lock waiters hold.
    let lockDatabase: PostgresStorePool
    /// How long a settlement waits for another instance's settlement of the same payment.
    public let lockTimeout: Duration

    /// Uses `database` (and a second pool to the same server for locks), creating the tables if missing.
    public init(database: PostgresStorePool, lockConnections: Int = 32, lockTimeout: Duration = .seconds(120)) async throws(PostgresStoreError) {
        self.database = database
        self.lockTimeout = lockTimeout
        lockDatabase = try await PostgresStorePool.open(database.location, maximumConnections: lockConnections, logger: database.logger)
        try await database.migrate(
            "settlement",
            [
                """
                CREATE TABLE IF NOT EXISTS x402_settlement_journal (
                    id TEXT PRIMARY KEY,
                    network TEXT NOT NULL,
                    scheme TEXT NOT NULL,
                    status TEXT NOT NULL,
                    payer TEXT,
                    tx TEXT,
                    scheme_key TEXT,
                    response TEXT,
                    created_at DOUBLE PRECISION NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX IF NOT EXISTS x402_settlement_journal_status ON x402_settlement_journal (status, created_at)",
                """
                CREATE TABLE IF NOT EXISTS x402_scheme_settlements (
                    key TEXT PRIMARY KEY,
                    tx TEXT NOT NULL,
                    status TEXT NOT NULL,
                    reason TEXT,
                    message TEXT,
                    updated_at BIGINT NOT NULL
                )
                """,
                "ALTER TABLE x402_scheme_settlements ADD COLUMN IF NOT EXISTS detail TEXT",
            ])
    }

    /// Opens pools to the database at `url` (`postgres://user@host:port/database`) and the store in it.
    public static func connect(
        url: String, maximumConnections: Int = 20, logger: Logger = Logger(label: "x402.postgres")
    )
        async throws(PostgresStoreError) -> PostgresSettlementStore
    {
        let database = try await PostgresStorePool.open(PostgresLocation(url: url), maximumConnections: maximumConnections, logger: logger)
        return try await PostgresSettlementStore(database: database)
    }

    /// Stops both pools.
    public func close() {
        database.close()
        lockDatabase.close()
    }

    // MARK: Per-payment lock

    /// Runs `body` while holding the database-wide lock for `key` (a transaction-scoped advisory
    /// lock: released when `body` ends, or by the server if this process dies).
    ///
    /// Throws only when `body` did not run (the lock could not be taken). Once `body` has run, its
    /// result is returned even if releasing the lock fails (a dropped connection or a failed
    /// COMMIT): the body may have sent a transaction, so "nothing was done" would be a lie.
    public func exclusively<T: Sendable>(_ key: String, _ body: @escaping @Sendable () async -> T) async throws(PostgresStoreError) -> T {
        let lockKey = PostgresStorePool.lockKey("x402 settle " + key)
        let timeoutMilliseconds = Int64(lockTimeout.components.seconds * 1000 + lockTimeout.components.attoseconds / 1_000_000_000_000_000)
        let outcome = BodyOutcome<T>()
        let lockDatabase = self.lockDatabase
        let logger = database.logger
        let transaction = Task { () async -> Result<T, PostgresStoreError> in
            do {
                return .success(
                    try await lockDatabase.client.withTransaction(logger: lockDatabase.logger) { connection in
                        try await connection.query(
                            PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = \(max(1, timeoutMilliseconds))"), logger: lockDatabase.logger)
                        try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: lockDatabase.logger)
                        let result = await body()
                        outcome.set(result)
                        return result
                    })
            } catch {
                if let result = outcome.value {
                    logger.warning(
                        "settlement lock release failed after the settlement ran; returning its result",
                        metadata: ["error": "\(PostgresStorePool.describe(error))"])
                    return .success(result)
                }
                if let error = error as? PostgresStoreError { return .failure(error) }
                return .failure(PostgresStoreError("cannot take the settlement lock: \(PostgresStorePool.describe(error))"))
            }
        }
        // Releasing the lock (COMMIT) on a connection the server has terminated can wait forever in
        // the driver. Once the body has run, its result is the answer: it is returned when the
        // transaction ends, or `releaseGrace` after the body finished, whichever comes first (the
        // server drops the lock of a terminated backend by itself).
        let answer = OnceAnswer<Result<T, PostgresStoreError>>()
        return try await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, PostgresStoreError>, Never>) in
            answer.start(continuation)
            Task { answer.resume(await transaction.value) }
            Task {
                while !answer.isDone, outcome.value == nil { try? await Task.sleep(for: .milliseconds(50)) }
                guard !answer.isDone else { return }
                try? await Task.sleep(for: Self.releaseGrace)
                guard !answer.isDone, let result = outcome.value else { return }
                logger.warning("settlement lock release did not finish; returning the settlement's result")
                answer.resume(.success(result))
            }
        }.get()
    }

    /// How long after the settlement ran the lock release may take before the result is returned
    /// without it.
    static let releaseGrace: Duration = .seconds(5)

    // MARK: SettlementJournalStore

    public func entry(id: String) async throws -> SettlementJournalEntry? {
        let rows = try await database.client.query(
            "SELECT id, network, scheme, status, payer, tx, scheme_key, response, created_at, updated_at FROM x402_settlement_journal WHERE id = \(id)",
            logger: database.logger)
        for try await row in rows.decode(JournalRow.self) { return try Self.entry(from: row) }
        return nil
    }

    public func save(_ entry: SettlementJournalEntry) async throws {
        let response = entry.response.map { String(decoding: $0.jsonBytes(), as: UTF8.self) }
        let created = entry.createdAt.timeIntervalSince1970
        let updated = entry.updatedAt.timeIntervalSince1970
        try await database.client.query(
            """
            INSERT INTO x402_settlement_journal (id, network, scheme, status, payer, tx, scheme_key, response, created_at, updated_at)
            VALUES (\(entry.id), \(entry.network), \(entry.scheme), \(entry.status.rawValue), \(entry.payer), \(entry.transaction),
                \(entry.schemeKey), \(response), \(created), \(updated))
            ON CONFLICT (id) DO UPDATE SET
                network = EXCLUDED.network, scheme = EXCLUDED.scheme, status = EXCLUDED.status, payer = EXCLUDED.payer,
                tx = EXCLUDED.tx, scheme_key = EXCLUDED.scheme_key, response = EXCLUDED.response, updated_at = EXCLUDED.updated_at
            """,
            logger: database.logger)
    }

    public func entries(in statuses: Set<SettlementJournalEntry.Status>) async throws -> [SettlementJournalEntry] {
        let names = statuses.map(\.rawValue).sorted()
        guard !names.isEmpty else { return [] }
        let rows = try await database.client.query(
            """
            SELECT id, network, scheme, status, payer, tx, scheme_key, response, created_at, updated_at
            FROM x402_settlement_journal WHERE status = ANY(\(names)) ORDER BY created_at, id
            """,
            logger: database.logger)
        var entries: [SettlementJournalEntry] = []
        for try await row in rows.decode(JournalRow.self) { entries.append(try Self.entry(from: row)) }
        return entries
    }

    private typealias JournalRow = (String, String, String, String, String?, String?, String?, String?, Double, Double)

    private static func entry(from row: JournalRow) throws -> SettlementJournalEntry {
        let (id, network, scheme, statusText, payer, transaction, schemeKey, responseText, created, updated) = row
        guard let status = SettlementJournalEntry.Status(rawValue: statusText) else {
            throw PostgresStoreError("x402_settlement_journal row \(id) has unknown status \(statusText)")
        }
        var response: SettleResponse?
        if let responseText {
            do {
                response = try SettleResponse(jsonBytes: Array(responseText.utf8))
            } catch {
                throw PostgresStoreError("x402_settlement_journal row \(id) holds an unreadable response: \(error)")
            }
        }
        return SettlementJournalEntry(
            id: id, network: network, scheme: scheme, status: status, payer: payer, transaction: transaction, schemeKey: schemeKey,
            response: response, createdAt: Date(timeIntervalSince1970: created), updatedAt: Date(timeIntervalSince1970: updated))
    }

    // MARK: Scheme records

    /// The scheme record for `key`, if any.
    public func schemeRecord(key: String) async throws -> SchemeSettlementRow? {
        let rows = try await database.client.query(
            "SELECT key, tx, status, reason, message, updated_at, detail FROM x402_scheme_settlements WHERE key = \(key)",
            logger: database.logger)
        for try await (key, transaction, status, reason, message, updatedAt, detail)
            in rows.decode((String, String, String, String?, String?, Int64, String?).self)
        {
            return SchemeSettlementRow(
                key: key, transaction: transaction, status: status, reason: reason, message: message, updatedAt: updatedAt, detail: detail)
        }
        return nil
    }

    /// Rows with `status`, oldest update first, at most `limit`.
    public func schemeRecords(status: String, limit: Int) async throws -> [SchemeSettlementRow] {
        let rows = try await database.client.query(
            """
            SELECT key, tx, status, reason, message, updated_at, detail FROM x402_scheme_settlements
            WHERE status = \(status) ORDER BY updated_at, key LIMIT \(max(0, limit))
            """,
            logger: database.logger)
        var result: [SchemeSettlementRow] = []
        for try await (key, transaction, status, reason, message, updatedAt, detail)
            in rows.decode((String, String, String, String?, String?, Int64, String?).self)
        {
            result.append(
                SchemeSettlementRow(
                    key: key, transaction: transaction, status: status, reason: reason, message: message, updatedAt: updatedAt,
                    detail: detail))
        }
        return result
    }

    /// Inserts or replaces the scheme record for `row.key`.
    public func saveSchemeRecord(_ row: SchemeSettlementRow) async throws {
        try await database.client.query(
            """
            INSERT INTO x402_scheme_settlements (key, tx, status, reason, message, updated_at, detail)
            VALUES (\(row.key), \(row.transaction), \(row.status), \(row.reason), \(row.message), \(row.updatedAt), \(row.detail))
            ON CONFLICT (key) DO UPDATE SET tx = EXCLUDED.tx, status = EXCLUDED.status, reason = EXCLUDED.reason,
                message = EXCLUDED.message, updated_at = EXCLUDED.updated_at, detail = EXCLUDED.detail
            """,
            logger: database.logger)
    }

    /// Forgets the scheme record for `key`.
    public func removeSchemeRecord(key: String) async throws {
        try await database.client.query("DELETE FROM x402_scheme_settlements WHERE key = \(key)", logger: database.logger)
    }
}

/// The result of a body run under a lock, kept so that a failure after the body ran cannot hide it.
/// The first of several answers, handed to a continuation exactly once.
final class OnceAnswer<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Never>?
        var pending: T?
        var done = false
    }

    private let state = NIOLockedValueBox(State())

    var isDone: Bool { state.withLockedValue { $0.done } }

    func start(_ continuation: CheckedContinuation<T, Never>) {
        let early: T? = state.withLockedValue { state in
            if let pending = state.pending {
                state.pending = nil
                return pending
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ value: T) {
        let waiting: CheckedContinuation<T, Never>? = state.withLockedValue { state in
            guard !state.done else { return nil }
            state.done = true
            if let continuation = state.continuation {
                state.continuation = nil
                return continuation
            }
            state.pending = value
            return nil
        }
        waiting?.resume(returning: value)
    }
}

final class BodyOutcome<T: Sendable>: Sendable {
    private let result = NIOLockedValueBox<T?>(nil)
    var value: T? { result.withLockedValue { $0 } }
    func set(_ value: T) { result.withLockedValue { $0 = value } }
}

extension PostgresSettlementStore: SettlementExclusion {
    /// Runs a settlement under ``exclusively(_:_:)``: one settlement of a payment at a time across
    /// every instance sharing the database.
    /// - Parameters:
    ///   - key: The payment's identity key.
    ///   - body: The settlement.
    /// - Returns: The settlement's answer.
    /// - Throws: ``PostgresStoreError`` when the lock could not be taken (`body` did not run).
    public func exclusively(payment key: String, _ body: @escaping @Sendable () async -> SettleResponse) async throws -> SettleResponse {
        try await exclusively(key, body)
    }
}
#endif  // PostgreSQL
