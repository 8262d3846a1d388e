import Foundation
import Logging
import X402

/// Where the bazaar catalog keeps its entries. Entries are keyed by the catalog's resource key
/// (origin + route, plus the tool name for MCP); a later report of the same key replaces the
/// earlier one and refreshes its `lastUpdated`.
public protocol DiscoveryStore: Sendable {
    /// Inserts or replaces the entry under `key`.
    func upsert(key: String, resource: DiscoveryResource) async throws
    /// Entries updated at or after `freshSince`, optionally of one `type`, ordered by resource
    /// (then key): the `limit` entries from `offset`, and how many match in all.
    func page(type: String?, limit: Int, offset: Int, freshSince: Date) async throws -> (items: [DiscoveryResource], total: Int)
    /// Deletes the entries last updated before `date`; returns how many went.
    @discardableResult func prune(updatedBefore date: Date) async throws -> Int
}

/// A ``DiscoveryStore`` in memory: nothing survives a restart.
public actor InMemoryDiscoveryStore: DiscoveryStore {
    private var entries: [String: DiscoveryResource] = [:]

    public init() {}

    public func upsert(key: String, resource: DiscoveryResource) {
        entries[key] = resource
    }

    public func page(type: String?, limit: Int, offset: Int, freshSince: Date) -> (items: [DiscoveryResource], total: Int) {
        let matching = entries
            .filter { (type == nil || $0.value.type == type) && $0.value.lastUpdated >= freshSince }
            .sorted { ($0.value.resource, $0.key) < ($1.value.resource, $1.key) }
            .map(\.value)
        return (Array(matching.dropFirst(offset).prefix(limit)), matching.count)
    }

    @discardableResult public func prune(updatedBefore date: Date) -> Int {
        let before = entries.count
        entries = entries.filter { $0.value.lastUpdated >= date }
        return before - entries.count
    }
}

extension FacilitatorStorage {
    /// The discovery store for the configuration's `database`: SQLite beside the settlement
    /// journal for a SQLite location, memory for `memory`. Other databases keep the catalog in
    /// memory (logged once).
    static func openDiscovery(_ location: StoreLocation, logger: Logger) throws -> any DiscoveryStore {
        switch location {
        case .memory:
            return InMemoryDiscoveryStore()
        case .sqlite(let path):
            return try SQLiteDiscoveryStore(path: path)
        case .postgres:
            logger.notice("the discovery catalog is kept in memory for this database kind", metadata: ["database": "postgres"])
            return InMemoryDiscoveryStore()
        }
    }
}
