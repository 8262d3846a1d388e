import Foundation
public import X402

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
        /// `METHOD /pattern` (e.g. `GET /api/*`, `* /v1/[model]`); see `RoutePattern`.
        public var route: String
        /// `$0.01` in the network's default stablecoin, or, when ``asset`` is set, an amount in
        /// the asset's atomic units (e.g. `10000`).
        public var price: String
        /// The network; the gateway's ``GatewayConfiguration/network`` when `nil`.
        public var network: Network?
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
        /// How discovery (`bazaar`) lists the route; not listed when `nil`.
        public var bazaar: BazaarRoute?
        /// Signed offers and receipts (`offer-receipt`) for the route, with the top-level
        /// ``GatewayConfiguration/offerReceipts`` key; none when `nil`.
        public var offerReceipt: OfferReceiptRoute?

        public init(
            route: String, price: String, network: Network? = nil, asset: String? = nil, extra: JSONObject? = nil, payTo: String? = nil,
            description: String? = nil, mimeType: String? = nil, settleBefore: Bool? = nil, bazaar: BazaarRoute? = nil,
            offerReceipt: OfferReceiptRoute? = nil
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
            self.bazaar = bazaar
            self.offerReceipt = offerReceipt
        }

        /// Parses the command-line form `METHOD /pattern=PRICE` (the last `=` separates the price).
        public init(spec: String) throws(GatewayConfigurationError) {
            guard let eq = spec.lastIndex(of: "=") else { throw .invalidRoute(spec, "expected METHOD /pattern=PRICE") }
            let route = spec[..<eq].trimmingCharacters(in: .whitespaces)
            let price = spec[spec.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !route.isEmpty, !price.isEmpty else { throw .invalidRoute(spec, "expected METHOD /pattern=PRICE") }
            self.init(route: route, price: price)
        }

        public init(from decoder: any Decoder) throws {
            if let spec = try? decoder.singleValueContainer().decode(String.self) {
                do { self = try Route(spec: spec) } catch { throw error }
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            route = try c.decode(String.self, forKey: .route)
            price = try c.decode(String.self, forKey: .price)
            network = try c.decodeIfPresent(Network.self, forKey: .network)
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
            bazaar = try c.decodeIfPresent(BazaarRoute.self, forKey: .bazaar)
            offerReceipt = try c.decodeIfPresent(OfferReceiptRoute.self, forKey: .offerReceipt)
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
            try c.encodeIfPresent(bazaar, forKey: .bazaar)
            try c.encodeIfPresent(offerReceipt, forKey: .offerReceipt)
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case route, price, network, asset, extra, payTo, description, mimeType, settleBefore, bazaar, offerReceipt
        }
    }

    /// The service in front of which the gateway sits, e.g. `http://127.0.0.1:8080` (a base path
    /// is kept: `http://host/base` + `/api/x` → `http://host/base/api/x`).
    public var upstream: String?
    /// Paid routes, first match wins. Requests matching none are forwarded for free.
    public var routes: [Route] = []
    /// Default recipient for routes that name none.
    public var payTo: String?
    /// Default network for routes that name none.
    public var network: Network?
    /// Base URL of the facilitator.
    public var facilitator: String?
    /// An environment variable holding the facilitator credential: either `Name: value` (any
    /// header) or a value sent as `Authorization` (e.g. `Bearer …`).
    public var facilitatorAuthEnv: String?
    /// Listen address (default `127.0.0.1`).
    public var host: String = "127.0.0.1"
    /// Listen port (default 4021; 0 picks a free port).
    public var port: Int = 4021
    /// Payment state: `memory` (default), `sqlite:PATH`, or a `postgres://` URL (see `StoreLocation`).
    public var state: String = "memory"
    /// How long to wait for the upstream's response head (default 60).
    public var upstreamTimeoutSeconds: Int = 60
    /// Offer v1 requirements to clients that speak v1 (default on).
    public var v1: Bool = true
    /// Proxies (CIDRs such as `10.0.0.0/8` or `::1/128`) whose `X-Forwarded-*` and `Forwarded`
    /// headers are passed on. From any other peer those headers are replaced with what the gateway
    /// sees (its peer's address, its own scheme, the `Host` it was asked for).
    public var trustedProxies: [String] = []
    /// How offers and receipts are signed for routes that declare `offerReceipt` (the key from an
    /// environment variable or a file).
    public var offerReceipts: OfferReceiptSigning?

    public init() {}

    /// Decodes a configuration; a missing member keeps its default (stated once, on the property).
    /// Prefer ``parse(_:)``, which also refuses unknown members.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = GatewayConfiguration()
        d.upstream = try c.decodeIfPresent(String.self, forKey: .upstream)
        d.routes = try c.decodeIfPresent([Route].self, forKey: .routes) ?? d.routes
        d.payTo = try c.decodeIfPresent(String.self, forKey: .payTo)
        d.network = try c.decodeIfPresent(Network.self, forKey: .network)
        d.facilitator = try c.decodeIfPresent(String.self, forKey: .facilitator)
        d.facilitatorAuthEnv = try c.decodeIfPresent(String.self, forKey: .facilitatorAuthEnv)
        d.host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        d.port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        d.state = try c.decodeIfPresent(String.self, forKey: .state) ?? d.state
        d.upstreamTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .upstreamTimeoutSeconds) ?? d.upstreamTimeoutSeconds
        d.v1 = try c.decodeIfPresent(Bool.self, forKey: .v1) ?? d.v1
        d.trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? d.trustedProxies
        d.offerReceipts = try c.decodeIfPresent(OfferReceiptSigning.self, forKey: .offerReceipts)
        self = d
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case upstream, routes, payTo, network, facilitator, facilitatorAuthEnv, host, port, state, upstreamTimeoutSeconds, v1, trustedProxies
        case offerReceipts
    }
}
