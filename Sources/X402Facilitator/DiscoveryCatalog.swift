import Foundation
import X402

/// The bazaar catalog: resources that reported `extensions.bazaar` (v2) or a discoverable
/// `outputSchema` (v1) on a valid `/verify` or successful `/settle`, served by
/// `GET /discovery/resources`. Entries not refreshed within `timeToLive` are dropped.
///
/// Entries are keyed by `origin + (routeTemplate ?? path)` of the resource URL (query and
/// fragment stripped), plus the tool name for MCP resources.
public actor DiscoveryCatalog {
    private var entries: [String: DiscoveryResource] = [:]
    public let timeToLive: Duration
    private let now: @Sendable () -> Date

    public init(timeToLive: Duration = .seconds(7 * 24 * 3600), now: @escaping @Sendable () -> Date = { Date() }) {
        self.timeToLive = timeToLive
        self.now = now
    }

    /// Records the resource a paid request reported, if it reported one.
    public func record(_ request: FacilitatorRequest) {
        guard let (key, entry) = Self.entry(for: request, at: now()) else { return }
        entries[key] = entry
    }

    /// One page of live entries, optionally of one `type`, in resource order.
    public func page(type: String?, limit: Int, offset: Int) -> DiscoveryResponse {
        dropExpired()
        let matching = entries.values.filter { type == nil || $0.type == type }.sorted { $0.resource < $1.resource }
        let items = Array(matching.dropFirst(offset).prefix(limit))
        return DiscoveryResponse(
            x402Version: .v2, items: items, pagination: .init(limit: limit, offset: offset, total: matching.count))
    }

    /// The number of live entries.
    public var count: Int {
        dropExpired()
        return entries.count
    }

    private func dropExpired() {
        let cutoff = now().addingTimeInterval(-Double(timeToLive.components.seconds))
        entries = entries.filter { $0.value.lastUpdated >= cutoff }
    }

    // MARK: Building entries

    static func entry(for request: FacilitatorRequest, at date: Date) -> (String, DiscoveryResource)? {
        switch (request.paymentPayload, request.paymentRequirements) {
        case (.v2(let payload), .v2(let requirements)):
            guard let bazaar = payload.extensions?["bazaar"]?.objectValue, let info = bazaar["info"]?.objectValue,
                let input = info["input"]?.objectValue, let type = input["type"]?.stringValue,
                let url = payload.resource?.url, let location = Location(url)
            else { return nil }
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
            let resource = DiscoveryResource(
                resource: location.origin + (template ?? location.path), type: type, x402Version: .v2,
                accepts: [.v2(requirements)], lastUpdated: date, metadata: metadata)
            return (key, resource)
        case (.v1, .v1(let requirements)):
            guard let input = requirements.outputSchema?["input"]?.objectValue, let location = Location(requirements.resource) else {
                return nil
            }
            if input["discoverable"]?.boolValue == false { return nil }
            var metadata = JSONObject()
            if let description = requirements.description { metadata["description"] = .string(description) }
            if let mimeType = requirements.mimeType { metadata["mimeType"] = .string(mimeType) }
            metadata["input"] = .object(input)
            if let output = requirements.outputSchema?["output"] { metadata["output"] = output }
            let key = location.origin + location.path
            let resource = DiscoveryResource(
                resource: key, type: input["type"]?.stringValue ?? "http", x402Version: .v1, accepts: [.v1(requirements)],
                lastUpdated: date, metadata: metadata)
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
