public import Foundation
import GRDB
public import X402

/// A `DiscoveryStore` in a SQLite file (WAL), normally the facilitator's settlement database:
/// table `discovery_resources` holds each entry's JSON and its update time.
public final class SQLiteDiscoveryStore: DiscoveryStore, Sendable {
    private let writer: any DatabaseWriter

    /// Opens (creating the file, its directory and the table if needed) the store in the file at
    /// `path`, normally the settlement store's file.
    /// - Parameter path: The SQLite file.
    /// - Throws: GRDB's error when the file cannot be opened or the table created.
    public init(path: String) throws {
        writer = try SQLiteFile.open(path: path, busyTimeout: 10, setUp: Self.createTable)
    }

    /// A private in-memory database (tests).
    /// - Throws: GRDB's error when the table cannot be created.
    public init() throws {
        writer = try SQLiteFile.inMemory(setUp: Self.createTable)
    }

    private static func createTable(_ writer: any DatabaseWriter) throws {
        // Created idempotently rather than through a migrator so it can share a file whose
        // migrations belong to the settlement store.
        try writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS discovery_resources (
                        key TEXT PRIMARY KEY NOT NULL,
                        resource TEXT NOT NULL,
                        type TEXT NOT NULL,
                        updated_at DOUBLE NOT NULL,
                        body BLOB NOT NULL);
                    CREATE INDEX IF NOT EXISTS discovery_resources_updated ON discovery_resources(updated_at);
                    CREATE INDEX IF NOT EXISTS discovery_resources_type ON discovery_resources(type, resource);
                    """)
            // Search columns, added to tables made before search existed (their rows match a
            // search once their resource is paid for again).
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(discovery_resources)").map { (row: Row) -> String in row["name"] }
            for column in ["search_text", "accepts_text"] where !columns.contains(column) {
                try db.execute(sql: "ALTER TABLE discovery_resources ADD COLUMN \(column) TEXT NOT NULL DEFAULT ''")
            }
        }
    }

    public func upsert(key: String, resource: DiscoveryResource) async throws {
        let body = Data(resource.jsonBytes())
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO discovery_resources (key, resource, type, updated_at, body, search_text, accepts_text)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET resource = excluded.resource, type = excluded.type,
                        updated_at = excluded.updated_at, body = excluded.body, search_text = excluded.search_text,
                        accepts_text = excluded.accepts_text
                    """,
                arguments: [
                    key, resource.resource, resource.type, resource.lastUpdated.timeIntervalSince1970, body,
                    DiscoveryFilter.searchText(for: resource), DiscoveryFilter.acceptsText(for: resource),
                ])
        }
    }

    public func page(
        _ filter: DiscoveryFilter, limit: Int, offset: Int, freshSince: Date
    ) async throws -> (
        items: [DiscoveryResource], total: Int
    ) {
        let since = freshSince.timeIntervalSince1970
        let rows: (bodies: [(Data, Double)], total: Int) = try await writer.read { db in
            var condition = "updated_at >= ?"
            var arguments: StatementArguments = [since]
            if let type = filter.type {
                condition += " AND type = ?"
                arguments += [type]
            }
            // instr(), not LIKE: the words are data, with no wildcard to escape.
            for term in filter.terms {
                condition += " AND instr(search_text, ?) > 0"
                arguments += [term]
            }
            for token in filter.acceptsTokens {
                condition += " AND instr(accepts_text, ?) > 0"
                arguments += [token]
            }
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM discovery_resources WHERE \(condition)", arguments: arguments) ?? 0
            let bodies = try Row.fetchAll(
                db, sql: "SELECT body, updated_at FROM discovery_resources WHERE \(condition) ORDER BY resource, key LIMIT ? OFFSET ?",
                arguments: arguments + [limit, offset]
            ).map { (row: Row) -> (Data, Double) in (row["body"], row["updated_at"]) }
            return (bodies, total)
        }
        var items: [DiscoveryResource] = []
        for (body, updated) in rows.bodies {
            var item = try DiscoveryResource(jsonBytes: Array(body))
            item.lastUpdated = Date(timeIntervalSince1970: updated)
            items.append(item)
        }
        return (items, rows.total)
    }

    @discardableResult public func prune(updatedBefore date: Date) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM discovery_resources WHERE updated_at < ?", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
