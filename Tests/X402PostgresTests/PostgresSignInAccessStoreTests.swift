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
