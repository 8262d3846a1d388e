// The test PostgreSQL server (Tools/postgres) as seen by tests.
//
// Environment:
//   X402_POSTGRES_URL  e.g. postgres://postgres@127.0.0.1:55432/x402 (scripts/test sets it)
//   CI                 when set, a missing or unreachable server FAILS the tests instead of skipping them

import Foundation
import Logging
import PostgresNIO
import Testing
import X402Postgres

enum TestPostgres {
    static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["X402_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    static var isCI: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"]?.lowercased() else { return false }
        return !["", "0", "false", "no"].contains(value)
    }

    static let unavailableMessage =
        "PostgreSQL not available: set X402_POSTGRES_URL (start one with Tools/postgres/start.sh, or run scripts/test)"

    /// Whether the server answers (checked once per process).
    private static let reachable = Task<Bool, Never> {
        guard let url else { return false }
        do {
            let database = try await PostgresStorePool.open(PostgresLocation(url: url), maximumConnections: 1)
            database.close()
            return true
        } catch {
            return false
        }
    }

    static func shouldRun() async -> Bool {
        if isCI { return true }
        return await reachable.value
    }

    /// A new pool on the test server; fails with a clear message when there is none.
    static func open(maximumConnections: Int = 10) async throws -> PostgresStorePool {
        guard let url else { throw PostgresStoreError(unavailableMessage) }
        return try await PostgresStorePool.open(PostgresLocation(url: url), maximumConnections: maximumConnections)
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs when the test PostgreSQL server answers; skipped locally otherwise, and run (then
    /// failing with the reason) in CI.
    static var postgres: Self {
        .enabled(Comment(rawValue: TestPostgres.unavailableMessage)) { await TestPostgres.shouldRun() }
    }
}
