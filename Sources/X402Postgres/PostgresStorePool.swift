// Compiled only with the package trait `PostgreSQL` (on by default); see Package.swift.
#if PostgreSQL
public import Foundation
public import Logging
public import PostgresNIO

/// A PostgreSQL store could not be opened or used.
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where a PostgreSQL server is, parsed from a `postgres://` URL.
///
/// `postgres://user[:password]@host[:port]/database` (also `postgresql://`). The password may be
/// left out of the URL and given in `PGPASSWORD` instead, so it stays off command lines. Only
/// unencrypted connections are made (`sslmode=disable`, the default here); use a local socket
/// proxy or a private network for remote servers.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `postgres://` URL; `environment` supplies `PGPASSWORD` when the URL has no password.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresStoreError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else { throw PostgresStoreError("not a postgres:// URL") }
        guard let host = components.host, !host.isEmpty else { throw PostgresStoreError("the postgres URL has no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresStoreError("the postgres URL names no database (postgres://user@host:port/database)")
        }
        for item in components.queryItems ?? [] where item.name == "sslmode" {
            guard ["disable", "allow", "prefer"].contains(item.value ?? "") else {
                throw PostgresStoreError("sslmode=\(item.value ?? "") is not supported (only unencrypted connections)")
            }
        }
        self.host = host
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw PostgresStoreError("the postgres URL's port is out of range") }
        username = components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"]
        self.database = database
    }

    /// `postgres://user@host:port/database`, never the password (safe to log).
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }
}

/// A connection pool (`PostgresClient`) running for as long as this object lives, plus the
/// schema setup shared by the stores of this module.
///
/// The pool runs in a task started by ``open(_:maximumConnections:logger:)`` and is shut down by
/// ``close()`` (or when the object is released).
public final class PostgresStorePool: Sendable {
    public let client: PostgresClient
    public let location: PostgresLocation
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, location: PostgresLocation, logger: Logger) {
        self.client = client
        self.location = location
        self.logger = logger
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Starts a pool of at most `maximumConnections` connections to `location` and checks that
    /// the server answers.
    public static func open(
        _ location: PostgresLocation, maximumConnections: Int = 20, logger: Logger = Logger(label: "x402.postgres")
    )
        async throws(PostgresStoreError) -> PostgresStorePool
    {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.maximumConnections = max(1, maximumConnections)
        configuration.options.connectTimeout = .seconds(5)
        // The pool retries failed connections without failing queued queries, so a wrong address
        // or database would hang the first query: check with one plain connection first.
        do {
            let probe = try await PostgresConnection.connect(
                configuration: PostgresConnection.Configuration(
                    host: location.host, port: location.port, username: location.username, password: location.password,
                    database: location.database, tls: .disable),
                id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw PostgresStoreError("cannot connect to \(location): \(Self.describe(error))")
        }
        return PostgresStorePool(client: PostgresClient(configuration: configuration), location: location, logger: logger)
    }

    /// Stops the pool.
    public func close() { runner.cancel() }

    /// Runs `statements` once per database, serialized across processes by an advisory lock, so
    /// several instances starting together do not race on `CREATE TABLE`.
    func migrate(_ name: String, _ statements: [String]) async throws(PostgresStoreError) {
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey("x402 schema")))", logger: logger)
                for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            }
        } catch {
            throw PostgresStoreError("cannot set up the \(name) schema in \(location): \(Self.describe(error))")
        }
    }

    /// A stable 64-bit advisory-lock key for `text` (FNV-1a).
    static func lockKey(_ text: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// A one-line description of a PostgresNIO error (the server's message when there is one).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return "\(message) (\(error.serverInfo?[.sqlState] ?? "?"))" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
#endif  // PostgreSQL
