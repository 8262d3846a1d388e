public import HTTPTypes

extension HTTPField.Name {
    /// `PAYMENT-REQUIRED` (v2, server → client): the base64 `PaymentRequired` of a 402.
    public static let paymentRequired = known(PaymentHeaderName.paymentRequired)
    /// `PAYMENT-SIGNATURE` (v2, client → server): the base64 `PaymentPayload`.
    public static let paymentSignature = known(PaymentHeaderName.paymentSignature)
    /// `PAYMENT-RESPONSE` (v2, server → client): the base64 `SettleResponse`.
    public static let paymentResponse = known(PaymentHeaderName.paymentResponse)
    /// `X-PAYMENT` (v1, client → server): the base64 `PaymentPayloadV1`.
    public static let xPayment = known(PaymentHeaderName.xPayment)
    /// `X-PAYMENT-RESPONSE` (v1, server → client): the base64 `SettleResponse`.
    public static let xPaymentResponse = known(PaymentHeaderName.xPaymentResponse)
    /// `SIGN-IN-WITH-X` (client → server): the base64 sign-in proof.
    public static let signInWithX = known(SignInWithX.headerName)
    /// `X-Forwarded-Proto`: the scheme a proxy in front of the seller was reached with.
    public static let xForwardedProto = known("X-Forwarded-Proto")
    /// `Host` as an HTTP/1.1 field. (HTTPTypes reads it into `HTTPRequest.authority`; a request
    /// built from raw fields may still carry it.)
    public static let hostHeader = known("Host")

    /// The name of a constant above (never peer input), each a valid token.
    static func known(_ name: String) -> Self {
        guard let field = Self(name) else { preconditionFailure("\(name) is not a valid field name") }
        return field
    }
}

extension HTTPResponse.Status {
    /// 402 Payment Required (HTTPTypes leaves it out as reserved; x402 gives it its meaning).
    static var paymentRequired: Self { Self(code: 402) }
}

extension HTTPFields {
    /// The first value of `name`, as received. Unlike `self[name]`, which joins every value of
    /// the name with `, `, a repeated field is not merged into one value.
    ///
    /// - Parameter name: The field name, compared case-insensitively.
    /// - Returns: The value of the first field named `name`, or `nil` when there is none.
    public func firstValue(for name: HTTPField.Name) -> String? {
        self[values: name].first
    }
}

/// What the resource server needs to know about an incoming request; adapters map their
/// framework's request to this.
public struct ServerRequest: Sendable {
    /// The HTTP method, in upper case (`get` is read as `GET`).
    public var method: HTTPRequest.Method
    /// The request path as received (percent-encoded, without the query).
    public var path: String
    /// The query string without `?`, if any.
    public var query: String?
    /// The request's header fields, in the order received.
    public var headers: HTTPFields
    /// The full URL of the resource (`scheme://host/path?query`); built from `Host` when absent.
    public var url: String
    /// Values of the matched route's `[param]` / `:param` segments (filled in by the server).
    public var routeParameters: [String: String]

    /// A request as an adapter sees it.
    ///
    /// - Parameters:
    ///   - method: The request method; stored in upper case.
    ///   - path: The request target's path, percent-encoded as received. A `?query` still on it
    ///     is split off when `query` is `nil`.
    ///   - query: The query without `?`.
    ///   - headers: The request's header fields.
    ///   - url: The full URL of the resource; when `nil` it is built from `X-Forwarded-Proto`
    ///     (default `http`), `Host` (default `localhost`), the path and the query.
    public init(method: HTTPRequest.Method, path: String, query: String? = nil, headers: HTTPFields = [:], url: String? = nil) {
        self.method = HTTPRequest.Method(method.rawValue.uppercased()) ?? method
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
            let host = headers.firstValue(for: .hostHeader) ?? "localhost"
            let scheme = headers.firstValue(for: .xForwardedProto) ?? "http"
            self.url = "\(scheme)://\(host)\(path)" + (query.map { $0.isEmpty ? "" : "?\($0)" } ?? "")
        }
        routeParameters = [:]
    }

    /// Whether the request comes from a web browser (`Accept` has `text/html` and
    /// `User-Agent` has `Mozilla`), which gets the HTML paywall instead of a bare 402.
    public var isFromBrowser: Bool {
        guard let accept = headers.firstValue(for: .accept), let agent = headers.firstValue(for: .userAgent) else { return false }
        return accept.lowercased().contains("text/html") && agent.contains("Mozilla")
    }
}

/// A complete response the resource server sends instead of the route's handler.
public struct ServerResponse: Sendable, Equatable {
    /// The status code.
    public var status: HTTPResponse.Status
    /// The response's header fields.
    public var headers: HTTPFields
    /// The whole body.
    public var body: [UInt8]

    /// A response with a buffered body.
    ///
    /// - Parameters:
    ///   - status: The status code.
    ///   - headers: The header fields.
    ///   - body: The body bytes.
    public init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response (`Content-Type: application/json`).
    ///
    /// - Parameters:
    ///   - status: The status code.
    ///   - value: The JSON body.
    ///   - headers: Further header fields; a `Content-Type` among them is replaced.
    /// - Returns: The response with `value` serialized as its body.
    public static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> ServerResponse {
        var h = headers
        h[.contentType] = "application/json"
        return ServerResponse(status: status, headers: h, body: value.serialized())
    }

    /// The status and header fields as an `HTTPResponse`.
    public var head: HTTPResponse { HTTPResponse(status: status, headerFields: headers) }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// How a paid response may be cached: by the payer only.
///
/// The engine releases a paid response with `Cache-Control: private` and
/// `Vary: PAYMENT-SIGNATURE, X-PAYMENT`; adapters merge these with what the handler or upstream
/// set (`HTTPFields.mergePaymentRelease(_:)`), so a shared cache never stores paid content.
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
    ///
    /// - Parameter handlerValues: Every `Cache-Control` value the handler set.
    /// - Returns: The merged directive list.
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
    ///
    /// - Parameter handlerValues: Every `Vary` value the handler set.
    /// - Returns: The merged field list.
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

extension HTTPFields {
    /// Adds the headers of a ``PaymentCompletion/release(addingHeaders:)`` to a handler's
    /// response: `Cache-Control` and `Vary` are merged (``PaidResponseCaching``), CDN cache
    /// headers are dropped when the response is paid, every other header is set.
    ///
    /// - Parameter release: The header fields the engine released the response with.
    public mutating func mergePaymentRelease(_ release: HTTPFields) {
        let paid = release.contains(.cacheControl)
        for field in release {
            switch field.name {
            case .cacheControl: self[.cacheControl] = PaidResponseCaching.cacheControl(merging: self[values: .cacheControl])
            case .vary: self[.vary] = PaidResponseCaching.vary(merging: self[values: .vary])
            default: self[field.name] = field.value
            }
        }
        if paid {
            for name in PaidResponseCaching.sharedCacheHeaders.compactMap({ HTTPField.Name($0) }) { self[values: name] = [] }
        }
    }
}
