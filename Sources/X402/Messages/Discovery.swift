public import Foundation

/// One resource listed by `GET /discovery/resources` (the bazaar catalog).
public struct DiscoveryResource: Sendable, Equatable, Codable, JSONRepresentable {
    /// The resource URL.
    public var resource: String
    /// Resource type, e.g. `http`.
    public var type: String
    public var x402Version: X402Version
    public var accepts: [AnyPaymentRequirements]
    /// When the entry was last refreshed (sent as Unix seconds; an ISO-8601 or numeric string is
    /// also accepted).
    public var lastUpdated: Date
    public var metadata: JSONObject?
    /// Newer upstream name for `metadata`.
    public var extensions: JSONObject?
    /// What the resource is (the seller's `resource.description`), as the newer discovery API
    /// lists it beside `resource`.
    public var description: String?
    /// The MIME type of the resource's answer.
    public var mimeType: String?

    public init(
        resource: String, type: String = "http", x402Version: X402Version, accepts: [AnyPaymentRequirements],
        lastUpdated: Date, metadata: JSONObject? = nil, extensions: JSONObject? = nil
    ) {
        self.resource = resource
        self.type = type
        self.x402Version = x402Version
        self.accepts = accepts
        self.lastUpdated = lastUpdated
        self.metadata = metadata
        self.extensions = extensions
    }

    public init(json: JSONValue) throws(MessageDecodingError) { try self.init(json: json, path: "") }

    init(json: JSONValue, path: String) throws(MessageDecodingError) {
        let r = try JSONReader(json, path: path)
        resource = try r.string("resource")
        type = try r.string("type")
        let v = try X402Version.read(from: r)
        x402Version = v
        accepts = try r.list("accepts") { item, p throws(MessageDecodingError) in
            try AnyPaymentRequirements(json: item, version: v, path: p)
        }
        let updated = try r.required("lastUpdated")
        // Only finite Unix seconds within years 0001–9999 (a peer's `1e300`, `"nan"` or `"inf"` would
        // otherwise become a Date whose encoding traps in `Int(_:)`).
        if let n = updated.numberValue, let date = Self.timestamp(n.doubleValue) {
            lastUpdated = date
        } else if let s = updated.stringValue, let seconds = Double(s), let date = Self.timestamp(seconds) {
            lastUpdated = date
        } else if let s = updated.stringValue, let date = Self.parseISO8601(s).flatMap({ Self.timestamp($0.timeIntervalSince1970) }) {
            lastUpdated = date
        } else {
            throw MessageDecodingError(path: r.childPath("lastUpdated"), problem: .invalidValue("not a timestamp"))
        }
        metadata = try r.optionalObject("metadata")
        extensions = try r.optionalObject("extensions")
        description = try r.optionalString("description")
        mimeType = try r.optionalString("mimeType")
    }

    /// The earliest and latest accepted `lastUpdated`, in Unix seconds (0001-01-01 and 9999-12-31).
    static let timestampRange: ClosedRange<Double> = -62_135_596_800...253_402_300_799

    /// A date for `seconds` when it is finite and within ``timestampRange``.
    static func timestamp(_ seconds: Double) -> Date? {
        timestampRange.contains(seconds) ? Date(timeIntervalSince1970: seconds) : nil
    }

    private static func parseISO8601(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("resource", resource)
        w.set("type", type)
        w.set("x402Version", x402Version.rawValue)
        w.set("accepts", .array(accepts.map(\.json)))
        // Clamped, so a date built in code outside the range (or NaN) cannot trap the conversion.
        let seconds = lastUpdated.timeIntervalSince1970.rounded(.down)
        let clamped = seconds.isNaN ? 0 : min(max(seconds, Self.timestampRange.lowerBound), Self.timestampRange.upperBound)
        w.set("lastUpdated", Int(clamped))
        w.setIfPresent("description", description)
        w.setIfPresent("mimeType", mimeType)
        w.setIfPresent("metadata", metadata)
        w.setIfPresent("extensions", extensions)
        return w.value
    }
}

/// The answer of `GET /discovery/resources`.
public struct DiscoveryResponse: Sendable, Equatable, Codable, JSONRepresentable {
    public struct Pagination: Sendable, Equatable {
        public var limit: Int
        public var offset: Int
        public var total: Int
        public init(limit: Int, offset: Int, total: Int) {
            self.limit = limit
            self.offset = offset
            self.total = total
        }
    }

    public var x402Version: X402Version
    public var items: [DiscoveryResource]
    public var pagination: Pagination

    public init(x402Version: X402Version = .v2, items: [DiscoveryResource], pagination: Pagination) {
        self.x402Version = x402Version
        self.items = items
        self.pagination = pagination
    }

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        let raw = try r.optionalInt("x402Version") ?? 2
        x402Version = X402Version(rawValue: raw) ?? .v2
        items = try r.list("items") { v, p throws(MessageDecodingError) in try DiscoveryResource(json: v, path: p) }
        let p = try JSONReader(.object(try r.object("pagination")), path: "pagination")
        pagination = Pagination(limit: try p.int("limit"), offset: try p.int("offset"), total: try p.int("total"))
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", x402Version.rawValue)
        w.set("items", .array(items.map(\.json)))
        var page = JSONWriter()
        page.set("limit", pagination.limit)
        page.set("offset", pagination.offset)
        page.set("total", pagination.total)
        w.set("pagination", page.value)
        return w.value
    }
}

/// The answer of `GET /discovery/search`: the matching resources and, when more match, a cursor
/// for the next page.
public struct DiscoverySearchResponse: Sendable, Equatable, Codable, JSONRepresentable {
    /// The protocol version of the answer.
    public var x402Version: X402Version
    /// The matching resources of this page.
    public var resources: [DiscoveryResource]
    /// Whether the facilitator left matches out (the next page has them).
    public var partialResults: Bool?
    /// The page size asked for.
    public var limit: Int?
    /// Where the next page starts (pass as `cursor`), `nil` on the last page.
    public var cursor: String?

    /// A search answer.
    ///
    /// - Parameters:
    ///   - x402Version: The protocol version.
    ///   - resources: The matching resources of this page.
    ///   - partialResults: Whether more match than this page holds.
    ///   - limit: The page size asked for.
    ///   - cursor: Where the next page starts.
    public init(
        x402Version: X402Version = .v2, resources: [DiscoveryResource], partialResults: Bool? = nil, limit: Int? = nil, cursor: String? = nil
    ) {
        self.x402Version = x402Version
        self.resources = resources
        self.partialResults = partialResults
        self.limit = limit
        self.cursor = cursor
    }

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        let raw = try r.optionalInt("x402Version") ?? 2
        x402Version = X402Version(rawValue: raw) ?? .v2
        resources = try r.list("resources") { v, p throws(MessageDecodingError) in try DiscoveryResource(json: v, path: p) }
        partialResults = r.value("partialResults")?.boolValue
        if let page = try r.optionalObject("pagination") {
            let p = try JSONReader(.object(page), path: "pagination")
            limit = try p.optionalInt("limit")
            cursor = try p.optionalString("cursor")
        }
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("x402Version", x402Version.rawValue)
        w.set("resources", .array(resources.map(\.json)))
        if let partialResults { w.set("partialResults", partialResults) }
        if limit != nil || cursor != nil {
            var page = JSONWriter()
            page.setIfPresent("limit", limit)
            page.set("cursor", cursor.map(JSONValue.string) ?? .null)
            w.set("pagination", page.value)
        }
        return w.value
    }
}
