public import Foundation

/// Where the bazaar catalog keeps its entries. Entries are keyed by the catalog's resource key
/// (origin + route, plus the tool name for MCP); a later report of the same key replaces the
/// earlier one and refreshes its `lastUpdated`.
public protocol DiscoveryStore: Sendable {
    /// Inserts or replaces the entry under `key`.
    /// - Parameters:
    ///   - key: The catalog's resource key.
    ///   - resource: The entry, with its `lastUpdated` time.
    /// - Throws: The store's error when it cannot write.
    func upsert(key: String, resource: DiscoveryResource) async throws
    /// Entries updated at or after `freshSince`, optionally of one `type`, ordered by resource
    /// (then key): the `limit` entries from `offset`, and how many match in all.
    /// - Parameters:
    ///   - type: Only entries of this type (`http`, `mcp`), or all when `nil`.
    ///   - limit: The most entries returned.
    ///   - offset: How many matching entries to skip.
    ///   - freshSince: Entries last updated before this time are left out.
    /// - Returns: The page and the number of matching entries.
    /// - Throws: The store's error when it cannot read.
    func page(type: String?, limit: Int, offset: Int, freshSince: Date) async throws -> (items: [DiscoveryResource], total: Int)
    /// Deletes the entries last updated before `date`.
    /// - Parameter date: The cut-off time.
    /// - Returns: How many entries went.
    /// - Throws: The store's error when it cannot write.
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
        let matching =
            entries
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
