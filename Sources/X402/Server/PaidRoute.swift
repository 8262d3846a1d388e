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

    public init(
        accepts: [PaymentOption], resource: String? = nil, description: String = "", mimeType: String = "",
        extensions: JSONObject? = nil, settlement: SettlementTiming = .afterHandler, paywallHTML: String? = nil
    ) {
        self.accepts = accepts
        self.resource = resource
        self.description = description
        self.mimeType = mimeType
        self.extensions = extensions
        self.settlement = settlement
        self.paywallHTML = paywallHTML
    }

    /// A route paid with the `exact` scheme in one payment option.
    public static func exact(
        _ price: PriceSpec, on network: Network, payTo: RequestValue<String>, description: String = "", mimeType: String = "",
        settlement: SettlementTiming = .afterHandler
    ) -> PaidRoute {
        PaidRoute(
            accepts: [.exact(price, on: network, payTo: payTo)], description: description, mimeType: mimeType, settlement: settlement)
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
            guard !route.accepts.isEmpty else { throw .noPaymentOptions(pattern.description) }
            for option in route.accepts {
                if case .text(let t) = option.price { _ = try PriceSpec.parse(t) }
            }
        }
    }

    /// The first route matching the request, with its captured path parameters.
    public func match(method: String, path: String) -> (pattern: RoutePattern, route: PaidRoute, parameters: [String: String])? {
        for (pattern, route) in routes {
            if let params = pattern.match(method: method, path: path) { return (pattern, route, params) }
        }
        return nil
    }
}
