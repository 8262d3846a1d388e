public import Foundation
import GRDB
public import X402

/// A `PaymentStateStore` in an SQLite file (GRDB, WAL), shared by every resource-server process
/// on this machine that opens the same file.
///
/// A claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement inside a write transaction,
/// so two processes racing for the same payment cannot both win. Times come from the callers'
/// `now` (as with the in-memory store), stored as Unix seconds. Settled and failed records older
/// than `retention` are pruned now and then.
public final class SQLitePaymentStateStore: PaymentStateStore, PaymentIdentifierStore {
    private let writer: any DatabaseWriter
    /// How long settled and failed records are kept.
    public let retention: Duration
    private let pruneClock = PruneClock()

    /// Opens (creating if needed) the database at `path`.
    public init(path: String, retention: Duration = .seconds(24 * 3600)) throws {
        writer = try SQLiteFile.open(path: path, busyTimeout: 10, migrator: Self.migrator)
        self.retention = retention
    }

    /// A private in-memory database (one process only; for tests).
    public init(retention: Duration = .seconds(24 * 3600)) throws {
        writer = try SQLiteFile.inMemory(migrator: Self.migrator)
        self.retention = retention
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: payment state") { db in
            try db.execute(
                sql: """
                    CREATE TABLE payment_state (
                        identity TEXT PRIMARY KEY NOT NULL,
                        phase TEXT NOT NULL,
                        payer TEXT,
                        "transaction" TEXT,
                        updated_at REAL NOT NULL,
                        lease_expires_at REAL
                    );
                    CREATE INDEX payment_state_phase ON payment_state(phase, updated_at);
                    """)
        }
        migrator.registerMigration("v2: pending settlements") { db in
            try db.execute(sql: "ALTER TABLE payment_state ADD COLUMN settlement_id TEXT")
        }
        migrator.registerMigration("v3: payment identifiers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE payment_identifier (
                        key TEXT PRIMARY KEY NOT NULL,
                        identity TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX payment_identifier_created ON payment_identifier(created_at);
                    """)
        }
        return migrator
    }

    public func claim(_ identity: PaymentIdentity, lease: Duration, now: Date) async throws(PaymentStateStoreError) -> PaymentClaim {
        let prune = await pruneClock.isDue(now: now)
        let cutoff = now.timeIntervalSince1970 - retention.seconds
        let at = now.timeIntervalSince1970
        let expiry = at + lease.seconds
        return try await run { [writer] in
            try await writer.write { db -> PaymentClaim in
                if prune {
                    try db.execute(
                        sql: "DELETE FROM payment_state WHERE phase IN ('settled', 'failed') AND updated_at < ?", arguments: [cutoff])
                    try db.execute(sql: "DELETE FROM payment_identifier WHERE created_at < ?", arguments: [cutoff])
                }
                // A pending record keeps its phase, payer, transaction and settlement id when claimed.
                try db.execute(
                    sql: """
                        INSERT INTO payment_state (identity, phase, payer, "transaction", updated_at, lease_expires_at, settlement_id)
                        VALUES (?, 'presented', NULL, NULL, ?, ?, NULL)
                        ON CONFLICT(identity) DO UPDATE SET
                            phase = CASE WHEN payment_state.phase = 'pending' THEN 'pending' ELSE 'presented' END,
                            payer = CASE WHEN payment_state.phase = 'pending' THEN payment_state.payer ELSE NULL END,
                            "transaction" = CASE WHEN payment_state.phase = 'pending' THEN payment_state."transaction" ELSE NULL END,
                            settlement_id = CASE WHEN payment_state.phase = 'pending' THEN payment_state.settlement_id ELSE NULL END,
                            updated_at = excluded.updated_at, lease_expires_at = excluded.lease_expires_at
                        WHERE payment_state.phase = 'failed'
                            OR (payment_state.phase IN ('presented', 'verified', 'pending')
                                AND (payment_state.lease_expires_at IS NULL OR payment_state.lease_expires_at <= ?))
                        """,
                    arguments: [identity.key, at, expiry, at])
                let claimed = db.changesCount > 0
                guard let existing = try Self.fetch(identity, in: db) else {
                    throw SQLiteStoreError("payment \(identity.key) vanished during its claim")
                }
                if claimed { return existing.phase == .pending ? .resumed(existing) : .claimed }
                return .rejected(existing)
            }
        }
    }

    public func update(
        _ identity: PaymentIdentity, to phase: PaymentPhase, payer: String?, transaction: String?, now: Date
    )
        async throws(PaymentStateStoreError)
    {
        try await run { [writer] in
            try await writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO payment_state (identity, phase, payer, "transaction", updated_at, lease_expires_at)
                        VALUES (?, ?, ?, ?, ?, NULL)
                        ON CONFLICT(identity) DO UPDATE SET phase = excluded.phase,
                            payer = COALESCE(excluded.payer, payment_state.payer),
                            "transaction" = COALESCE(excluded."transaction", payment_state."transaction"),
                            updated_at = excluded.updated_at,
                            lease_expires_at = CASE WHEN excluded.phase IN ('settled', 'failed', 'pending') THEN NULL
                                ELSE payment_state.lease_expires_at END,
                            settlement_id = CASE WHEN excluded.phase = 'pending' THEN payment_state.settlement_id ELSE NULL END
                        """,
                    arguments: [identity.key, phase.rawValue, payer, transaction, now.timeIntervalSince1970])
            }
        }
    }

    public func beginSettlement(_ identity: PaymentIdentity, settlementID: String, now: Date) async throws(PaymentStateStoreError) {
        try await run { [writer] in
            try await writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO payment_state (identity, phase, payer, "transaction", updated_at, lease_expires_at, settlement_id)
                        VALUES (?, 'pending', NULL, NULL, ?, NULL, ?)
                        ON CONFLICT(identity) DO UPDATE SET phase = 'pending', settlement_id = excluded.settlement_id,
                            updated_at = excluded.updated_at
                        """,
                    arguments: [identity.key, now.timeIntervalSince1970, settlementID])
            }
        }
    }

    public func release(_ identity: PaymentIdentity) async throws(PaymentStateStoreError) {
        try await run { [writer] in
            try await writer.write { db in
                try db.execute(sql: "DELETE FROM payment_state WHERE identity = ?", arguments: [identity.key])
            }
        }
    }

    public func record(for identity: PaymentIdentity) async throws(PaymentStateStoreError) -> PaymentRecord? {
        try await run { [writer] in
            try await writer.read { db in try Self.fetch(identity, in: db) }
        }
    }

    /// Binds a `payment-identifier` id to a payment (one `INSERT … ON CONFLICT DO NOTHING`, then
    /// a read of the owner), so two processes binding the same id agree on one payment.
    public func bind(paymentID id: String, to identity: PaymentIdentity, now: Date) async throws(PaymentStateStoreError) -> PaymentIdentifierBinding {
        let key = PaymentIdentifier.storageKey(id)
        return try await run { [writer] in
            try await writer.write { db -> PaymentIdentifierBinding in
                try db.execute(
                    sql: "INSERT INTO payment_identifier (key, identity, created_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING",
                    arguments: [key, identity.key, now.timeIntervalSince1970])
                if db.changesCount > 0 { return .new }
                let owner = try String.fetchOne(db, sql: "SELECT identity FROM payment_identifier WHERE key = ?", arguments: [key]) ?? ""
                return .of(existing: owner, for: identity)
            }
        }
    }

    private static func fetch(_ identity: PaymentIdentity, in db: Database) throws -> PaymentRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM payment_state WHERE identity = ?", arguments: [identity.key]) else {
            return nil
        }
        let phaseText: String = row["phase"]
        guard let phase = PaymentPhase(rawValue: phaseText) else {
            throw SQLiteStoreError("payment_state row \(identity.key) has unknown phase \(phaseText)")
        }
        return PaymentRecord(
            identity: identity, phase: phase, payer: row["payer"], transaction: row["transaction"],
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]), settlementID: row["settlement_id"])
    }

    private func run<T>(_ body: () async throws -> T) async throws(PaymentStateStoreError) -> T {
        do {
            return try await body()
        } catch {
            throw .unavailable("SQLite: \(error)")
        }
    }
}
