// Compiled only with the package trait `PostgreSQL` (on by default); see Package.swift.
#if PostgreSQL
public import Foundation
public import Logging
import PostgresNIO
public import X402

/// A `PaymentStateStore` in PostgreSQL, shared by every resource-server instance that uses the
/// same database: a payment claimed on one instance is rejected on all others until it is
/// released or has failed.
///
/// A claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement, so two instances racing for
/// the same payment cannot both win; the row takes the place of the in-memory store's record
/// and lease. Times come from the callers' `now` (as with the in-memory store), stored as Unix
/// seconds. Settled and failed records older than `retention` are pruned now and then.
public final class PostgresPaymentStateStore: PaymentStateStore, PaymentIdentifierStore {
    public let database: PostgresStorePool
    /// How long settled and failed records are kept.
    public let retention: Duration
    private let table: String
    private let pruneClock = PruneClock()

    /// Uses `database`, creating the table (default `x402_payment_state`) if missing.
    public init(
        database: PostgresStorePool, table: String = "x402_payment_state", retention: Duration = .seconds(24 * 3600)
    )
        async throws(PostgresStoreError)
    {
        guard table.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !table.isEmpty else {
            throw PostgresStoreError("invalid table name \(table)")
        }
        self.database = database
        self.table = table
        self.retention = retention
        try await database.migrate(
            "payment state",
            [
                """
                CREATE TABLE IF NOT EXISTS \(table) (
                    identity TEXT PRIMARY KEY,
                    phase TEXT NOT NULL,
                    payer TEXT,
                    tx TEXT,
                    updated_at DOUBLE PRECISION NOT NULL,
                    lease_expires_at DOUBLE PRECISION
                )
                """,
                "CREATE INDEX IF NOT EXISTS \(table)_phase ON \(table) (phase, updated_at)",
                "ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS settlement_id TEXT",
                "CREATE TABLE IF NOT EXISTS \(table)_ids (key TEXT PRIMARY KEY, identity TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)",
                "CREATE INDEX IF NOT EXISTS \(table)_ids_created ON \(table)_ids (created_at)",
            ])
    }

    /// Opens a pool to the database at `url` (`postgres://user@host:port/database`) and the store in it.
    public static func connect(
        url: String, maximumConnections: Int = 20, retention: Duration = .seconds(24 * 3600), logger: Logger = Logger(label: "x402.postgres")
    ) async throws(PostgresStoreError) -> PostgresPaymentStateStore {
        let database = try await PostgresStorePool.open(PostgresLocation(url: url), maximumConnections: maximumConnections, logger: logger)
        return try await PostgresPaymentStateStore(database: database, retention: retention)
    }

    public func claim(_ identity: PaymentIdentity, lease: Duration, now: Date) async throws(PaymentStateStoreError) -> PaymentClaim {
        await pruneIfDue(now: now)
        let at = now.timeIntervalSince1970
        let expiry = now.addingTimeInterval(lease.seconds).timeIntervalSince1970
        let key = identity.key
        // A row that vanished between the failed insert and the read (released meanwhile) is claimed again.
        for _ in 0..<5 {
            // A pending record keeps its phase, payer, transaction and settlement id when claimed.
            let claimed = try await run { [table] () async throws -> PaymentRecord? in
                var query = PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table) AS t (identity, phase, payer, tx, updated_at, lease_expires_at, settlement_id)
                        VALUES ($1, 'presented', NULL, NULL, $2, $3, NULL)
                        ON CONFLICT (identity) DO UPDATE SET
                            phase = CASE WHEN t.phase = 'pending' THEN 'pending' ELSE 'presented' END,
                            payer = CASE WHEN t.phase = 'pending' THEN t.payer ELSE NULL END,
                            tx = CASE WHEN t.phase = 'pending' THEN t.tx ELSE NULL END,
                            settlement_id = CASE WHEN t.phase = 'pending' THEN t.settlement_id ELSE NULL END,
                            updated_at = EXCLUDED.updated_at, lease_expires_at = EXCLUDED.lease_expires_at
                        WHERE t.phase = 'failed'
                            OR (t.phase IN ('presented', 'verified', 'pending') AND (t.lease_expires_at IS NULL OR t.lease_expires_at <= $2))
                        RETURNING phase, payer, tx, updated_at, settlement_id
                        """)
                query.binds.append(key, context: .default)
                query.binds.append(at, context: .default)
                query.binds.append(expiry, context: .default)
                let rows = try await self.database.client.query(query, logger: self.database.logger)
                for try await (phaseText, payer, transaction, updatedAt, settlementID) in rows.decode(
                    (String, String?, String?, Double, String?).self)
                {
                    return PaymentRecord(
                        identity: identity, phase: PaymentPhase(rawValue: phaseText) ?? .presented, payer: payer, transaction: transaction,
                        updatedAt: Date(timeIntervalSince1970: updatedAt), settlementID: settlementID)
                }
                return nil
            }
            if let claimed { return claimed.phase == .pending ? .resumed(claimed) : .claimed }
            if let existing = try await record(for: identity) { return .rejected(existing) }
        }
        throw .unavailable("the claim on \(key) kept changing under concurrent updates")
    }

    public func update(
        _ identity: PaymentIdentity, to phase: PaymentPhase, payer: String?, transaction: String?, now: Date
    )
        async throws(PaymentStateStoreError)
    {
        try await run { [table] in
            var query = PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(table) AS t (identity, phase, payer, tx, updated_at, lease_expires_at)
                    VALUES ($1, $2, $3, $4, $5, NULL)
                    ON CONFLICT (identity) DO UPDATE SET phase = EXCLUDED.phase, payer = COALESCE(EXCLUDED.payer, t.payer),
                        tx = COALESCE(EXCLUDED.tx, t.tx), updated_at = EXCLUDED.updated_at,
                        lease_expires_at = CASE WHEN EXCLUDED.phase IN ('settled', 'failed', 'pending') THEN NULL ELSE t.lease_expires_at END,
                        settlement_id = CASE WHEN EXCLUDED.phase = 'pending' THEN t.settlement_id ELSE NULL END
                    """)
            query.binds.append(identity.key, context: .default)
            query.binds.append(phase.rawValue, context: .default)
            query.binds.append(payer, context: .default)
            query.binds.append(transaction, context: .default)
            query.binds.append(now.timeIntervalSince1970, context: .default)
            try await self.database.client.query(query, logger: self.database.logger)
        }
    }

    public func beginSettlement(_ identity: PaymentIdentity, settlementID: String, now: Date) async throws(PaymentStateStoreError) {
        try await run { [table] in
            var query = PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(table) AS t (identity, phase, payer, tx, updated_at, lease_expires_at, settlement_id)
                    VALUES ($1, 'pending', NULL, NULL, $2, NULL, $3)
                    ON CONFLICT (identity) DO UPDATE SET phase = 'pending', settlement_id = EXCLUDED.settlement_id, updated_at = EXCLUDED.updated_at
                    """)
            query.binds.append(identity.key, context: .default)
            query.binds.append(now.timeIntervalSince1970, context: .default)
            query.binds.append(settlementID, context: .default)
            try await self.database.client.query(query, logger: self.database.logger)
        }
    }

    public func release(_ identity: PaymentIdentity) async throws(PaymentStateStoreError) {
        try await run { [table] in
            var query = PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE identity = $1")
            query.binds.append(identity.key, context: .default)
            try await self.database.client.query(query, logger: self.database.logger)
        }
    }

    public func record(for identity: PaymentIdentity) async throws(PaymentStateStoreError) -> PaymentRecord? {
        try await run { [table] () async throws -> PaymentRecord? in
            var query = PostgresQuery(unsafeSQL: "SELECT phase, payer, tx, updated_at, settlement_id FROM \(table) WHERE identity = $1")
            query.binds.append(identity.key, context: .default)
            let rows = try await self.database.client.query(query, logger: self.database.logger)
            for try await (phaseText, payer, transaction, updatedAt, settlementID) in rows.decode((String, String?, String?, Double, String?).self) {
                guard let phase = PaymentPhase(rawValue: phaseText) else {
                    throw PostgresStoreError("payment \(identity.key) has unknown phase \(phaseText)")
                }
                return PaymentRecord(
                    identity: identity, phase: phase, payer: payer, transaction: transaction,
                    updatedAt: Date(timeIntervalSince1970: updatedAt), settlementID: settlementID)
            }
            return nil
        }
    }

    /// Binds a `payment-identifier` id to a payment: one `INSERT … ON CONFLICT DO NOTHING
    /// RETURNING`, then a read of the owner, so two instances binding the same id agree on one payment.
    public func bind(paymentID id: String, to identity: PaymentIdentity, now: Date) async throws(PaymentStateStoreError) -> PaymentIdentifierBinding {
        let key = PaymentIdentifier.storageKey(id)
        return try await run { [table] () async throws -> PaymentIdentifierBinding in
            // A binding pruned between the two statements (it was older than the retention) is
            // bound again; a second disappearance is reported.
            for _ in 0..<2 {
                var insert = PostgresQuery(
                    unsafeSQL: "INSERT INTO \(table)_ids (key, identity, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING 1")
                insert.binds.append(key, context: .default)
                insert.binds.append(identity.key, context: .default)
                insert.binds.append(now.timeIntervalSince1970, context: .default)
                for try await _ in try await self.database.client.query(insert, logger: self.database.logger) { return .new }
                var select = PostgresQuery(unsafeSQL: "SELECT identity FROM \(table)_ids WHERE key = $1")
                select.binds.append(key, context: .default)
                for try await owner in try await self.database.client.query(select, logger: self.database.logger).decode(String.self) {
                    return .of(existing: owner, for: identity)
                }
            }
            throw PostgresStoreError("payment identifier \(key) vanished while being bound")
        }
    }

    /// Deletes settled and failed records older than ``retention``, at most once a minute per instance.
    private func pruneIfDue(now: Date) async {
        guard await pruneClock.isDue(now: now) else { return }
        let cutoff = now.timeIntervalSince1970 - retention.seconds
        try? await run { [table] in
            var query = PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE phase IN ('settled', 'failed') AND updated_at < $1")
            query.binds.append(cutoff, context: .default)
            try await self.database.client.query(query, logger: self.database.logger)
            var ids = PostgresQuery(unsafeSQL: "DELETE FROM \(table)_ids WHERE created_at < $1")
            ids.binds.append(cutoff, context: .default)
            try await self.database.client.query(ids, logger: self.database.logger)
        }
    }

    private func run<T>(_ body: () async throws -> T) async throws(PaymentStateStoreError) -> T {
        do {
            return try await body()
        } catch {
            throw .unavailable("\(database.location): \(PostgresStorePool.describe(error))")
        }
    }
}
#endif  // PostgreSQL
