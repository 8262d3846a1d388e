import Foundation
import Logging
import X402
import X402EVM
import X402SQLite

extension FacilitatorStorage {
    /// A SQLite settlement store at `path`.
    static func openSQLite(path: String, logger: Logger) throws -> FacilitatorStorage {
        let store = try SQLiteSettlementStore(path: path)
        logger.info("settlements recorded in SQLite", metadata: ["path": "\(path)"])
        let journal = SettlementJournal(store: store)
        return FacilitatorStorage(journal: journal, evmRecords: JournaledSettlementRecords(base: SchemeSettlementRecords(store: store), journal: journal))
    }
}
