// The test PostgreSQL server (Tools/postgres) as seen by tests.
//
// Environment:
//   X402_POSTGRES_URL  e.g. postgres://postgres@127.0.0.1:55432/x402 (scripts/test sets it)
//   CI                 when set, a missing or unreachable server FAILS the tests instead of skipping them

import Foundation
package import Testing
package import X402Postgres

/// The environment the tests run in.
package enum TestEnvironment {
    /// `true` when the `CI` environment variable is set to anything but `false`/`0`/`no`/empty.
    package static var isCI: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"]?.lowercased() else { return false }
        return !["", "0", "false", "no"].contains(value)
    }
}

package enum TestPostgres {
    package static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["X402_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    package static var isCI: Bool { TestEnvironment.isCI }

    package static let unavailableMessage =
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

    /// Whether the tests should run: the server answers, or `CI` is set (then they fail loudly).
    package static func shouldRun() async -> Bool {
        if isCI { return true }
        return await reachable.value
    }

    /// The URL; fails with instructions when there is none.
    package static func requireURL() throws -> String {
        guard let url else { throw PostgresStoreError(unavailableMessage) }
        return url
    }

    /// A new pool on the test server; fails with a clear message when there is none.
    package static func open(maximumConnections: Int = 10) async throws -> PostgresStorePool {
        try await PostgresStorePool.open(PostgresLocation(url: try requireURL()), maximumConnections: maximumConnections)
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs when the test PostgreSQL server answers; skipped locally otherwise, and run (then
    /// failing with the reason) in CI.
    package static var postgres: Self {
        .enabled(Comment(rawValue: TestPostgres.unavailableMessage)) { await TestPostgres.shouldRun() }
    }
}
