/// HTTP header fields: ordered, names compared case-insensitively.
public struct HeaderFields: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    public init() { fields = [] }

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The first value of `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        let key = name.lowercased()
        return fields.first { $0.name.lowercased() == key }?.value
    }

    /// Every value of `name`.
    public func values(for name: String) -> [String] {
        let key = name.lowercased()
        return fields.filter { $0.name.lowercased() == key }.map(\.value)
    }

    /// Adds a field, keeping any existing one of the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Sets a field, replacing every existing one of the same name.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name: name, value: value))
    }

    public mutating func remove(_ name: String) {
        let key = name.lowercased()
        fields.removeAll { $0.name.lowercased() == key }
    }

    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HeaderFields, rhs: HeaderFields) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name.lowercased() == $1.name.lowercased() && $0.value == $1.value }
    }
}

/// What the resource server needs to know about an incoming request; adapters map their
/// framework's request to this.
public struct ServerRequest: Sendable {
    /// The HTTP method, e.g. `GET`.
    public var method: String
    /// The request path as received (percent-encoded, without the query).
    public var path: String
    /// The query string without `?`, if any.
    public var query: String?
    public var headers: HeaderFields
    /// The full URL of the resource (`scheme://host/path?query`); built from `Host` when absent.
    public var url: String
    /// Values of the matched route's `[param]` / `:param` segments (filled in by the server).
    public var routeParameters: [String: String]

    public init(method: String, path: String, query: String? = nil, headers: HeaderFields = [:], url: String? = nil) {
        self.method = method.uppercased()
        var path = path
        var query = query
        if query == nil, let q = path.firstIndex(of: "?") {
            query = String(path[path.index(after: q)...])
            path = String(path[..<q])
        }
        self.path = path
        self.query = query
        self.headers = headers
        if let url {
            self.url = url
        } else {
            let host = headers["Host"] ?? "localhost"
            let scheme = headers["X-Forwarded-Proto"] ?? "http"
            self.url = "\(scheme)://\(host)\(path)" + (query.map { $0.isEmpty ? "" : "?\($0)" } ?? "")
        }
        routeParameters = [:]
    }

    /// Whether the request comes from a web browser (`Accept` has `text/html` and
    /// `User-Agent` has `Mozilla`), which gets the HTML paywall instead of a bare 402.
    public var isFromBrowser: Bool {
        guard let accept = headers["Accept"], let agent = headers["User-Agent"] else { return false }
        return accept.lowercased().contains("text/html") && agent.contains("Mozilla")
    }
}

/// A complete response the resource server sends instead of the route's handler.
public struct ServerResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HeaderFields
    public var body: [UInt8]

    public init(status: Int, headers: HeaderFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response (`Content-Type: application/json`).
    public static func json(_ status: Int, _ value: JSONValue, headers: HeaderFields = [:]) -> ServerResponse {
        var h = headers
        h.set("Content-Type", "application/json")
        return ServerResponse(status: status, headers: h, body: value.serialized())
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// How a paid response may be cached: by the payer only.
///
/// The engine releases a paid response with `Cache-Control: private` and
/// `Vary: PAYMENT-SIGNATURE, X-PAYMENT`; adapters merge these with what the handler or upstream
/// set (``HeaderFields/mergePaymentRelease(_:)``), so a shared cache never stores paid content.
public enum PaidResponseCaching {
    /// The request headers a paid response varies on.
    public static let varyHeaders = [PaymentHeaderName.paymentSignature, PaymentHeaderName.xPayment]

    /// Response headers that only steer shared caches (CDNs); dropped from a paid response.
    public static let sharedCacheHeaders = ["Surrogate-Control", "CDN-Cache-Control", "Cloudflare-CDN-Cache-Control", "Fastly-Surrogate-Control"]

    /// Directives kept from the handler's `Cache-Control` (others, such as `public`, `max-age`,
    /// `s-maxage` or `immutable`, would let a cache keep or share the paid response).
    static let keptDirectives: Set<String> = ["no-store", "no-cache", "private", "must-revalidate", "no-transform", "must-understand"]

    /// The `Cache-Control` of a paid response given the handler's values: its `no-store`,
    /// `no-cache`, `must-revalidate`, … (unqualified), always with `private`.
    public static func cacheControl(merging handlerValues: [String]) -> String {
        var directives: [String] = []
        for value in handlerValues {
            for part in value.split(separator: ",") {
                let name = part.split(separator: "=", maxSplits: 1).first.map { String($0).trimmingSpaces.lowercased() } ?? ""
                if keptDirectives.contains(name), !directives.contains(name) { directives.append(name) }
            }
        }
        if !directives.contains("private") { directives.append("private") }
        return directives.joined(separator: ", ")
    }

    /// The `Vary` of a paid response: the handler's fields plus ``varyHeaders`` (`*` stays `*`).
    public static func vary(merging handlerValues: [String]) -> String {
        var fields: [String] = []
        for value in handlerValues {
            for part in value.split(separator: ",") {
                let field = String(part).trimmingSpaces
                if field == "*" { return "*" }
                if !field.isEmpty, !fields.contains(where: { $0.lowercased() == field.lowercased() }) { fields.append(field) }
            }
        }
        for field in varyHeaders where !fields.contains(where: { $0.lowercased() == field.lowercased() }) { fields.append(field) }
        return fields.joined(separator: ", ")
    }
}

extension HeaderFields {
    /// Adds the headers of a ``PaymentCompletion/release(addingHeaders:)`` to a handler's
    /// response: `Cache-Control` and `Vary` are merged (``PaidResponseCaching``), CDN cache
    /// headers are dropped when the response is paid, every other header is set.
    public mutating func mergePaymentRelease(_ release: HeaderFields) {
        let paid = release["Cache-Control"] != nil
        for (name, value) in release {
            switch name.lowercased() {
            case "cache-control": set(name, PaidResponseCaching.cacheControl(merging: values(for: name)))
            case "vary": set(name, PaidResponseCaching.vary(merging: values(for: name)))
            default: set(name, value)
            }
        }
        if paid {
            for name in PaidResponseCaching.sharedCacheHeaders { remove(name) }
        }
    }
}
