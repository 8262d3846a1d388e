import Foundation
import Logging
import X402
import X402Facilitator
import X402SQLite

#if PostgreSQL
import X402Postgres
#endif

extension FacilitatorStorage {
    /// Opens the facilitator's stores at `location`: in memory; a SQLite file holding the
    /// settlements and the discovery catalog; or a PostgreSQL database holding the settlements
    /// (shared by several instances, one settlement of a payment at a time) and the catalog.
    static func open(_ location: StoreLocation, logger: Logger) async throws -> FacilitatorStorage {
        switch location {
        case .memory:
            return .inMemory()
        case .sqlite(let path):
            let store = try SQLiteSettlementStore(path: path)
            logger.info("settlements recorded in SQLite", metadata: ["path": "\(path)"])
            return FacilitatorStorage(settlements: store, discovery: try SQLiteDiscoveryStore(path: path))
        case .postgres(let url):
            #if PostgreSQL
            let store: PostgresSettlementStore
            do {
                store = try await PostgresSettlementStore.connect(url: url, logger: logger)
            } catch {
                throw FacilitatorConfigurationError.database("\(error)")
            }
            logger.info("settlements recorded in PostgreSQL", metadata: ["database": "\(store.database.location)"])
            let discovery: PostgresDiscoveryStore
            do {
                discovery = try await PostgresDiscoveryStore(database: store.database)
            } catch {
                throw FacilitatorConfigurationError.database("\(error)")
            }
            return FacilitatorStorage(settlements: store, exclusion: store, discovery: discovery)
            #else
            _ = url
            throw FacilitatorConfigurationError.database("this x402 was built without PostgreSQL support (package trait PostgreSQL is off)")
            #endif
        }
    }
}
