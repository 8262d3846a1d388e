import Foundation
public import X402
import X402EVM
import X402Solana

/// Where a facilitator records its settlements and keeps its discovery catalog.
///
/// The library takes the stores as protocols; opening a database is the caller's job (the `x402`
/// CLI opens SQLite and PostgreSQL from the configuration's ``FacilitatorConfiguration/database``).
///
/// ```swift
/// let settlements = try SQLiteSettlementStore(path: path)
/// let storage = FacilitatorStorage(settlements: settlements, discovery: try SQLiteDiscoveryStore(path: path))
/// let service = try await FacilitatorService(configuration: configuration, openStorage: { _ in storage })
/// ```
public struct FacilitatorStorage: Sendable {
    /// The settlement journal (every `/settle`, received → submitted → confirmed / failed).
    public let journal: SettlementJournal
    /// The EVM scheme's records (mirrored into the journal).
    let evmRecords: any SettlementRecordStore
    /// Rows of the other schemes (the Solana scheme's settled messages), shared by instances on one database.
    let schemeRows: any SchemeSettlementRowStore
    /// Serializes one payment's settlement across instances (PostgreSQL); `nil` for one process.
    let exclusion: (any SettlementExclusion)?
    /// Where the bazaar catalog keeps its entries.
    public let discovery: any DiscoveryStore

    /// Storage in a database that keeps both the journal and the schemes' transfer records.
    /// - Parameters:
    ///   - settlements: The journal and scheme-row store (e.g. `SQLiteSettlementStore`, `PostgresSettlementStore`).
    ///   - exclusion: Serializes the settlements of one payment across instances sharing
    ///     `settlements` (e.g. the `PostgresSettlementStore` itself); `nil` for a single process.
    ///   - discovery: The discovery catalog's store.
    public init(
        settlements: some SettlementJournalStore & SchemeSettlementRowStore, exclusion: (any SettlementExclusion)? = nil,
        discovery: any DiscoveryStore
    ) {
        let journal = SettlementJournal(store: settlements, exclusion: exclusion)
        self.journal = journal
        self.evmRecords = JournaledSettlementRecords(base: SchemeSettlementRecords(store: settlements), journal: journal)
        self.schemeRows = settlements
        self.exclusion = exclusion
        self.discovery = discovery
    }

    /// Everything in memory: nothing survives a restart.
    /// - Returns: In-memory journal, scheme records and discovery catalog.
    public static func inMemory() -> FacilitatorStorage {
        FacilitatorStorage(
            journal: SettlementJournal(store: InMemorySettlementJournalStore()), records: InMemorySettlementRecordStore(),
            schemeRows: InMemorySchemeSettlementRows(), discovery: InMemoryDiscoveryStore())
    }

    private init(
        journal: SettlementJournal, records: any SettlementRecordStore, schemeRows: any SchemeSettlementRowStore,
        discovery: any DiscoveryStore
    ) {
        self.journal = journal
        self.evmRecords = JournaledSettlementRecords(base: records, journal: journal)
        self.schemeRows = schemeRows
        self.exclusion = nil
        self.discovery = discovery
    }

    /// The opener used when the caller names none: ``inMemory()`` for `StoreLocation/memory`;
    /// any other location is refused rather than silently kept in memory.
    /// - Parameter location: The configuration's database.
    /// - Returns: In-memory storage.
    /// - Throws: ``FacilitatorConfigurationError`` for a SQLite or PostgreSQL location.
    public static func openInMemoryOnly(_ location: StoreLocation) throws(FacilitatorConfigurationError) -> FacilitatorStorage {
        guard location == .memory else {
            throw .database(
                "\(location) must be opened by the caller: pass openStorage to FacilitatorService (the x402 CLI opens SQLite and PostgreSQL)")
        }
        return inMemory()
    }
}
