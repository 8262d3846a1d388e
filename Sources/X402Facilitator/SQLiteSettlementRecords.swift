import Foundation
import Logging
import X402
import X402EVM
import X402SQLite

extension FacilitatorStorage {
    /// `sqlite:<path>` or a plain path; a `postgres://` URL opens ``openPostgres(_:logger:)``.
    static func openSQLite(_ location: String, logger: Logger) async throws -> FacilitatorStorage {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            #if PostgreSQL
            return try await openPostgres(location, logger: logger)
            #else
            // The URL may hold a password: do not repeat it.
            throw FacilitatorConfigurationError("database postgres://…: this build has no PostgreSQL support (package trait PostgreSQL is off)")
            #endif
        }
        var path = location
        if path.hasPrefix("sqlite://") {
            path = String(path.dropFirst("sqlite://".count))
        } else if path.hasPrefix("sqlite:") {
            path = String(path.dropFirst("sqlite:".count))
        } else if path.contains("://") {
            throw FacilitatorConfigurationError("database \(location) is not supported (use sqlite:<path>, postgres://user@host:port/database or memory)")
        }
        let store = try SQLiteSettlementStore(path: path)
        logger.info("settlements recorded in SQLite", metadata: ["path": "\(path)"])
        let journal = SettlementJournal(store: store)
        return FacilitatorStorage(journal: journal, evmRecords: JournaledSettlementRecords(base: SchemeSettlementRecords(store: store), journal: journal))
    }
}
