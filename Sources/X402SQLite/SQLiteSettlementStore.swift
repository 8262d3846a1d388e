import Foundation
import GRDB
public import X402

/// Settlements in SQLite (GRDB): the facilitator's journal (`SettlementJournalStore`) and the
/// schemes' transfer records.
///
/// A file database uses WAL mode (`DatabasePool`): concurrent reads, serialized writes, and every
/// write committed before the call returns, so a record made before a broadcast survives a crash.
public final class SQLiteSettlementStore: SettlementJournalStore, SchemeSettlementRowStore, Sendable {
    private let writer: any DatabaseWriter

    /// Opens (creating if needed) the database at `path`.
    public init(path: String) throws {
        writer = try SQLiteFile.open(path: path, busyTimeout: 10, migrator: Self.migrator)
    }

    /// A private in-memory database (for tests).
    public init() throws {
        writer = try SQLiteFile.inMemory(migrator: Self.migrator)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: settlement journal and scheme records") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settlement_journal (
                        id TEXT PRIMARY KEY NOT NULL,
                        network TEXT NOT NULL,
                        scheme TEXT NOT NULL,
                        status TEXT NOT NULL,
                        payer TEXT,
                        "transaction" TEXT,
                        scheme_key TEXT,
                        response TEXT,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX settlement_journal_status ON settlement_journal(status, created_at);
                    CREATE TABLE scheme_settlements (
                        key TEXT PRIMARY KEY NOT NULL,
                        "transaction" TEXT NOT NULL,
                        status TEXT NOT NULL,
                        reason TEXT,
                        message TEXT,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX scheme_settlements_status ON scheme_settlements(status);
                    """)
        }
        migrator.registerMigration("v2: scheme record detail") { db in
            try db.execute(sql: "ALTER TABLE scheme_settlements ADD COLUMN detail TEXT")
        }
        return migrator
    }

    // MARK: SettlementJournalStore

    public func entry(id: String) async throws -> SettlementJournalEntry? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM settlement_journal WHERE id = ?", arguments: [id]).map(Self.entry(from:))
        }
    }

    public func save(_ entry: SettlementJournalEntry) async throws {
        let response = entry.response.map { String(decoding: $0.jsonBytes(), as: UTF8.self) }
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO settlement_journal (id, network, scheme, status, payer, "transaction", scheme_key, response, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET
                        network = excluded.network, scheme = excluded.scheme, status = excluded.status, payer = excluded.payer,
                        "transaction" = excluded."transaction", scheme_key = excluded.scheme_key, response = excluded.response,
                        updated_at = excluded.updated_at
                    """,
                arguments: [
                    entry.id, entry.network, entry.scheme, entry.status.rawValue, entry.payer, entry.transaction, entry.schemeKey,
                    response, entry.createdAt.timeIntervalSince1970, entry.updatedAt.timeIntervalSince1970,
                ])
        }
    }

    public func entries(in statuses: Set<SettlementJournalEntry.Status>) async throws -> [SettlementJournalEntry] {
        let names = statuses.map(\.rawValue).sorted()
        guard !names.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        return try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM settlement_journal WHERE status IN (\(placeholders)) ORDER BY created_at, id",
                arguments: StatementArguments(names)
            ).map(Self.entry(from:))
        }
    }

    private static func entry(from row: Row) throws -> SettlementJournalEntry {
        let statusText: String = row["status"]
        guard let status = SettlementJournalEntry.Status(rawValue: statusText) else {
            throw SQLiteStoreError("settlement_journal row has unknown status \(statusText)")
        }
        var response: SettleResponse?
        if let text: String = row["response"] {
            do {
                response = try SettleResponse(jsonBytes: Array(text.utf8))
            } catch {
                throw SQLiteStoreError("settlement_journal row holds an unreadable response: \(error)")
            }
        }
        return SettlementJournalEntry(
            id: row["id"], network: row["network"], scheme: row["scheme"], status: status, payer: row["payer"],
            transaction: row["transaction"], schemeKey: row["scheme_key"], response: response,
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    // MARK: Scheme records

    /// The scheme record for `key`, if any.
    public func schemeRecord(key: String) async throws -> SchemeSettlementRow? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM scheme_settlements WHERE key = ?", arguments: [key]).map { row in
                SchemeSettlementRow(
                    key: row["key"], transaction: row["transaction"], status: row["status"], reason: row["reason"],
                    message: row["message"], updatedAt: row["updated_at"], detail: row["detail"])
            }
        }
    }

    /// Rows with `status`, oldest update first, at most `limit`.
    public func schemeRecords(status: String, limit: Int) async throws -> [SchemeSettlementRow] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM scheme_settlements WHERE status = ? ORDER BY updated_at, key LIMIT ?",
                arguments: [status, max(0, limit)]
            ).map { row in
                SchemeSettlementRow(
                    key: row["key"], transaction: row["transaction"], status: row["status"], reason: row["reason"],
                    message: row["message"], updatedAt: row["updated_at"], detail: row["detail"])
            }
        }
    }

    /// Inserts or replaces the scheme record for `row.key`.
    public func saveSchemeRecord(_ row: SchemeSettlementRow) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO scheme_settlements (key, "transaction", status, reason, message, updated_at, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET "transaction" = excluded."transaction", status = excluded.status,
                        reason = excluded.reason, message = excluded.message, updated_at = excluded.updated_at,
                        detail = excluded.detail
                    """,
                arguments: [row.key, row.transaction, row.status, row.reason, row.message, row.updatedAt, row.detail])
        }
    }

    /// Forgets the scheme record for `key`.
    public func removeSchemeRecord(key: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM scheme_settlements WHERE key = ?", arguments: [key])
        }
    }
}

/// A database content problem.
public struct SQLiteStoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
