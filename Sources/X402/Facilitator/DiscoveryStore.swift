public import Foundation

/// Which catalog entries a page lists: all filters must hold.
public struct DiscoveryFilter: Sendable, Hashable {
    /// The longest accepted search text, in bytes.
    public static let maximumQueryBytes = 256
    /// The most words a search matches on (the rest are refused).
    public static let maximumTerms = 8
    /// The most bytes of an entry's text a search looks at (see ``searchText(for:)``).
    public static let maximumSearchTextBytes = 4096

    /// Only entries of this type (`http`, `mcp`).
    public var type: String?
    /// Lower-cased words that must all occur in the entry's search text.
    public private(set) var terms: [String]
    /// Only entries accepting payment on this network (CAIP-2 or v1 name).
    public var network: String?
    /// Only entries accepting this scheme.
    public var scheme: String?
    /// Only entries paying this recipient (compared case-insensitively).
    public var payTo: String?

    /// A filter; `query` is split into words on white space.
    ///
    /// - Throws: ``DiscoveryFilterError`` when `query` is longer than ``maximumQueryBytes``, has
    ///   more than ``maximumTerms`` words, or holds control characters.
    public init(
        type: String? = nil, query: String? = nil, network: String? = nil, scheme: String? = nil, payTo: String? = nil
    )
        throws(DiscoveryFilterError)
    {
        self.type = type
        self.network = network
        self.scheme = scheme
        self.payTo = payTo
        terms = []
        guard let query else { return }
        guard query.utf8.count <= Self.maximumQueryBytes else { throw .queryTooLong }
        guard !query.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
            throw .controlCharacters
        }
        let words = query.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count <= Self.maximumTerms else { throw .tooManyTerms }
        var seen = Set<String>()
        terms = words.filter { seen.insert($0).inserted }
    }

    /// No filter: every live entry.
    public static let all = DiscoveryFilter(noFilter: ())

    private init(noFilter: Void) {
        terms = []
    }

    /// The lower-cased text a search looks in: the resource URL, type, description, MIME type,
    /// route template, method or tool name, and the names of the input's query parameters, body
    /// members and path parameters; at most ``maximumSearchTextBytes`` bytes.
    public static func searchText(for resource: DiscoveryResource) -> String {
        let metadata = resource.metadata ?? [:]
        let input = metadata["input"]?.objectValue ?? [:]
        var parts = [resource.resource, resource.type]
        for key in ["description", "mimeType", "routeTemplate"] {
            if let text = metadata[key]?.stringValue { parts.append(text) }
        }
        for key in ["method", "toolName", "tool", "description"] {
            if let text = input[key]?.stringValue { parts.append(text) }
        }
        for key in ["queryParams", "body", "pathParams"] {
            if let names = input[key]?.objectValue?.keys { parts.append(contentsOf: names.prefix(32)) }
        }
        // Control characters (NUL included, which PostgreSQL text cannot hold) become spaces.
        let scalars = parts.joined(separator: " ").lowercased().unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }
        var text = String(String.UnicodeScalarView(scalars))
        if text.utf8.count > maximumSearchTextBytes {
            text = String(decoding: text.utf8.prefix(maximumSearchTextBytes), as: UTF8.self)
        }
        return text
    }

    /// The payment terms of an entry as one lower-cased text of `|n:<network>|s:<scheme>|p:<payTo>|`
    /// tokens, which the network, scheme and recipient filters look for.
    public static func acceptsText(for resource: DiscoveryResource) -> String {
        var text = "|"
        for requirement in resource.accepts.prefix(16) {
            let payTo: String
            switch requirement {
            case .v1(let r): payTo = r.payTo
            case .v2(let r): payTo = r.payTo
            }
            text += "n:\(requirement.networkIdentifier)|s:\(requirement.scheme)|p:\(payTo)|"
        }
        return text.lowercased()
    }

    /// The tokens of ``acceptsText(for:)`` the entry must hold.
    public var acceptsTokens: [String] {
        var tokens: [String] = []
        if let network { tokens.append("|n:\(network.lowercased())|") }
        if let scheme { tokens.append("|s:\(scheme.lowercased())|") }
        if let payTo { tokens.append("|p:\(payTo.lowercased())|") }
        return tokens
    }

    /// Whether `resource` passes the filter (what the stores compute in their query language).
    public func matches(_ resource: DiscoveryResource) -> Bool {
        if let type, resource.type != type { return false }
        let tokens = acceptsTokens
        if !tokens.isEmpty {
            let accepts = Self.acceptsText(for: resource)
            guard tokens.allSatisfy({ accepts.contains($0) }) else { return false }
        }
        guard !terms.isEmpty else { return true }
        let text = Self.searchText(for: resource)
        return terms.allSatisfy { text.contains($0) }
    }
}

/// Why a discovery search was refused.
public enum DiscoveryFilterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The search text is longer than ``DiscoveryFilter/maximumQueryBytes``.
    case queryTooLong
    /// The search text has more than ``DiscoveryFilter/maximumTerms`` words.
    case tooManyTerms
    /// The search text holds control characters.
    case controlCharacters

    public var description: String {
        switch self {
        case .queryTooLong: "query must be at most \(DiscoveryFilter.maximumQueryBytes) bytes"
        case .tooManyTerms: "query must have at most \(DiscoveryFilter.maximumTerms) words"
        case .controlCharacters: "query must not contain control characters"
        }
    }
}

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
    /// Entries updated at or after `freshSince` that pass `filter`, ordered by resource (then
    /// key): the `limit` entries from `offset`, and how many match in all.
    /// - Parameters:
    ///   - filter: Type, search words and payment terms the entries must match.
    ///   - limit: The most entries returned.
    ///   - offset: How many matching entries to skip.
    ///   - freshSince: Entries last updated before this time are left out.
    /// - Returns: The page and the number of matching entries.
    /// - Throws: The store's error when it cannot read.
    func page(_ filter: DiscoveryFilter, limit: Int, offset: Int, freshSince: Date) async throws -> (items: [DiscoveryResource], total: Int)
    /// Deletes the entries last updated before `date`.
    /// - Parameter date: The cut-off time.
    /// - Returns: How many entries went.
    /// - Throws: The store's error when it cannot write.
    @discardableResult func prune(updatedBefore date: Date) async throws -> Int
}

extension DiscoveryStore {
    /// Entries of one `type` (or all when `nil`); see ``page(_:limit:offset:freshSince:)``.
    public func page(type: String?, limit: Int, offset: Int, freshSince: Date) async throws -> (items: [DiscoveryResource], total: Int) {
        var filter = DiscoveryFilter.all
        filter.type = type
        return try await page(filter, limit: limit, offset: offset, freshSince: freshSince)
    }
}

/// A ``DiscoveryStore`` in memory: nothing survives a restart.
public actor InMemoryDiscoveryStore: DiscoveryStore {
    private var entries: [String: DiscoveryResource] = [:]

    public init() {}

    public func upsert(key: String, resource: DiscoveryResource) {
        entries[key] = resource
    }

    public func page(_ filter: DiscoveryFilter, limit: Int, offset: Int, freshSince: Date) -> (items: [DiscoveryResource], total: Int) {
        let matching =
            entries
            .filter { $0.value.lastUpdated >= freshSince && filter.matches($0.value) }
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
