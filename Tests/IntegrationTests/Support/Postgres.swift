// The test PostgreSQL server (Tools/postgres) as seen by integration tests.
//
//   X402_POSTGRES_URL  e.g. postgres://postgres@127.0.0.1:55432/x402 (scripts/test sets it)
//   CI                 when set, a missing or unreachable server FAILS the tests instead of skipping them

import Foundation
import Testing
import X402Postgres

enum TestPostgres {
    static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["X402_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    static let unavailableMessage =
        "PostgreSQL not available: set X402_POSTGRES_URL (start one with Tools/postgres/start.sh, or run scripts/test)"

    private static let reachable = Task<Bool, Never> {
        guard let url else { return false }
        guard let database = try? await PostgresStorePool.open(PostgresLocation(url: url), maximumConnections: 1) else { return false }
        database.close()
        return true
    }

    /// Whether the tests should run: the server answers, or `CI` is set (then they fail loudly).
    static func shouldRun() async -> Bool {
        if Devnet.isCI { return true }
        return await reachable.value
    }

    /// The URL; fails with instructions when there is none.
    static func requireURL() throws -> String {
        guard let url else { throw PostgresStoreError(unavailableMessage) }
        return url
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs when the test PostgreSQL server answers; skipped locally otherwise, run (and failing
    /// with the reason) in CI.
    static var postgres: Self {
        .enabled(Comment(rawValue: TestPostgres.unavailableMessage)) { await TestPostgres.shouldRun() }
    }
}
