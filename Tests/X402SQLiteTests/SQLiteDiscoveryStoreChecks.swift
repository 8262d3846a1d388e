import Foundation
import GRDB
import Testing
import X402
import X402SQLite
import X402TestSupport

@Suite struct SQLiteDiscoveryStoreChecks {
    static func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("x402-discovery-\(UUID().uuidString)/facilitator.sqlite").path
    }

    @Test(arguments: DiscoveryStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: DiscoveryStoreCheck) async throws {
        try await check.run(on: try SQLiteDiscoveryStore(path: Self.temporaryDatabase()))
    }

    /// A catalog file made before search existed gains the search columns; its old rows are
    /// listed, and found by a search once refreshed.
    @Test func upgradesATableWithoutSearchColumns() async throws {
        let path = Self.temporaryDatabase()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: path)
        let entry = DiscoveryStoreCheck.entry("https://old.example/weather", description: "weather")
        try await old.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE discovery_resources (key TEXT PRIMARY KEY NOT NULL, resource TEXT NOT NULL, type TEXT NOT NULL,
                        updated_at DOUBLE NOT NULL, body BLOB NOT NULL)
                    """)
            try db.execute(
                sql: "INSERT INTO discovery_resources VALUES (?, ?, ?, ?, ?)",
                arguments: ["k", entry.resource, "http", entry.lastUpdated.timeIntervalSince1970, Data(entry.jsonBytes())])
        }
        try old.close()
        let store = try SQLiteDiscoveryStore(path: path)
        #expect(try await store.page(.all, limit: 10, offset: 0, freshSince: .distantPast).items.map(\.resource) == [entry.resource])
        #expect(try await store.page(DiscoveryFilter(query: "weather"), limit: 10, offset: 0, freshSince: .distantPast).total == 0)
        try await store.upsert(key: "k", resource: entry)
        #expect(try await store.page(DiscoveryFilter(query: "weather"), limit: 10, offset: 0, freshSince: .distantPast).total == 1)
    }
}
