import Foundation
import X402

/// Everything `x402 gateway` is configured with, from a JSON file and/or command-line flags.
///
/// ```json
/// {
///   "upstream": "http://127.0.0.1:8080",
///   "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
///   "network": "eip155:84532",
///   "facilitator": "https://x402.org/facilitator",
///   "facilitatorAuthEnv": "X402_FACILITATOR_AUTH",
///   "host": "127.0.0.1", "port": 4021,
///   "state": "memory",
///   "routes": [
///     "GET /api/*=$0.01",
///     { "route": "POST /api/report", "price": "$0.10", "description": "A report", "settleBefore": true }
///   ]
/// }
/// ```
///
/// Secrets never appear here: the facilitator credential is named by environment variable.
public struct GatewayConfiguration: Sendable, Equatable, Codable {
    /// One paid route.
    public struct Route: Sendable, Equatable, Codable {
        /// `METHOD /pattern` (e.g. `GET /api/*`, `* /v1/[model]`); see ``RoutePattern``.
        public var route: String
        /// `$0.01` in the network's default stablecoin, or, when ``asset`` is set, an amount in
        /// the asset's atomic units (e.g. `10000`).
        public var price: String
        /// CAIP-2 network; the gateway's ``GatewayConfiguration/network`` when `nil`.
        public var network: String?
        /// A token address to be paid in instead of the network's default stablecoin.
        public var asset: String?
        /// Scheme `extra` for the requirement (e.g. a custom asset's EIP-712 `name` and `version`).
        public var extra: JSONObject?
        /// The recipient; the gateway's ``GatewayConfiguration/payTo`` when `nil`.
        public var payTo: String?
        public var description: String?
        public var mimeType: String?
        /// Settle before forwarding, so the upstream's body streams straight through (the client
        /// is charged even if the upstream then fails).
        public var settleBefore: Bool?

        public init(
            route: String, price: String, network: String? = nil, asset: String? = nil, extra: JSONObject? = nil, payTo: String? = nil,
            description: String? = nil, mimeType: String? = nil, settleBefore: Bool? = nil
        ) {
            self.route = route
            self.price = price
            self.network = network
            self.asset = asset
            self.extra = extra
            self.payTo = payTo
            self.description = description
            self.mimeType = mimeType
            self.settleBefore = settleBefore
        }

        /// Parses the command-line form `METHOD /pattern=PRICE` (the last `=` separates the price).
        public init(spec: String) throws(GatewayConfigurationError) {
            guard let eq = spec.lastIndex(of: "=") else { throw .invalidRoute(spec, "expected METHOD /pattern=PRICE") }
            let route = spec[..<eq].trimmingCharacters(in: .whitespaces)
            let price = spec[spec.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !route.isEmpty, !price.isEmpty else { throw .invalidRoute(spec, "expected METHOD /pattern=PRICE") }
            self.init(route: route, price: price)
        }

        static let keys: Set<String> = [
            "route", "price", "network", "asset", "extra", "payTo", "description", "mimeType", "settleBefore",
        ]

        public init(from decoder: any Decoder) throws {
            if let spec = try? decoder.singleValueContainer().decode(String.self) {
                do { self = try Route(spec: spec) } catch { throw error }
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            route = try c.decode(String.self, forKey: .route)
            price = try c.decode(String.self, forKey: .price)
            network = try c.decodeIfPresent(String.self, forKey: .network)
            asset = try c.decodeIfPresent(String.self, forKey: .asset)
            extra = try c.decodeIfPresent(JSONValue.self, forKey: .extra).map { value in
                guard let object = value.objectValue else {
                    throw DecodingError.typeMismatch(
                        JSONObject.self, .init(codingPath: c.codingPath + [CodingKeys.extra], debugDescription: "extra must be an object"))
                }
                return object
            }
            payTo = try c.decodeIfPresent(String.self, forKey: .payTo)
            description = try c.decodeIfPresent(String.self, forKey: .description)
            mimeType = try c.decodeIfPresent(String.self, forKey: .mimeType)
            settleBefore = try c.decodeIfPresent(Bool.self, forKey: .settleBefore)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(route, forKey: .route)
            try c.encode(price, forKey: .price)
            try c.encodeIfPresent(network, forKey: .network)
            try c.encodeIfPresent(asset, forKey: .asset)
            try c.encodeIfPresent(extra.map(JSONValue.object), forKey: .extra)
            try c.encodeIfPresent(payTo, forKey: .payTo)
            try c.encodeIfPresent(description, forKey: .description)
            try c.encodeIfPresent(mimeType, forKey: .mimeType)
            try c.encodeIfPresent(settleBefore, forKey: .settleBefore)
        }

        enum CodingKeys: String, CodingKey {
            case route, price, network, asset, extra, payTo, description, mimeType, settleBefore
        }
    }

    /// The service in front of which the gateway sits, e.g. `http://127.0.0.1:8080` (a base path
    /// is kept: `http://host/base` + `/api/x` → `http://host/base/api/x`).
    public var upstream: String?
    /// Paid routes, first match wins. Requests matching none are forwarded for free.
    public var routes: [Route] = []
    /// Default recipient for routes that name none.
    public var payTo: String?
    /// Default CAIP-2 network for routes that name none.
    public var network: String?
    /// Base URL of the facilitator.
    public var facilitator: String?
    /// An environment variable holding the facilitator credential: either `Name: value` (any
    /// header) or a value sent as `Authorization` (e.g. `Bearer …`).
    public var facilitatorAuthEnv: String?
    /// Listen address (default `127.0.0.1`).
    public var host: String = "127.0.0.1"
    /// Listen port (default 4021; 0 picks a free port).
    public var port: Int = 4021
    /// Payment state: `memory` (default), `sqlite:PATH`, or a `postgres://` URL (see ``StoreLocation``).
    public var state: String = "memory"
    /// How long to wait for the upstream's response head (default 60).
    public var upstreamTimeoutSeconds: Int = 60
    /// Offer v1 requirements to clients that speak v1 (default on).
    public var v1: Bool = true
    /// Proxies (CIDRs such as `10.0.0.0/8` or `::1/128`) whose `X-Forwarded-*` and `Forwarded`
    /// headers are passed on. From any other peer those headers are replaced with what the gateway
    /// sees (its peer's address, its own scheme, the `Host` it was asked for).
    public var trustedProxies: [String] = []

    public init() {}

    static let keys: Set<String> = [
        "upstream", "routes", "payTo", "network", "facilitator", "facilitatorAuthEnv", "host", "port", "state",
        "upstreamTimeoutSeconds", "v1", "trustedProxies",
    ]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        upstream = try c.decodeIfPresent(String.self, forKey: .upstream)
        routes = try c.decodeIfPresent([Route].self, forKey: .routes) ?? []
        payTo = try c.decodeIfPresent(String.self, forKey: .payTo)
        network = try c.decodeIfPresent(String.self, forKey: .network)
        facilitator = try c.decodeIfPresent(String.self, forKey: .facilitator)
        facilitatorAuthEnv = try c.decodeIfPresent(String.self, forKey: .facilitatorAuthEnv)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1"
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 4021
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? "memory"
        upstreamTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .upstreamTimeoutSeconds) ?? 60
        v1 = try c.decodeIfPresent(Bool.self, forKey: .v1) ?? true
        trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? []
    }

    enum CodingKeys: String, CodingKey {
        case upstream, routes, payTo, network, facilitator, facilitatorAuthEnv, host, port, state, upstreamTimeoutSeconds, v1, trustedProxies
    }

    /// Parses a JSON configuration; unknown members are errors (a typo must not silently drop a price).
    public static func parse(_ bytes: [UInt8]) throws(GatewayConfigurationError) -> GatewayConfiguration {
        let tree: JSONValue
        do { tree = try JSONValue(parsing: bytes) } catch { throw .invalidFile("not JSON: \(error)") }
        guard let object = tree.objectValue else { throw .invalidFile("the top level must be an object") }
        for key in object.keys where !keys.contains(key) { throw .invalidFile("unknown member \"\(key)\"") }
        for (i, route) in (object["routes"]?.arrayValue ?? []).enumerated() {
            for key in route.objectValue?.keys ?? [] where !Route.keys.contains(key) {
                throw .invalidFile("routes[\(i)]: unknown member \"\(key)\"")
            }
        }
        do {
            return try JSONDecoder().decode(GatewayConfiguration.self, from: Data(bytes))
        } catch let error as GatewayConfigurationError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .invalidFile("\(path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidFile("\(path(context.codingPath + [key])): missing")
        } catch {
            throw .invalidFile("\(error)")
        }
    }

    /// Reads and parses a JSON configuration file.
    public static func load(path: String) throws(GatewayConfigurationError) -> GatewayConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
        do {
            return try parse(Array(data))
        } catch .invalidFile(let why) {
            throw .invalidFile("\(path): \(why)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }

    // MARK: - Validation

    /// The upstream URL, checked.
    public func upstreamURL() throws(GatewayConfigurationError) -> UpstreamURL {
        guard let upstream else { throw .missing("upstream") }
        return try UpstreamURL(upstream)
    }

    /// Checks everything that can be checked without the network; throws the first problem.
    public func validate() throws(GatewayConfigurationError) {
        _ = try upstreamURL()
        guard let facilitator, !facilitator.isEmpty else { throw .missing("facilitator") }
        guard let url = URL(string: facilitator), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw .invalidURL("facilitator", facilitator)
        }
        guard (0...65535).contains(port) else { throw .invalidValue("port", "\(port) is not a port number") }
        guard upstreamTimeoutSeconds > 0 else { throw .invalidValue("upstreamTimeoutSeconds", "must be positive") }
        _ = try stateLocation()
        _ = try trustedProxyRanges()
        guard !routes.isEmpty else { throw .missing("routes (at least one paid route, e.g. 'GET /api/*=$0.01')") }
        _ = try routeTable()
    }

    /// ``trustedProxies``, parsed.
    public func trustedProxyRanges() throws(GatewayConfigurationError) -> [IPAddressRange] {
        var ranges: [IPAddressRange] = []
        for text in trustedProxies { ranges.append(try IPAddressRange(text)) }
        return ranges
    }

    /// ``state``, parsed (see ``StoreLocation`` for the accepted forms).
    /// - Returns: Where payment state is kept.
    /// - Throws: ``GatewayConfigurationError/invalidValue(_:_:)`` for `state` when it is not a location.
    public func stateLocation() throws(GatewayConfigurationError) -> StoreLocation {
        do {
            return try StoreLocation(parsing: state)
        } catch {
            throw .invalidValue("state", error.description)
        }
    }

    /// The routes as the resource server's table.
    public func routeTable() throws(GatewayConfigurationError) -> RouteTable {
        var table = RouteTable()
        for route in routes {
            let networkText = route.network ?? network
            guard let networkText else { throw .invalidRoute(route.route, "no network (set network or the route's network)") }
            guard let routeNetwork = Network(networkText) else { throw .invalidRoute(route.route, "invalid network \(networkText)") }
            guard let recipient = route.payTo ?? payTo, !recipient.isEmpty else {
                throw .invalidRoute(route.route, "no recipient (set payTo or the route's payTo)")
            }
            if routeNetwork.isEVM, !Self.isEVMAddress(recipient) {
                throw .invalidRoute(route.route, "payTo \(recipient) is not an EVM address")
            }
            let price: PriceSpec
            if let asset = route.asset {
                guard let amount = UInt256(decimal: route.price), amount > .zero else {
                    throw .invalidRoute(route.route, "a route with an asset is priced in atomic units (e.g. 10000), got \(route.price)")
                }
                price = .price(.tokenAmount(amount: amount, asset: asset, extra: route.extra))
            } else {
                do {
                    price = .price(try .dollars(route.price))
                } catch {
                    throw .invalidRoute(route.route, "invalid price \(route.price): \(error)")
                }
            }
            var option = PaymentOption.exact(price, on: routeNetwork, payTo: .fixed(recipient))
            if route.asset == nil { option.extra = route.extra }
            let paid = PaidRoute(
                accepts: [option], description: route.description ?? "", mimeType: route.mimeType ?? "",
                settlement: route.settleBefore == true ? .beforeHandler : .afterHandler)
            do {
                _ = try RoutePattern(route.route)
            } catch {
                throw .invalidRoute(route.route, "\(error)")
            }
            table.add(route.route, paid)
        }
        return table
    }

    static func isEVMAddress(_ text: String) -> Bool {
        let hex = text.utf8
        guard hex.count == 42, text.hasPrefix("0x") || text.hasPrefix("0X") else { return false }
        return hex.dropFirst(2).allSatisfy { (48...57).contains($0) || (65...70).contains($0) || (97...102).contains($0) }
    }
}

/// A configuration problem, named precisely enough to fix.
public enum GatewayConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing(String)
    case invalidURL(String, String)
    case invalidRoute(String, String)
    case invalidValue(String, String)
    case unreadableFile(String)
    case invalidFile(String)
    /// An environment variable named by the configuration is not set.
    case missingEnvironment(String)
    /// The resource server refused the routes (e.g. no scheme registered for a network).
    case server(String)
    /// A trusted proxy that is not an IPv4/IPv6 address or CIDR.
    case invalidTrustedProxy(String, String)

    public var description: String {
        switch self {
        case .missing(let what): "missing \(what)"
        case .invalidURL(let what, let url): "\(what): \(url) is not an http(s) URL with a host"
        case .invalidRoute(let route, let why): "route '\(route)': \(why)"
        case .invalidValue(let what, let why): "\(what): \(why)"
        case .unreadableFile(let path): "cannot read \(path)"
        case .invalidFile(let why): "invalid configuration file: \(why)"
        case .missingEnvironment(let name): "environment variable \(name) is not set"
        case .server(let why): why
        case .invalidTrustedProxy(let text, let why): "trusted proxy '\(text)': \(why)"
        }
    }
}

/// The upstream's origin and base path.
public struct UpstreamURL: Sendable, Equatable {
    /// `scheme://host[:port]`.
    public let origin: String
    /// The path prefix without a trailing slash (may be empty).
    public let basePath: String

    public init(_ text: String) throws(GatewayConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil
        else { throw .invalidURL("upstream", text) }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        origin = "\(scheme)://\(hostPart)" + (components.port.map { ":\($0)" } ?? "")
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        basePath = path
    }

    /// The upstream URL for a request path (starting with `/`) and optional query.
    public func url(path: String, query: String?) -> String {
        origin + basePath + path + (query.map { $0.isEmpty ? "" : "?\($0)" } ?? "")
    }
}
