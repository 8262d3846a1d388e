import Foundation
public import HTTPTypes

/// A value fixed when the route is declared, or computed from each request.
///
/// Per-request values must be deterministic: the paid retry recomputes the requirements and must
/// find the entry the client echoes, so the same request must give the same value.
public enum RequestValue<Value: Sendable>: Sendable {
    case fixed(Value)
    case perRequest(@Sendable (ServerRequest) async throws -> Value)

    func resolve(for request: ServerRequest) async throws -> Value {
        switch self {
        case .fixed(let v): v
        case .perRequest(let f): try await f(request)
        }
    }
}

extension RequestValue: ExpressibleByStringLiteral, ExpressibleByUnicodeScalarLiteral, ExpressibleByExtendedGraphemeClusterLiteral
where Value == String {
    public init(stringLiteral value: String) { self = .fixed(value) }
}

/// What a payment option charges: a money string such as `"$0.01"` (checked when the server is
/// built), a ``Price``, or a per-request price.
public enum PriceSpec: Sendable, ExpressibleByStringLiteral {
    case text(String)
    case price(Price)
    case perRequest(@Sendable (ServerRequest) async throws -> Price)

    public init(stringLiteral value: String) { self = .text(value) }

    /// The price for `request`.
    func resolve(for request: ServerRequest) async throws -> Price {
        switch self {
        case .text(let t): try Self.parse(t)
        case .price(let p): p
        case .perRequest(let f): try await f(request)
        }
    }

    static func parse(_ text: String) throws(RouteConfigurationError) -> Price {
        do { return try .dollars(text) } catch { throw .invalidPrice(text, error.description) }
    }
}

/// One way a route can be paid for; it becomes one `accepts[]` entry.
public struct PaymentOption: Sendable {
    /// Scheme name, e.g. `exact`.
    public var scheme: String
    public var network: Network
    public var price: PriceSpec
    /// The recipient; may depend on the request (per-request recipient routing).
    public var payTo: RequestValue<String>
    /// `maxTimeoutSeconds` of the requirement (default 300).
    public var maxTimeoutSeconds: Int
    /// Merged over the asset's default `extra` (the route's keys win).
    public var extra: JSONObject?

    public init(
        scheme: String = "exact", network: Network, price: PriceSpec, payTo: RequestValue<String>,
        maxTimeoutSeconds: Int = 300, extra: JSONObject? = nil
    ) {
        self.scheme = scheme
        self.network = network
        self.price = price
        self.payTo = payTo
        self.maxTimeoutSeconds = maxTimeoutSeconds
        self.extra = extra
    }

    /// The `exact` scheme: pay `price` on `network` to `payTo`.
    public static func exact(_ price: PriceSpec, on network: Network, payTo: RequestValue<String>, maxTimeoutSeconds: Int = 300) -> PaymentOption {
        PaymentOption(scheme: "exact", network: network, price: price, payTo: payTo, maxTimeoutSeconds: maxTimeoutSeconds)
    }
}

/// When a paid route's payment is settled relative to its handler.
public enum SettlementTiming: Sendable, Hashable {
    /// Run the handler, hold its response, settle, then release it (the reference behaviour).
    /// No settlement when the handler answers with a status of 400 or more.
    case afterHandler
    /// Settle first, then run the handler and stream its body as it is produced. The client is
    /// charged even if the handler then fails.
    case beforeHandler
}

/// A protected route: how it can be paid for and what the 402 says about it.
public struct PaidRoute: Sendable {
    /// The accepted payment options, in order of preference.
    public var accepts: [PaymentOption]
    /// `resource.url`; the full request URL when `nil`.
    public var resource: String?
    public var description: String
    public var mimeType: String
    /// Extension declarations for `PaymentRequired.extensions`.
    public var extensions: JSONObject?
    public var settlement: SettlementTiming
    /// HTML served to browsers instead of the built-in paywall.
    public var paywallHTML: String?
    /// Who may sign in (`sign-in-with-x`) instead of paying; needs
    /// `ResourceServer.Configuration.signInWithX`. `nil` (the default): nobody.
    public var signIn: SignInAccess?
    /// How the route is listed by discovery (`bazaar`): checked when the server is built and
    /// emitted, enriched for each request, in `PaymentRequired.extensions["bazaar"]`. `nil` (the
    /// default): not declared.
    public var bazaar: BazaarDeclaration?

    public init(
        accepts: [PaymentOption], resource: String? = nil, description: String = "", mimeType: String = "",
        extensions: JSONObject? = nil, settlement: SettlementTiming = .afterHandler, paywallHTML: String? = nil, signIn: SignInAccess? = nil,
        bazaar: BazaarDeclaration? = nil
    ) {
        self.accepts = accepts
        self.resource = resource
        self.description = description
        self.mimeType = mimeType
        self.extensions = extensions
        self.settlement = settlement
        self.paywallHTML = paywallHTML
        self.signIn = signIn
        self.bazaar = bazaar
    }

    /// A route paid with the `exact` scheme in one payment option.
    public static func exact(
        _ price: PriceSpec, on network: Network, payTo: RequestValue<String>, description: String = "", mimeType: String = "",
        settlement: SettlementTiming = .afterHandler
    ) -> PaidRoute {
        PaidRoute(
            accepts: [.exact(price, on: network, payTo: payTo)], description: description, mimeType: mimeType, settlement: settlement)
    }

    /// Whether every option's price and payee are fixed, so the route offers the same
    /// requirements to every request for the same resource.
    var hasFixedOffer: Bool {
        accepts.allSatisfy { option in
            if case .perRequest = option.price { return false }
            if case .perRequest = option.payTo { return false }
            return true
        }
    }
}

extension PaidRoute {
    /// A route served to any wallet that signs in with `sign-in-with-x`, without payment.
    ///
    /// - Parameters:
    ///   - description: `resource.description` of the 402.
    ///   - mimeType: `resource.mimeType` of the 402.
    /// - Returns: The route (empty `accepts`, ``SignInAccess/authOnly``).
    public static func signInOnly(description: String = "", mimeType: String = "") -> PaidRoute {
        PaidRoute(accepts: [], description: description, mimeType: mimeType, signIn: .authOnly)
    }
}

/// Route patterns and their payment terms; the first matching pattern wins.
public struct RouteTable: Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var routes: [(pattern: RoutePattern, route: PaidRoute)] = []
    private var problems: [RouteConfigurationError] = []

    public init() {}

    /// Declares routes in order, e.g. `["GET /weather": .exact("$0.01", on: .base, payTo: "0x…")]`.
    /// Invalid patterns are reported when the server is built.
    public init(dictionaryLiteral elements: (String, PaidRoute)...) {
        for (pattern, route) in elements { add(pattern, route) }
    }

    /// Adds a route after the existing ones.
    public mutating func add(_ pattern: String, _ route: PaidRoute) {
        do {
            routes.append((try RoutePattern(pattern), route))
        } catch {
            problems.append(error)
        }
    }

    /// Checks every pattern and fixed price; throws the first problem.
    public func validate() throws(RouteConfigurationError) {
        if let first = problems.first { throw first }
        for (pattern, route) in routes {
            guard !route.accepts.isEmpty || route.signIn == .authOnly else { throw .noPaymentOptions(pattern.description) }
            for option in route.accepts {
                if case .text(let t) = option.price { _ = try PriceSpec.parse(t) }
            }
        }
    }

    /// The first route matching the method and any reading of the path (see
    /// ``RoutePattern/match(method:path:)``), with its captured path parameters.
    public func match(method: String, path: String) -> (pattern: RoutePattern, route: PaidRoute, parameters: [String: String])? {
        for (pattern, route) in routes {
            if let params = pattern.match(method: method, path: path) { return (pattern, route, params) }
        }
        return nil
    }

    /// What to do with a request, judged on its ``RequestPath`` and every method it may be
    /// served as:
    /// - a malformed path is refused (``RequestPathError``), whatever the route;
    /// - `OPTIONS` is never charged; on a paid path it is answered by the seller itself
    ///   (``RouteResolution/preflight(allow:)``) so it reaches nothing paid;
    /// - the request is priced as its method (`HEAD` as `GET`) and, failing that, as each method
    ///   named by `X-HTTP-Method-Override`, `X-HTTP-Method`, `X-Method-Override` or a `_method`
    ///   query parameter (frameworks and upstreams that honour them would serve that method);
    /// - an ambiguous path (see ``RequestPath``) is refused when any reading, for any of those
    ///   methods, reaches a paid route;
    /// - otherwise the first route matching the canonical path is charged.
    public func resolve(_ request: ServerRequest) -> RouteResolution {
        let path: RequestPath
        do { path = try RequestPath(request.path) } catch { return .refused(error) }
        if request.method == .options {
            var allow: [String] = []
            for (pattern, _) in routes where path.readings.contains(where: { pattern.match(segments: $0) != nil }) {
                let methods = pattern.method.map { $0 == "GET" ? ["GET", "HEAD"] : [$0] } ?? ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
                for m in methods where !allow.contains(m) { allow.append(m) }
            }
            return allow.isEmpty ? .free : .preflight(allow: allow + ["OPTIONS"])
        }
        let methods = MethodOverride.candidates(for: request)
        var found: (pattern: RoutePattern, route: PaidRoute, parameters: [String: String])?
        search: for method in methods {
            for (pattern, route) in routes where pattern.admits(method: method) {
                if let parameters = pattern.match(segments: path.segments) {
                    found = (pattern, route, parameters)
                    break search
                }
            }
        }
        if path.isAmbiguous {
            if found != nil { return .refused(.ambiguous) }
            for (pattern, _) in routes where methods.contains(where: { pattern.admits(method: $0) }) {
                if path.alternativeReadings.contains(where: { pattern.match(segments: $0) != nil }) { return .refused(.ambiguous) }
            }
        }
        guard let found else { return .free }
        return .paid(pattern: found.pattern, route: found.route, parameters: found.parameters)
    }
}

/// How ``RouteTable/resolve(_:)`` judged a request.
public enum RouteResolution: Sendable {
    /// No paid route: pass it through.
    case free
    /// Charge this route.
    case paid(pattern: RoutePattern, route: PaidRoute, parameters: [String: String])
    /// Refuse the request with ``RequestPathError/response``.
    case refused(RequestPathError)
    /// An `OPTIONS` request on a paid path: answer it without running the handler.
    case preflight(allow: [String])

    /// The `204` answer to a preflight: `Allow`, and for a CORS preflight (`Origin` present)
    /// `Access-Control-Allow-Origin: *` (no credentials), the allowed methods and the requested
    /// headers (or the x402 ones).
    public static func preflightResponse(allow: [String], request: ServerRequest) -> ServerResponse {
        var headers: HTTPFields = [.allow: allow.joined(separator: ", "), .cacheControl: "no-store"]
        if request.headers.firstValue(for: .origin) != nil {
            headers[.accessControlAllowOrigin] = "*"
            headers[.accessControlAllowMethods] = allow.joined(separator: ", ")
            let requested = request.headers.firstValue(for: .accessControlRequestHeaders) ?? ""
            let isTokenList =
                !requested.isEmpty && requested.utf8.count <= 1024
                && requested.unicodeScalars.allSatisfy { $0.properties.isAlphabetic && $0.isASCII || "0123456789-_, ".unicodeScalars.contains($0) }
            headers[.accessControlAllowHeaders] =
                isTokenList ? requested : "Content-Type, \(PaymentHeaderName.paymentSignature), \(PaymentHeaderName.xPayment)"
            headers[.accessControlMaxAge] = "600"
        }
        return ServerResponse(status: .noContent, headers: headers)
    }
}

/// Method-override conventions: a request carrying them may be served as another method.
public enum MethodOverride {
    /// Headers through which a client names another method.
    public static let headerNames: [HTTPField.Name] = [
        .known("X-HTTP-Method-Override"), .known("X-HTTP-Method"), .known("X-Method-Override"),
    ]

    /// The methods a request may be served as: its own method first, then every method named
    /// by an override header or a `_method` query parameter (upper-cased, letters only).
    public static func candidates(for request: ServerRequest) -> [String] {
        var methods = [request.method.rawValue.uppercased()]
        // A set beside the ordered list: a header listing thousands of distinct names stays linear.
        var seen = Set(methods)
        func add(_ text: String) {
            for part in text.split(separator: ",") {
                let m = String(part).trimmingSpaces.uppercased()
                guard !m.isEmpty, m.count <= 32, m.allSatisfy({ $0.isASCII && $0.isLetter }), seen.insert(m).inserted else { continue }
                methods.append(m)
            }
        }
        for name in headerNames {
            for value in request.headers[values: name] { add(value) }
        }
        if let query = request.query {
            for pair in query.split(separator: "&").prefix(256) {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = RoutePattern.percentDecoded(String(kv[0]).replacingOccurrences(of: "+", with: " "))
                guard key.lowercased() == "_method", kv.count == 2 else { continue }
                add(RoutePattern.percentDecoded(String(kv[1]).replacingOccurrences(of: "+", with: " ")))
            }
        }
        return methods
    }
}
