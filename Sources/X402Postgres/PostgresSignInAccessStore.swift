// Compiled only with the package trait `PostgreSQL` (on by default); see Package.swift.
#if PostgreSQL
public import Foundation
import PostgresNIO
public import X402

/// A `SignInAccessStore` in PostgreSQL, shared by every seller instance using the same database:
/// the sign-in grants ("who paid for what, until when") and used sign-in nonces. A nonce is
/// consumed by one `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` statement, so two
/// instances cannot both accept it. Expired rows are pruned now and then.
public final class PostgresSignInAccessStore: SignInAccessStore {
    public let database: PostgresStorePool
    private let grants: String
    private let nonces: String
    private let pruneClock = PruneClock()

    /// Uses `database`, creating the tables (`<prefix>_grant`, `<prefix>_nonce`; default prefix
    /// `x402_signin`) if missing.
    public init(database: PostgresStorePool, tablePrefix: String = "x402_signin") async throws(PostgresStoreError) {
        guard tablePrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !tablePrefix.isEmpty else {
            throw PostgresStoreError("invalid table prefix \(tablePrefix)")
        }
        self.database = database
        grants = "\(tablePrefix)_grant"
        nonces = "\(tablePrefix)_nonce"
        try await database.migrate(
            "sign-in access",
            [
                """
                CREATE TABLE IF NOT EXISTS \(grants) (
                    account TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    expires_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (account, resource)
                )
                """,
                "CREATE INDEX IF NOT EXISTS \(grants)_expiry ON \(grants) (expires_at)",
                "CREATE TABLE IF NOT EXISTS \(nonces) (nonce TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
                "CREATE INDEX IF NOT EXISTS \(nonces)_expiry ON \(nonces) (expires_at)",
            ])
    }

    public func recordGrant(_ grant: SignInGrant) async throws(PaymentStateStoreError) {
        let account = SignInGrant.canonicalAccount(grant.account)
        try await run { [grants] in
            var query = PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(grants) AS g (account, resource, expires_at) VALUES ($1, $2, $3)
                    ON CONFLICT (account, resource) DO UPDATE SET expires_at = GREATEST(g.expires_at, EXCLUDED.expires_at)
                    """)
            query.binds.append(account, context: .default)
            query.binds.append(grant.resource, context: .default)
            query.binds.append(grant.expiresAt.timeIntervalSince1970, context: .default)
            try await self.database.client.query(query, logger: self.database.logger)
        }
    }

    public func hasAccess(resource: String, account: String, now: Date) async throws(PaymentStateStoreError) -> Bool {
        let account = SignInGrant.canonicalAccount(account)
        return try await run { [grants] () async throws -> Bool in
            var query = PostgresQuery(unsafeSQL: "SELECT 1 FROM \(grants) WHERE account = $1 AND resource = $2 AND expires_at > $3")
            query.binds.append(account, context: .default)
            query.binds.append(resource, context: .default)
            query.binds.append(now.timeIntervalSince1970, context: .default)
            let rows = try await self.database.client.query(query, logger: self.database.logger)
            for try await _ in rows { return true }
            return false
        }
    }

    public func consumeNonce(_ nonce: String, expiresAt: Date, now: Date) async throws(PaymentStateStoreError) -> Bool {
        await pruneIfDue(now: now)
        return try await run { [nonces] () async throws -> Bool in
            var query = PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(nonces) AS n (nonce, expires_at) VALUES ($1, $2)
                    ON CONFLICT (nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE n.expires_at <= $3
                    RETURNING 1
                    """)
            query.binds.append(nonce, context: .default)
            query.binds.append(expiresAt.timeIntervalSince1970, context: .default)
            query.binds.append(now.timeIntervalSince1970, context: .default)
            let rows = try await self.database.client.query(query, logger: self.database.logger)
            for try await _ in rows { return true }
            return false
        }
    }

    private func pruneIfDue(now: Date) async {
        guard await pruneClock.isDue(now: now) else { return }
        let at = now.timeIntervalSince1970
        for table in [nonces, grants] {
            try? await run {
                var query = PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE expires_at <= $1")
                query.binds.append(at, context: .default)
                try await self.database.client.query(query, logger: self.database.logger)
            }
        }
    }

    private func run<T>(_ body: () async throws -> T) async throws(PaymentStateStoreError) -> T {
        do {
            return try await body()
        } catch {
            throw .unavailable("\(database.location): \(PostgresStorePool.describe(error))")
        }
    }
}
#endif  // PostgreSQL
