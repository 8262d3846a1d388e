// Compiled only with the package trait `PostgreSQL` (on by default); see Package.swift.
#if PostgreSQL
import Foundation
import Logging
import X402
import X402EVM
import X402Postgres

/// Settlements of one payment run one at a time across every instance sharing the database.
struct PostgresSettlementExclusion: SettlementExclusion {
    let store: PostgresSettlementStore

    func exclusively(_ key: String, _ body: @escaping @Sendable () async -> SettleResponse) async throws -> SettleResponse {
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
            journal: journal, evmRecords: JournaledSettlementRecords(base: SchemeSettlementRecords(store: store), journal: journal))
    }
}
#endif  // PostgreSQL
