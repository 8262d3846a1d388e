public import Foundation
public import Logging
public import X402

/// The bazaar catalog: resources that reported `extensions.bazaar` (v2) or a discoverable
/// `outputSchema` (v1) on a successful `/settle` (never on `/verify`, which costs nothing), served
/// by `GET /discovery/resources`. Entries not refreshed within `timeToLive` are dropped.
///
/// The seller's metadata is validated and size-limited (`Limits`): an http(s) URL of bounded
/// length, bounded description, MIME type, type and tool name without control characters, and a
/// bounded number and size of extension members. An entry that fails is not recorded.
///
/// Entries are keyed by `origin + (routeTemplate ?? path)` of the resource URL (query and
/// fragment stripped), plus the tool name for MCP resources.
public actor DiscoveryCatalog {
    private let store: any DiscoveryStore
    public let timeToLive: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var lastPrune: Date?

    /// A catalog over `store` (memory by default); entries older than `timeToLive` are neither
    /// served nor kept.
    public init(
        timeToLive: Duration = .seconds(7 * 24 * 3600), store: any DiscoveryStore = InMemoryDiscoveryStore(),
        logger: Logger = Logger(label: "x402.facilitator.discovery"), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.timeToLive = timeToLive
        self.store = store
        self.logger = logger
        self.now = now
    }

    /// Records the resource a paid request reported, if it reported one. A store failure is
    /// logged, never passed to the payment's answer.
    public func record(_ request: FacilitatorRequest) async {
        guard let (key, entry) = Self.entry(for: request, at: now()) else { return }
        do {
            try await store.upsert(key: key, resource: entry)
            try await pruneIfDue()
        } catch {
            logger.warning("discovery catalog store failed", metadata: ["error": "\(error)"])
        }
    }

    /// One page of live entries, optionally of one `type`, in resource order.
    public func page(type: String?, limit: Int, offset: Int) async throws -> DiscoveryResponse {
        var filter = DiscoveryFilter.all
        filter.type = type
        return try await page(filter, limit: limit, offset: offset)
    }

    /// One page of the live entries that pass `filter` (type, search words, payment terms), in
    /// resource order.
    public func page(_ filter: DiscoveryFilter, limit: Int, offset: Int) async throws -> DiscoveryResponse {
        try await pruneIfDue()
        let (items, total) = try await store.page(filter, limit: limit, offset: offset, freshSince: cutoff)
        return DiscoveryResponse(x402Version: .v2, items: items, pagination: .init(limit: limit, offset: offset, total: total))
    }

    /// The number of live entries.
    public func count() async throws -> Int {
        try await store.page(type: nil, limit: 0, offset: 0, freshSince: cutoff).total
    }

    /// Deletes stale entries from the store now; returns how many went.
    @discardableResult public func prune() async throws -> Int {
        lastPrune = now()
        return try await store.prune(updatedBefore: cutoff)
    }

    private var cutoff: Date { now().addingTimeInterval(-Double(timeToLive.components.seconds)) }

    /// Prunes at most once a minute (or once per TTL when that is shorter).
    private func pruneIfDue() async throws {
        let interval = min(60, Double(timeToLive.components.seconds))
        if let lastPrune, now().timeIntervalSince(lastPrune) < interval { return }
        let removed = try await prune()
        if removed > 0 { logger.debug("discovery entries expired", metadata: ["count": "\(removed)"]) }
    }

    // MARK: Building entries

    /// Bounds on what a seller may publish.
    enum Limits {
        static let urlBytes = 2048
        static let descriptionBytes = 1024
        static let mimeTypeBytes = 128
        static let typeBytes = 32
        static let toolNameBytes = 128
        static let routeTemplateBytes = 512
        /// Members of `extensions.bazaar`, of its `info`, of `info.input`, and of v1 `outputSchema`.
        static let members = 32
        /// Serialized size of `input` and of `output`.
        static let schemaBytes = 16 * 1024
    }

    static func entry(for request: FacilitatorRequest, at date: Date) -> (String, DiscoveryResource)? {
        guard let (key, resource) = unvalidatedEntry(for: request, at: date), isAcceptable(resource) else { return nil }
        return (key, resource)
    }

    /// Whether a catalog entry stays within ``Limits``.
    static func isAcceptable(_ resource: DiscoveryResource) -> Bool {
        func text(_ value: String?, _ limit: Int) -> Bool {
            guard let value else { return true }
            return value.utf8.count <= limit && !containsControlCharacters(value)
        }
        guard text(resource.resource, Limits.urlBytes), let components = URLComponents(string: resource.resource),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return false }
        guard text(resource.type, Limits.typeBytes), !resource.type.isEmpty else { return false }
        let metadata = resource.metadata ?? [:]
        guard metadata.count <= Limits.members,
            text(metadata["description"]?.stringValue, Limits.descriptionBytes),
            text(metadata["mimeType"]?.stringValue, Limits.mimeTypeBytes),
            text(metadata["routeTemplate"]?.stringValue, Limits.routeTemplateBytes)
        else { return false }
        if let input = metadata["input"]?.objectValue {
            guard input.count <= Limits.members else { return false }
            guard text(input["toolName"]?.stringValue, Limits.toolNameBytes), text(input["tool"]?.stringValue, Limits.toolNameBytes) else {
                return false
            }
        }
        for name in ["input", "output"] {
            if let value = metadata[name], value.serialized().count > Limits.schemaBytes { return false }
        }
        return true
    }

    /// C0 and C1 controls, DEL, and the bidirectional overrides that can disguise text.
    static func containsControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            let v = scalar.value
            return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
        }
    }

    static func unvalidatedEntry(for request: FacilitatorRequest, at date: Date) -> (String, DiscoveryResource)? {
        switch (request.paymentPayload, request.paymentRequirements) {
        case (.v2(let payload), .v2(let requirements)):
            guard let bazaar = payload.extensions?["bazaar"]?.objectValue, bazaar.count <= Limits.members,
                let info = bazaar["info"]?.objectValue, info.count <= Limits.members,
                let input = info["input"]?.objectValue, let type = input["type"]?.stringValue,
                let url = payload.resource?.url, url.utf8.count <= Limits.urlBytes, let location = Location(url)
            else { return nil }
            // The seller's schema must describe its info (same-document references only: a schema
            // must not make the facilitator fetch anything).
            if let schema = bazaar["schema"] {
                guard BazaarSchema.externalReference(in: schema) == nil, (try? BazaarSchema.validate(.object(info), against: schema)) != nil
                else { return nil }
            }
            let template = bazaar["routeTemplate"]?.stringValue.flatMap { isValidRouteTemplate($0) ? $0 : nil }
            let tool = input["toolName"]?.stringValue ?? input["tool"]?.stringValue
            var key = location.origin + (template ?? location.path)
            if type == "mcp", let tool { key += "#" + tool }
            var metadata = JSONObject()
            if let description = payload.resource?.description { metadata["description"] = .string(description) }
            if let mimeType = payload.resource?.mimeType { metadata["mimeType"] = .string(mimeType) }
            metadata["input"] = .object(input)
            if let output = info["output"] { metadata["output"] = output }
            if let template { metadata["routeTemplate"] = .string(template) }
            var resource = DiscoveryResource(
                resource: location.origin + (template ?? location.path), type: type, x402Version: .v2,
                accepts: [.v2(requirements)], lastUpdated: date, metadata: metadata)
            resource.description = payload.resource?.description.flatMap { $0.isEmpty ? nil : $0 }
            resource.mimeType = payload.resource?.mimeType.flatMap { $0.isEmpty ? nil : $0 }
            return (key, resource)
        case (.v1, .v1(let requirements)):
            guard let schema = requirements.outputSchema?.objectValue, schema.count <= Limits.members,
                let input = schema["input"]?.objectValue, requirements.resource.utf8.count <= Limits.urlBytes,
                let location = Location(requirements.resource)
            else {
                return nil
            }
            if input["discoverable"]?.boolValue == false { return nil }
            var metadata = JSONObject()
            if let description = requirements.description { metadata["description"] = .string(description) }
            if let mimeType = requirements.mimeType { metadata["mimeType"] = .string(mimeType) }
            metadata["input"] = .object(input)
            if let output = requirements.outputSchema?["output"] { metadata["output"] = output }
            let key = location.origin + location.path
            var resource = DiscoveryResource(
                resource: key, type: input["type"]?.stringValue ?? "http", x402Version: .v1, accepts: [.v1(requirements)],
                lastUpdated: date, metadata: metadata)
            resource.description = requirements.description.flatMap { $0.isEmpty ? nil : $0 }
            resource.mimeType = requirements.mimeType.flatMap { $0.isEmpty ? nil : $0 }
            return (key, resource)
        default:
            return nil
        }
    }

    /// The reference rule: non-empty, starts with `/`, only `[a-zA-Z0-9_/:.\-~%]`, and after
    /// percent-decoding neither `..` nor `://`.
    static func isValidRouteTemplate(_ template: String) -> Bool {
        guard template.count > 1, template.hasPrefix("/") else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/:.-~%")
        guard template.allSatisfy({ allowed.contains($0) }) else { return false }
        let decoded = template.removingPercentEncoding ?? template
        return !decoded.contains("..") && !decoded.contains("://")
    }

    /// The origin and path of a URL, query and fragment stripped.
    struct Location {
        let origin: String
        let path: String

        init?(_ text: String) {
            guard let components = URLComponents(string: text), let scheme = components.scheme, let host = components.host else {
                return nil
            }
            var origin = "\(scheme)://\(host)"
            if let port = components.port { origin += ":\(port)" }
            self.origin = origin
            self.path = components.path.isEmpty ? "/" : components.path
        }
    }
}
