public import Foundation
import GRDB
public import X402

/// The buyer's spend ledger in SQLite (GRDB), at a path the user chooses.
///
/// The file uses WAL mode. A reservation reads the wallet's spending in the budget window and
/// inserts the new attempt inside one `BEGIN IMMEDIATE` transaction, which takes SQLite's write
/// lock before reading, so payers in several processes sharing the file can never overspend
/// together. Every payment attempt stays in the file with its outcome and settlement receipt.
public final class SQLiteSpendLedger: SpendLedger, Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating if needed) the ledger at `path`; waits up to `busyTimeout` seconds for
    /// another process's write to finish.
    public init(path: String, busyTimeout: TimeInterval = 10) throws {
        writer = try SQLiteFile.open(path: path, busyTimeout: busyTimeout, migrator: Self.migrator)
    }

    /// A private in-memory ledger (one process only; for tests).
    public init() throws {
        writer = try SQLiteFile.inMemory(migrator: Self.migrator)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("spend ledger v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE spend_ledger (
                        id TEXT PRIMARY KEY NOT NULL,
                        wallet TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        resource TEXT,
                        x402_version INTEGER NOT NULL,
                        scheme TEXT NOT NULL,
                        network TEXT NOT NULL,
                        asset TEXT NOT NULL,
                        pay_to TEXT NOT NULL,
                        amount TEXT NOT NULL,
                        value_attodollars TEXT NOT NULL,
                        status TEXT NOT NULL,
                        "transaction" TEXT,
                        payer TEXT,
                        failure_reason TEXT,
                        receipt TEXT,
                        completed_at REAL
                    );
                    CREATE INDEX spend_ledger_wallet_time ON spend_ledger(wallet, created_at);
                    """)
        }
        // v2: the signed authorization (for on-chain reconciliation) and the `unconfirmed` status.
        // Additive: rows written by v1 keep their columns; their new columns are NULL, so they are
        // never reconciled (a v1 `pending` row keeps counting until it leaves the budget window).
        migrator.registerMigration("spend ledger v2: authorizations") { db in
            try db.execute(
                sql: """
                    ALTER TABLE spend_ledger ADD COLUMN authorizer TEXT;
                    ALTER TABLE spend_ledger ADD COLUMN auth_nonce TEXT;
                    ALTER TABLE spend_ledger ADD COLUMN valid_before REAL;
                    CREATE INDEX spend_ledger_open_expiry ON spend_ledger(valid_before) WHERE status IN ('pending', 'unconfirmed');
                    """)
        }
        migrator.registerMigration("spend ledger v3: offer-receipt receipts") { db in try Self.createReceiptTable(db) }
        return migrator
    }

    public func reserve(_ record: SpendRecord, budget: SpendBudget?, now: Date) async throws {
        try await reserve(record, budget: budget, hostBudget: nil, now: now)
    }

    /// Reserves as ``reserve(_:budget:now:)`` does, also checking the spending on the record's
    /// host against `hostBudget` inside the same `BEGIN IMMEDIATE` transaction.
    public func reserve(_ record: SpendRecord, budget: SpendBudget?, hostBudget: HostBudget?, now: Date) async throws {
        try await writer.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM spend_ledger WHERE id = ?", arguments: [record.id.uuidString]) == true {
                    throw SpendLedgerError.duplicateRecord(record.id)
                }
                if let hostBudget, record.host == hostBudget.host {
                    let since = now.addingTimeInterval(-hostBudget.budget.window.seconds)
                    let spent = try Self.spent(db, wallet: record.wallet, host: hostBudget.host, since: since, until: now)
                    if spent + record.value > hostBudget.budget.limit {
                        throw PaymentRefusal.exceedsHostBudget(
                            host: hostBudget.host, amount: record.value, spent: spent, budget: hostBudget.budget.limit,
                            window: hostBudget.budget.window)
                    }
                }
                if let budget {
                    let since = now.addingTimeInterval(-budget.window.seconds)
                    let spent = try Self.spent(db, wallet: record.wallet, since: since, until: now)
                    if spent + record.value > budget.limit {
                        throw PaymentRefusal.exceedsBudget(amount: record.value, spent: spent, budget: budget.limit, window: budget.window)
                    }
                }
                try db.execute(
                    sql: """
                        INSERT INTO spend_ledger (id, wallet, created_at, resource, x402_version, scheme, network, asset, pay_to,
                            amount, value_attodollars, status)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')
                        """,
                    arguments: [
                        record.id.uuidString, record.wallet, record.createdAt.timeIntervalSince1970, record.resource,
                        record.version.rawValue, record.scheme, record.network, record.asset, record.payTo, record.amount,
                        record.value.attodollars.decimalString,
                    ])
                return .commit
            }
        }
    }

    public func markSettled(_ id: UUID, receipt: SettleResponse, at: Date) async throws {
        try await update(id) { db in
            try db.execute(
                sql: """
                    UPDATE spend_ledger SET status = 'settled', "transaction" = ?, payer = ?, receipt = ?, completed_at = ?, failure_reason = NULL
                    WHERE id = ?
                    """,
                arguments: [
                    receipt.transaction, receipt.payer, String(decoding: receipt.json.serialized(), as: UTF8.self), at.timeIntervalSince1970,
                    id.uuidString,
                ])
        }
    }

    public func recordAuthorization(_ id: UUID, _ authorization: SignedAuthorization) async throws {
        try await update(id) { db in
            try db.execute(
                sql: "UPDATE spend_ledger SET authorizer = ?, auth_nonce = ?, valid_before = ? WHERE id = ?",
                arguments: [authorization.authorizer, authorization.nonce, authorization.validBefore.timeIntervalSince1970, id.uuidString])
        }
    }

    public func markUnconfirmed(_ id: UUID, reason: String, transaction: String?, at: Date) async throws {
        let transaction = transaction.flatMap { $0.isEmpty ? nil : $0 }
        try await update(id) { db in
            try db.execute(
                sql: """
                    UPDATE spend_ledger SET status = 'unconfirmed', failure_reason = ?, "transaction" = COALESCE(?, "transaction"),
                        completed_at = ?
                    WHERE id = ?
                    """,
                arguments: [reason, transaction, at.timeIntervalSince1970, id.uuidString])
        }
    }

    public func markUsedOnChain(_ id: UUID, at: Date) async throws {
        try await update(id) { db in
            try db.execute(
                sql: "UPDATE spend_ledger SET status = 'settled', completed_at = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, id.uuidString])
        }
    }

    public func expiredOpenAttempts(expiredBy: Date, limit: Int) async throws -> [SpendRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM spend_ledger
                    WHERE status IN ('pending', 'unconfirmed') AND valid_before IS NOT NULL AND valid_before <= ?
                    ORDER BY created_at ASC, rowid ASC LIMIT ?
                    """,
                arguments: [expiredBy.timeIntervalSince1970, max(0, limit)]
            ).compactMap(Self.record)
        }
    }

    public func markFailed(_ id: UUID, reason: String, at: Date) async throws {
        try await update(id) { db in
            try db.execute(
                sql: "UPDATE spend_ledger SET status = 'failed', failure_reason = ?, completed_at = ? WHERE id = ?",
                arguments: [reason, at.timeIntervalSince1970, id.uuidString])
        }
    }

    public func spent(by wallet: String, since: Date) async throws -> DollarAmount {
        try await writer.read { db in try Self.spent(db, wallet: wallet, since: since, until: nil) }
    }

    public func spent(by wallet: String, host: String, since: Date) async throws -> DollarAmount {
        try await writer.read { db in try Self.spent(db, wallet: wallet, host: host, since: since, until: nil) }
    }

    public func history(wallet: String?, limit: Int) async throws -> [SpendRecord] {
        try await writer.read { db in
            let rows: [Row]
            if let wallet {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM spend_ledger WHERE wallet = ? ORDER BY created_at DESC, rowid DESC LIMIT ?", arguments: [wallet, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM spend_ledger ORDER BY created_at DESC, rowid DESC LIMIT ?", arguments: [limit])
            }
            return rows.compactMap(Self.record)
        }
    }

    /// The settlement receipt stored for a settled attempt.
    public func receipt(for id: UUID) async throws -> SettleResponse? {
        try await writer.read { db in
            guard let text = try String.fetchOne(db, sql: "SELECT receipt FROM spend_ledger WHERE id = ?", arguments: [id.uuidString]) else {
                return nil
            }
            return try? SettleResponse(json: JSONValue(parsing: Array(text.utf8)))
        }
    }

    private func update(_ id: UUID, _ change: @escaping @Sendable (Database) throws -> Void) async throws {
        try await writer.write { db in
            try change(db)
            if db.changesCount == 0 { throw SpendLedgerError.unknownRecord(id) }
        }
    }

    private static func spent(_ db: Database, wallet: String, since: Date, until: Date?) throws -> DollarAmount {
        var sql = "SELECT value_attodollars FROM spend_ledger WHERE wallet = ? AND status != 'failed' AND created_at > ?"
        var arguments: StatementArguments = [wallet, since.timeIntervalSince1970]
        if let until {
            sql += " AND created_at <= ?"
            arguments += [until.timeIntervalSince1970]
        }
        return try String.fetchAll(db, sql: sql, arguments: arguments)
            .map { DollarAmount(attodollars: UInt256(decimal: $0) ?? .max) }
            .sum()
    }

    /// The wallet's non-failed spending on `host` (the host of each record's resource URL).
    private static func spent(_ db: Database, wallet: String, host: String, since: Date, until: Date?) throws -> DollarAmount {
        var sql = "SELECT resource, value_attodollars FROM spend_ledger WHERE wallet = ? AND status != 'failed' AND created_at > ?"
        var arguments: StatementArguments = [wallet, since.timeIntervalSince1970]
        if let until {
            sql += " AND created_at <= ?"
            arguments += [until.timeIntervalSince1970]
        }
        let host = RecipientFirewall.normalized(host: host)
        return try Row.fetchAll(db, sql: sql, arguments: arguments)
            .filter { RecipientFirewall.host(of: $0["resource"] as String?) == host }
            .map { DollarAmount(attodollars: UInt256(decimal: $0["value_attodollars"] as String) ?? .max) }
            .sum()
    }

    private static func record(_ row: Row) -> SpendRecord? {
        guard let id = UUID(uuidString: row["id"]), let version = X402Version(rawValue: row["x402_version"]),
            let status = SpendRecord.Status(rawValue: row["status"]), let value = UInt256(decimal: row["value_attodollars"] as String)
        else { return nil }
        let completed: Double? = row["completed_at"]
        var authorization: SignedAuthorization?
        if let authorizer: String = row["authorizer"], let nonce: String = row["auth_nonce"], let before: Double = row["valid_before"] {
            authorization = SignedAuthorization(authorizer: authorizer, nonce: nonce, validBefore: Date(timeIntervalSince1970: before))
        }
        return SpendRecord(
            id: id, wallet: row["wallet"], createdAt: Date(timeIntervalSince1970: row["created_at"]), resource: row["resource"],
            version: version, scheme: row["scheme"], network: row["network"], asset: row["asset"], payTo: row["pay_to"],
            amount: row["amount"], value: DollarAmount(attodollars: value), status: status, transaction: row["transaction"],
            payer: row["payer"], failureReason: row["failure_reason"], completedAt: completed.map { Date(timeIntervalSince1970: $0) },
            authorization: authorization)
    }
}
