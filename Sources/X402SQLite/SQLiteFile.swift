import Foundation
import GRDB

/// Opening the SQLite files of this module: one place for the directory, WAL and busy-timeout rules.
enum SQLiteFile {
    /// Opens (creating the file and its directory if needed) a WAL-mode database at `path` whose
    /// writers wait up to `busyTimeout` seconds for another connection's write, then migrates it.
    static func open(path: String, busyTimeout: TimeInterval, migrator: DatabaseMigrator) throws -> any DatabaseWriter {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try migrator.migrate(pool)
        return pool
    }

    /// A private in-memory database, migrated.
    static func inMemory(migrator: DatabaseMigrator) throws -> any DatabaseWriter {
        let queue = try DatabaseQueue()
        try migrator.migrate(queue)
        return queue
    }
}
