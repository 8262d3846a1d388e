import Foundation
import PostgresNIO
import Testing
import X402
import X402Postgres
import X402TestSupport

@Suite(.postgres) struct PostgresPaymentStateStoreTests {
    /// Two stores on two separate pools (as two server instances would have).
    static func pair(table: String = "x402_payment_state") async throws -> (PaymentStateStorePair, [PostgresStorePool]) {
        let one = try await TestPostgres.open()
        let two = try await TestPostgres.open()
        let first = try await PostgresPaymentStateStore(database: one, table: table)
        let second = try await PostgresPaymentStateStore(database: two, table: table)
        return (PaymentStateStorePair(first: first, second: second), [one, two])
    }

    @Test(arguments: PaymentStateStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: PaymentStateStoreCheck) async throws {
        let (stores, databases) = try await Self.pair()
        defer { for database in databases { database.close() } }
        try await check.run(on: stores)
    }

    @Test func connectsFromAURLAndCreatesItsSchemaConcurrently() async throws {
        let url = try #require(TestPostgres.url)
        let table = "x402_state_\(UInt32.random(in: 0...UInt32.max))"
        // Several instances starting at once must not race on CREATE TABLE.
        let databases = try await withThrowingTaskGroup(of: PostgresStorePool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let database = try await PostgresStorePool.open(PostgresLocation(url: url), maximumConnections: 2)
                    _ = try await PostgresPaymentStateStore(database: database, table: table)
                    return database
                }
            }
            var all: [PostgresStorePool] = []
            for try await database in group { all.append(database) }
            return all
        }
        defer { for database in databases { database.close() } }
        let store = try await PostgresPaymentStateStore.connect(url: url)
        defer { store.database.close() }
        let id = PaymentStateStoreCheck.freshIdentity()
        #expect(try await store.claim(id, lease: .seconds(5), now: Date()) == .claimed)
        try await databases[0].client.query(PostgresQuery(unsafeSQL: "DROP TABLE \(table)"))
    }

    @Test func badURLsAndUnreachableServersAreTypedErrors() async throws {
        for bad in ["mysql://h/db", "postgres:///db", "postgres://u@h:5432/", "postgres://u@h/db?sslmode=require"] {
            #expect(throws: PostgresStoreError.self, "\(bad)") { try PostgresLocation(url: bad) }
        }
        let location = try PostgresLocation(url: "postgres://me:secret@127.0.0.1:1/x402")
        #expect(location.password == "secret")
        #expect(!location.description.contains("secret"))
        await #expect(throws: PostgresStoreError.self) {
            _ = try await PostgresStorePool.open(location, maximumConnections: 1)
        }
        let fromEnv = try PostgresLocation(url: "postgresql://me@db.internal/x402", environment: ["PGPASSWORD": "pw"])
        #expect(fromEnv.password == "pw")
        #expect(fromEnv.port == 5432)
    }

    @Test(.timeLimit(.minutes(1))) func aStoppedPoolIsReportedAsUnavailable() async throws {
        let database = try await TestPostgres.open(maximumConnections: 1)
        let store = try await PostgresPaymentStateStore(database: database)
        database.close()
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: PaymentStateStoreError.self) {
            _ = try await store.claim(PaymentStateStoreCheck.freshIdentity(), lease: .seconds(1), now: Date())
        }
    }
}
