import Foundation
import Logging
import X402
import X402EVM
import X402Postgres

/// The EVM scheme's ``SettlementRecordStore`` kept in PostgreSQL beside the journal.
struct PostgresSettlementRecords: SettlementRecordStore {
    let store: PostgresSettlementStore

    func record(for key: SettlementKey) async throws -> SettlementRecord? {
        guard let row = try await store.schemeRecord(key: key.description) else { return nil }
        guard let status = SettlementRecord.Status(status: row.status, reason: row.reason, message: row.message) else {
            throw PostgresStoreError("x402_scheme_settlements row \(row.key) has unknown status \(row.status)")
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

/// Settlements of one payment run one at a time across every instance sharing the database.
struct PostgresSettlementExclusion: SettlementExclusion {
    let store: PostgresSettlementStore

    func exclusively(_ key: String, _ body: @Sendable () async -> SettleResponse) async throws -> SettleResponse {
        try await store.exclusively(key, body)
    }
}

extension FacilitatorStorage {
    /// `postgres://user@host:port/database` (password in the URL or `PGPASSWORD`).
    static func openPostgres(_ url: String, logger: Logger) async throws -> FacilitatorStorage {
        let store: PostgresSettlementStore
        do {
            store = try await PostgresSettlementStore.connect(url: url, logger: logger)
        } catch {
            throw FacilitatorConfigurationError("database: \(error)")
        }
        logger.info("settlements recorded in PostgreSQL", metadata: ["database": "\(store.database.location)"])
        let journal = SettlementJournal(store: store, exclusion: PostgresSettlementExclusion(store: store))
        return FacilitatorStorage(
            journal: journal, evmRecords: JournaledSettlementRecords(base: PostgresSettlementRecords(store: store), journal: journal))
    }
}
