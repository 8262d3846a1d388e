import Foundation
import Testing
import X402
import X402Postgres
import X402TestSupport

@Suite(.postgres) struct PostgresSignInAccessStoreTests {
    /// Two stores on two separate pools (as two seller instances would have).
    @Test(arguments: SignInAccessStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: SignInAccessStoreCheck) async throws {
        let one = try await TestPostgres.open()
        let two = try await TestPostgres.open()
        defer {
            one.close()
            two.close()
        }
        let stores = SignInAccessStorePair(
            first: try await PostgresSignInAccessStore(database: one), second: try await PostgresSignInAccessStore(database: two))
        try await check.run(on: stores)
    }

    @Test func refusesAnInvalidTablePrefix() async throws {
        let database = try await TestPostgres.open(maximumConnections: 1)
        defer { database.close() }
        await #expect(throws: PostgresStoreError.self) { _ = try await PostgresSignInAccessStore(database: database, tablePrefix: "x; DROP") }
    }
}

@Suite(.postgres) struct PostgresPaymentIdentifierStoreTests {
    /// Two payment state stores on two separate pools (as two seller instances would have).
    @Test(arguments: PaymentIdentifierStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: PaymentIdentifierStoreCheck) async throws {
        let one = try await TestPostgres.open()
        let two = try await TestPostgres.open()
        defer {
            one.close()
            two.close()
        }
        // A table of their own: other payment-state tests run with clocks days ahead, and their
        // pruning of the shared default table would delete the ids bound here.
        let table = "x402_payment_state_identifier_checks"
        let stores = PaymentIdentifierStorePair(
            first: try await PostgresPaymentStateStore(database: one, table: table),
            second: try await PostgresPaymentStateStore(database: two, table: table))
        try await check.run(on: stores)
    }

    /// Two seller instances on two pools over one table race one id with two payments.
    @Test func twoSellersOnOneDatabaseSettleOneIdOnce() async throws {
        let one = try await TestPostgres.open()
        let two = try await TestPostgres.open()
        defer {
            one.close()
            two.close()
        }
        let table = "x402_payment_state_identifier_race"
        try await PaymentIdentifierRace.run(
            first: try await PostgresPaymentStateStore(database: one, table: table),
            second: try await PostgresPaymentStateStore(database: two, table: table))
    }
}

@Suite(.postgres) struct PostgresDiscoveryStoreTests {
    /// Each check on a table of its own (the checks expect an empty catalog).
    @Test(arguments: DiscoveryStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: DiscoveryStoreCheck) async throws {
        let database = try await TestPostgres.open()
        defer { database.close() }
        let table = "x402_discovery_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await check.run(on: try await PostgresDiscoveryStore(database: database, table: table))
    }

    /// Two facilitator instances on one database share the catalog.
    @Test func instancesShareTheCatalog() async throws {
        let one = try await TestPostgres.open()
        let two = try await TestPostgres.open()
        defer {
            one.close()
            two.close()
        }
        let table = "x402_discovery_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let first = try await PostgresDiscoveryStore(database: one, table: table)
        let second = try await PostgresDiscoveryStore(database: two, table: table)
        try await first.upsert(key: "k", resource: DiscoveryStoreCheck.entry("https://shared.example/x", description: "shared"))
        let seen = try await second.page(DiscoveryFilter(query: "shared"), limit: 10, offset: 0, freshSince: .distantPast)
        #expect(seen.items.map(\.resource) == ["https://shared.example/x"])
    }

    @Test func refusesAnInvalidTableName() async throws {
        let database = try await TestPostgres.open(maximumConnections: 1)
        defer { database.close() }
        await #expect(throws: PostgresStoreError.self) { _ = try await PostgresDiscoveryStore(database: database, table: "x; DROP") }
    }
}
