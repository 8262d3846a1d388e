public import Foundation
import GRDB
public import X402

/// A `SignInAccessStore` in an SQLite file (GRDB, WAL): the sign-in grants ("who paid for what,
/// until when") and used sign-in nonces, shared by every seller process on this machine that
/// opens the same file. A nonce is consumed by one `INSERT … ON CONFLICT DO UPDATE … WHERE`
/// statement, so two processes cannot both accept it. Expired rows are pruned now and then.
public final class SQLiteSignInAccessStore: SignInAccessStore {
    private let writer: any DatabaseWriter
    private let pruneClock = PruneClock()

    /// Opens (creating if needed) the database at `path`.
    public init(path: String) throws {
        writer = try SQLiteFile.open(path: path, busyTimeout: 10, migrator: Self.migrator)
    }

    /// A private in-memory database (one process only; for tests).
    public init() throws {
        writer = try SQLiteFile.inMemory(migrator: Self.migrator)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sign-in access") { db in
            try db.execute(
                sql: """
                    CREATE TABLE signin_grant (
                        account TEXT NOT NULL,
                        resource TEXT NOT NULL,
                        expires_at REAL NOT NULL,
                        PRIMARY KEY (account, resource)
                    );
                    CREATE INDEX signin_grant_expiry ON signin_grant(expires_at);
                    CREATE TABLE signin_nonce (
                        nonce TEXT PRIMARY KEY NOT NULL,
                        expires_at REAL NOT NULL
                    );
                    CREATE INDEX signin_nonce_expiry ON signin_nonce(expires_at);
                    """)
        }
        return migrator
    }

    public func recordGrant(_ grant: SignInGrant) async throws(PaymentStateStoreError) {
        let account = SignInGrant.canonicalAccount(grant.account)
        try await run { [writer] in
            try await writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO signin_grant (account, resource, expires_at) VALUES (?, ?, ?)
                        ON CONFLICT(account, resource) DO UPDATE SET expires_at = MAX(signin_grant.expires_at, excluded.expires_at)
                        """,
                    arguments: [account, grant.resource, grant.expiresAt.timeIntervalSince1970])
            }
        }
    }

    public func hasAccess(resource: String, account: String, now: Date) async throws(PaymentStateStoreError) -> Bool {
        let account = SignInGrant.canonicalAccount(account)
        return try await run { [writer] in
            try await writer.read { db in
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM signin_grant WHERE account = ? AND resource = ? AND expires_at > ?)",
                    arguments: [account, resource, now.timeIntervalSince1970]) ?? false
            }
        }
    }

    public func consumeNonce(_ nonce: String, expiresAt: Date, now: Date) async throws(PaymentStateStoreError) -> Bool {
        let prune = await pruneClock.isDue(now: now)
        let at = now.timeIntervalSince1970
        return try await run { [writer] in
            try await writer.write { db -> Bool in
                if prune {
                    try db.execute(sql: "DELETE FROM signin_nonce WHERE expires_at <= ?", arguments: [at])
                    try db.execute(sql: "DELETE FROM signin_grant WHERE expires_at <= ?", arguments: [at])
                }
                try db.execute(
                    sql: """
                        INSERT INTO signin_nonce (nonce, expires_at) VALUES (?, ?)
                        ON CONFLICT(nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE signin_nonce.expires_at <= ?
                        """,
                    arguments: [nonce, expiresAt.timeIntervalSince1970, at])
                return db.changesCount > 0
            }
        }
    }

    private func run<T>(_ body: () async throws -> T) async throws(PaymentStateStoreError) -> T {
        do {
            return try await body()
        } catch {
            throw .unavailable("SQLite: \(error)")
        }
    }
}
