import Foundation
import Logging
import X402
import X402EVM
import X402SQLite

/// The EVM scheme's ``SettlementRecordStore`` kept in SQLite beside the journal.
struct SQLiteSettlementRecords: SettlementRecordStore {
    let store: SQLiteSettlementStore

    func record(for key: SettlementKey) async throws -> SettlementRecord? {
        guard let row = try await store.schemeRecord(key: key.description) else { return nil }
        guard let status = SettlementRecord.Status(status: row.status, reason: row.reason, message: row.message) else {
            throw SQLiteStoreError("scheme_settlements row \(row.key) has unknown status \(row.status)")
        }
        return SettlementRecord(key: key, transaction: try Bytes32(hex: row.transaction), status: status, updatedAt: UInt64(max(0, row.updatedAt)))
    }

    func save(_ record: SettlementRecord) async throws {
        let columns = record.status.columns
        var row = SchemeSettlementRow(
            key: record.key.description, transaction: record.transaction.hexString, status: columns.status, updatedAt: Int64(record.updatedAt))
        row.reason = columns.reason
        row.message = columns.message
        try await store.saveSchemeRecord(row)
    }

    func remove(_ key: SettlementKey) async throws { try await store.removeSchemeRecord(key: key.description) }
}

extension FacilitatorStorage {
    /// `sqlite:<path>` or a plain path; a `postgres://` URL opens ``openPostgres(_:logger:)``.
    static func openSQLite(_ location: String, logger: Logger) async throws -> FacilitatorStorage {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try await openPostgres(location, logger: logger)
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
        return FacilitatorStorage(journal: journal, evmRecords: JournaledSettlementRecords(base: SQLiteSettlementRecords(store: store), journal: journal))
    }
}
