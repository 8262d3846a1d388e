import Foundation
import GRDB

/// Opening the SQLite files of this module: one place for the directory, WAL and busy-timeout rules.
enum SQLiteFile {
    /// Opens (creating the file and its directory if needed) a WAL-mode database at `path` whose
    /// writers wait up to `busyTimeout` seconds for another connection's write, then migrates it.
    static func open(path: String, busyTimeout: TimeInterval, migrator: DatabaseMigrator) throws -> any DatabaseWriter {
        try open(path: path, busyTimeout: busyTimeout) { try migrator.migrate($0) }
    }

    /// Opens the database at `path` as ``open(path:busyTimeout:migrator:)`` does, then runs
    /// `setUp` (e.g. idempotent `CREATE TABLE IF NOT EXISTS` statements for a table that shares a
    /// file whose migrations belong to another store).
    static func open(path: String, busyTimeout: TimeInterval, setUp: (any DatabaseWriter) throws -> Void) throws -> any DatabaseWriter {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try setUp(pool)
        return pool
    }

    /// A private in-memory database, migrated.
    static func inMemory(migrator: DatabaseMigrator) throws -> any DatabaseWriter {
        try inMemory { try migrator.migrate($0) }
    }

    /// A private in-memory database, set up by `setUp`.
    static func inMemory(setUp: (any DatabaseWriter) throws -> Void) throws -> any DatabaseWriter {
        let queue = try DatabaseQueue()
        try setUp(queue)
        return queue
    }
}
