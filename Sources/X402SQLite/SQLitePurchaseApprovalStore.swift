public import Foundation
import GRDB
public import X402

/// The owner's approval queue in SQLite (GRDB), in the buyer's spend-ledger file.
///
/// Every state change is one conditional `UPDATE … WHERE status IN (…)` inside a `BEGIN
/// IMMEDIATE` transaction that also appends the change to `purchase_events`, so across
/// processes sharing the file a change happens exactly once: two confirmations racing for one
/// approved purchase see one of them claim it and the other get `nil`.
public final class SQLitePurchaseApprovalStore: PurchaseApprovalStore, Sendable {
    private let writer: any DatabaseWriter

    /// Opens (creating if needed) the queue's tables in the file at `path` (usually the spend
    /// ledger's); waits up to `busyTimeout` seconds for another process's write.
    public init(path: String, busyTimeout: TimeInterval = 10) throws {
        writer = try SQLiteFile.open(path: path, busyTimeout: busyTimeout, setUp: Self.setUp)
    }

    /// A private in-memory store (one process only; for tests).
    public init() throws {
        writer = try SQLiteFile.inMemory(setUp: Self.setUp)
    }

    static func setUp(_ writer: any DatabaseWriter) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS purchase_approvals (
                        fetch_id TEXT PRIMARY KEY NOT NULL,
                        status TEXT NOT NULL,
                        wallet TEXT NOT NULL,
                        url TEXT NOT NULL,
                        method TEXT NOT NULL,
                        host TEXT,
                        x402_version INTEGER NOT NULL,
                        scheme TEXT NOT NULL,
                        network TEXT NOT NULL,
                        asset TEXT NOT NULL,
                        pay_to TEXT NOT NULL,
                        max_amount TEXT NOT NULL,
                        decimals INTEGER,
                        symbol TEXT,
                        value_attodollars TEXT,
                        reasons TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        expires_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        "transaction" TEXT,
                        note TEXT
                    );
                    CREATE INDEX IF NOT EXISTS purchase_approvals_open ON purchase_approvals(status, expires_at);
                    CREATE INDEX IF NOT EXISTS purchase_approvals_created ON purchase_approvals(created_at);
                    CREATE TABLE IF NOT EXISTS purchase_events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        fetch_id TEXT NOT NULL,
                        at REAL NOT NULL,
                        from_status TEXT,
                        to_status TEXT NOT NULL,
                        note TEXT
                    );
                    CREATE INDEX IF NOT EXISTS purchase_events_fetch ON purchase_events(fetch_id, seq);
                    """)
        }
        // Files from before the column: add it (a second process may do so first).
        do {
            try writer.write { db in
                if try !db.columns(in: "purchase_approvals").contains(where: { $0.name == "spend_record" }) {
                    try db.execute(sql: "ALTER TABLE purchase_approvals ADD COLUMN spend_record TEXT")
                }
            }
        } catch {
            let added = try writer.read { db in try db.columns(in: "purchase_approvals").contains { $0.name == "spend_record" } }
            if !added { throw error }
        }
    }

    /// Removes the `spend_record` column, as in files written before it existed (tests only).
    func dropSpendRecordColumnForTesting() async throws {
        try await writer.write { db in try db.execute(sql: "ALTER TABLE purchase_approvals DROP COLUMN spend_record") }
    }

    public func attachSpendRecord(_ fetchID: String, record: UUID) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE purchase_approvals SET spend_record = ? WHERE fetch_id = ? AND status = ?",
                arguments: [record.uuidString, fetchID, PurchaseStatus.paying.rawValue])
            return db.changesCount == 1
        }
    }

    public func create(_ purchase: PendingPurchase) async throws {
        try await writer.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM purchase_approvals WHERE fetch_id = ?", arguments: [purchase.fetchID]) == true {
                    throw PurchaseApprovalError.duplicate(purchase.fetchID)
                }
                let reasons = String(decoding: JSONValue.array(purchase.reasons.map(JSONValue.string)).serialized(), as: UTF8.self)
                try db.execute(
                    sql: """
                        INSERT INTO purchase_approvals (fetch_id, status, wallet, url, method, host, x402_version, scheme, network, asset,
                            pay_to, max_amount, decimals, symbol, value_attodollars, reasons, created_at, expires_at, updated_at,
                            "transaction", note)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        purchase.fetchID, purchase.status.rawValue, purchase.wallet, purchase.url, purchase.method, purchase.host,
                        purchase.version.rawValue, purchase.terms.scheme, purchase.terms.network, purchase.terms.asset, purchase.terms.payTo,
                        purchase.terms.maxAmount.decimalString, purchase.decimals, purchase.symbol, purchase.value?.attodollars.decimalString,
                        reasons, purchase.createdAt.timeIntervalSince1970, purchase.expiresAt.timeIntervalSince1970,
                        purchase.updatedAt.timeIntervalSince1970, purchase.transaction, purchase.note,
                    ])
                try Self.recordEvent(
                    db, PurchaseEvent(fetchID: purchase.fetchID, at: purchase.createdAt, from: nil, to: purchase.status, note: purchase.note))
                return .commit
            }
        }
    }

    public func purchase(_ fetchID: String) async throws -> PendingPurchase? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM purchase_approvals WHERE fetch_id = ?", arguments: [fetchID]).flatMap(Self.purchase)
        }
    }

    public func purchases(statuses: Set<PurchaseStatus>?, limit: Int) async throws -> [PendingPurchase] {
        try await writer.read { db in
            var sql = "SELECT * FROM purchase_approvals"
            var arguments: StatementArguments = []
            if let statuses {
                guard !statuses.isEmpty else { return [] }
                sql += " WHERE status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", ")))"
                arguments += StatementArguments(statuses.map(\.rawValue).sorted())
            }
            sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
            arguments += [max(0, limit)]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap(Self.purchase)
        }
    }

    public func transition(
        _ fetchID: String, from: Set<PurchaseStatus>, to: PurchaseStatus, at: Date, note: String?, transaction: String?, onlyBefore: Date?
    ) async throws -> PendingPurchase? {
        guard !from.isEmpty else { return nil }
        return try await writer.writeWithoutTransaction { db in
            var changed: PendingPurchase?
            try db.inTransaction(.immediate) {
                changed = try Self.transition(db, fetchID, from: from, to: to, at: at, note: note, transaction: transaction, onlyBefore: onlyBefore)
                return .commit
            }
            return changed
        }
    }

    public func expire(dueBy now: Date) async throws -> [PendingPurchase] {
        try await writer.writeWithoutTransaction { db in
            var expired: [PendingPurchase] = []
            try db.inTransaction(.immediate) {
                let open = PurchaseStatus.open.map(\.rawValue).sorted()
                let due = try String.fetchAll(
                    db,
                    sql: "SELECT fetch_id FROM purchase_approvals WHERE status IN (?, ?, ?) AND expires_at <= ? LIMIT 1000",
                    arguments: StatementArguments(open) + [now.timeIntervalSince1970])
                for id in due {
                    if let purchase = try Self.transition(
                        db, id, from: PurchaseStatus.open, to: .expired, at: now, note: "expired", transaction: nil, onlyBefore: nil)
                    {
                        expired.append(purchase)
                    }
                }
                return .commit
            }
            return expired
        }
    }

    public func events(fetchID: String?, limit: Int) async throws -> [PurchaseEvent] {
        try await writer.read { db in
            let rows: [Row]
            if let fetchID {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM purchase_events WHERE fetch_id = ? ORDER BY seq DESC LIMIT ?", arguments: [fetchID, max(0, limit)])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM purchase_events ORDER BY seq DESC LIMIT ?", arguments: [max(0, limit)])
            }
            return rows.compactMap { row in
                guard let to = PurchaseStatus(rawValue: row["to_status"]) else { return nil }
                let from: String? = row["from_status"]
                return PurchaseEvent(
                    fetchID: row["fetch_id"], at: Date(timeIntervalSince1970: row["at"]), from: from.flatMap(PurchaseStatus.init(rawValue:)), to: to,
                    note: row["note"])
            }
        }
    }

    /// The conditional update and its event, inside the caller's transaction.
    private static func transition(
        _ db: Database, _ fetchID: String, from: Set<PurchaseStatus>, to: PurchaseStatus, at: Date, note: String?, transaction: String?,
        onlyBefore: Date?
    ) throws -> PendingPurchase? {
        guard let previous = try String.fetchOne(db, sql: "SELECT status FROM purchase_approvals WHERE fetch_id = ?", arguments: [fetchID]),
            let previousStatus = PurchaseStatus(rawValue: previous), from.contains(previousStatus)
        else { return nil }
        var sql = """
            UPDATE purchase_approvals SET status = ?, updated_at = ?, note = COALESCE(?, note), "transaction" = COALESCE(?, "transaction")
            WHERE fetch_id = ? AND status = ?
            """
        var arguments: StatementArguments = [to.rawValue, at.timeIntervalSince1970, note, transaction, fetchID, previous]
        if let onlyBefore {
            sql += " AND expires_at > ?"
            arguments += [onlyBefore.timeIntervalSince1970]
        }
        try db.execute(sql: sql, arguments: arguments)
        guard db.changesCount == 1 else { return nil }
        try recordEvent(db, PurchaseEvent(fetchID: fetchID, at: at, from: previousStatus, to: to, note: note))
        return try Row.fetchOne(db, sql: "SELECT * FROM purchase_approvals WHERE fetch_id = ?", arguments: [fetchID]).flatMap(purchase)
    }

    private static func recordEvent(_ db: Database, _ event: PurchaseEvent) throws {
        try db.execute(
            sql: "INSERT INTO purchase_events (fetch_id, at, from_status, to_status, note) VALUES (?, ?, ?, ?, ?)",
            arguments: [event.fetchID, event.at.timeIntervalSince1970, event.from?.rawValue, event.to.rawValue, event.note])
    }

    private static func purchase(_ row: Row) -> PendingPurchase? {
        guard let status = PurchaseStatus(rawValue: row["status"]), let version = X402Version(rawValue: row["x402_version"]),
            let maxAmount = UInt256(decimal: row["max_amount"] as String)
        else { return nil }
        let reasonsText: String = row["reasons"]
        let reasons = (try? JSONValue(parsing: Array(reasonsText.utf8)))?.arrayValue?.compactMap(\.stringValue) ?? []
        let valueText: String? = row["value_attodollars"]
        return PendingPurchase(
            fetchID: row["fetch_id"], status: status, wallet: row["wallet"], url: row["url"], method: row["method"], host: row["host"],
            version: version,
            terms: ApprovedTerms(scheme: row["scheme"], network: row["network"], asset: row["asset"], payTo: row["pay_to"], maxAmount: maxAmount),
            decimals: row["decimals"], symbol: row["symbol"],
            value: valueText.flatMap { UInt256(decimal: $0) }.map { DollarAmount(attodollars: $0) }, reasons: reasons,
            createdAt: Date(timeIntervalSince1970: row["created_at"]), expiresAt: Date(timeIntervalSince1970: row["expires_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]), transaction: row["transaction"], note: row["note"],
            spendRecord: (row["spend_record"] as String?).flatMap(UUID.init(uuidString:)))
    }
}
