// Compiled only with the package trait `PostgreSQL` (on by default); see Package.swift.
#if PostgreSQL
public import Foundation
import PostgresNIO
public import X402

/// A `DiscoveryStore` in PostgreSQL, shared by every facilitator instance using the same
/// database: the bazaar catalog (table `x402_discovery` by default) with each entry's JSON, its
/// update time and the lower-cased texts searches and filters look in (`strpos`, so search words
/// are data, never patterns).
public final class PostgresDiscoveryStore: DiscoveryStore {
    /// The database the catalog lives in.
    public let database: PostgresStorePool
    private let table: String

    /// Uses `database`, creating the table (default `x402_discovery`) if missing.
    public init(database: PostgresStorePool, table: String = "x402_discovery") async throws(PostgresStoreError) {
        guard table.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !table.isEmpty else {
            throw PostgresStoreError("invalid table name \(table)")
        }
        self.database = database
        self.table = table
        try await database.migrate(
            "discovery catalog",
            [
                """
                CREATE TABLE IF NOT EXISTS \(table) (
                    key TEXT PRIMARY KEY,
                    resource TEXT NOT NULL,
                    type TEXT NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL,
                    body TEXT NOT NULL,
                    search_text TEXT NOT NULL,
                    accepts_text TEXT NOT NULL
                )
                """,
                "CREATE INDEX IF NOT EXISTS \(table)_updated ON \(table) (updated_at)",
                "CREATE INDEX IF NOT EXISTS \(table)_type ON \(table) (type, resource)",
            ])
    }

    public func upsert(key: String, resource: DiscoveryResource) async throws {
        try await run { [table] in
            var query = PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(table) (key, resource, type, updated_at, body, search_text, accepts_text)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (key) DO UPDATE SET resource = EXCLUDED.resource, type = EXCLUDED.type,
                        updated_at = EXCLUDED.updated_at, body = EXCLUDED.body, search_text = EXCLUDED.search_text,
                        accepts_text = EXCLUDED.accepts_text
                    """)
            query.binds.append(key, context: .default)
            query.binds.append(resource.resource, context: .default)
            query.binds.append(resource.type, context: .default)
            query.binds.append(resource.lastUpdated.timeIntervalSince1970, context: .default)
            query.binds.append(String(decoding: resource.jsonBytes(), as: UTF8.self), context: .default)
            query.binds.append(DiscoveryFilter.searchText(for: resource), context: .default)
            query.binds.append(DiscoveryFilter.acceptsText(for: resource), context: .default)
            try await self.database.client.query(query, logger: self.database.logger)
        }
    }

    public func page(
        _ filter: DiscoveryFilter, limit: Int, offset: Int, freshSince: Date
    ) async throws -> (
        items: [DiscoveryResource], total: Int
    ) {
        var condition = "updated_at >= $1"
        var binds = PostgresBindings()
        binds.append(freshSince.timeIntervalSince1970, context: .default)
        func bind(_ text: String) -> String {
            binds.append(text, context: .default)
            return "$\(binds.count)"
        }
        if let type = filter.type { condition += " AND type = \(bind(type))" }
        for term in filter.terms { condition += " AND strpos(search_text, \(bind(term))) > 0" }
        for token in filter.acceptsTokens { condition += " AND strpos(accepts_text, \(bind(token))) > 0" }
        let filterBinds = binds
        return try await run { [table] () async throws -> ([DiscoveryResource], Int) in
            var total = 0
            let count = PostgresQuery(unsafeSQL: "SELECT COUNT(*)::BIGINT FROM \(table) WHERE \(condition)", binds: filterBinds)
            for try await n in try await self.database.client.query(count, logger: self.database.logger).decode(Int64.self) {
                total = Int(n)
            }
            var pageBinds = filterBinds
            pageBinds.append(Int64(limit), context: .default)
            pageBinds.append(Int64(offset), context: .default)
            let select = PostgresQuery(
                unsafeSQL: """
                    SELECT body, updated_at FROM \(table) WHERE \(condition) ORDER BY resource, key
                    LIMIT $\(pageBinds.count - 1) OFFSET $\(pageBinds.count)
                    """, binds: pageBinds)
            var items: [DiscoveryResource] = []
            for try await (body, updated) in try await self.database.client.query(select, logger: self.database.logger).decode(
                (String, Double).self)
            {
                var item = try DiscoveryResource(jsonBytes: Array(body.utf8))
                item.lastUpdated = Date(timeIntervalSince1970: updated)
                items.append(item)
            }
            return (items, total)
        }
    }

    @discardableResult public func prune(updatedBefore date: Date) async throws -> Int {
        try await run { [table] () async throws -> Int in
            var query = PostgresQuery(
                unsafeSQL: "WITH gone AS (DELETE FROM \(table) WHERE updated_at < $1 RETURNING 1) SELECT COUNT(*)::BIGINT FROM gone")
            query.binds.append(date.timeIntervalSince1970, context: .default)
            var removed = 0
            for try await n in try await self.database.client.query(query, logger: self.database.logger).decode(Int64.self) { removed = Int(n) }
            return removed
        }
    }

    private func run<T>(_ body: () async throws -> T) async throws(PostgresStoreError) -> T {
        do {
            return try await body()
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError("\(database.location): \(PostgresStorePool.describe(error))")
        }
    }
}
#endif  // PostgreSQL
