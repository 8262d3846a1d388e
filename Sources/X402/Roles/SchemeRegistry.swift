/// Scheme implementations registered by (x402 version, scheme, network pattern).
///
/// Lookup picks the most specific matching registration: an exact network beats a namespace
/// wildcard (`eip155:8453` over `eip155:*`). Registering the same key again replaces the entry.
public struct SchemeRegistry<Implementation: Sendable>: Sendable {
    /// One registration.
    public struct Registration: Sendable {
        public var version: X402Version
        public var scheme: String
        public var pattern: NetworkPattern
        public var implementation: Implementation
    }

    public private(set) var registrations: [Registration] = []

    public init() {}

    /// Registers `implementation` for `scheme` on the networks of `pattern`, for each version.
    public mutating func register(
        _ implementation: Implementation, scheme: String, networks pattern: NetworkPattern,
        versions: Set<X402Version> = [.v2, .v1]
    ) {
        for version in versions.sorted() {
            registrations.removeAll { $0.version == version && $0.scheme == scheme && $0.pattern == pattern }
            registrations.append(Registration(version: version, scheme: scheme, pattern: pattern, implementation: implementation))
        }
    }

    /// The implementation for a payment, or `nil` if none is registered.
    public func implementation(version: X402Version, scheme: String, network: Network) -> Implementation? {
        var best: Registration?
        for r in registrations where r.version == version && r.scheme == scheme && r.pattern.matches(network) {
            if best == nil || r.pattern.specificity > best!.pattern.specificity { best = r }
        }
        return best?.implementation
    }

    /// Whether some registration can handle the payment.
    public func supports(version: X402Version, scheme: String, network: Network) -> Bool {
        implementation(version: version, scheme: scheme, network: network) != nil
    }
}

extension SchemeRegistry where Implementation == any SchemeClient {
    /// Registers a client for its scheme.
    public mutating func register(_ client: any SchemeClient, networks pattern: NetworkPattern, versions: Set<X402Version> = [.v2, .v1]) {
        register(client, scheme: client.scheme, networks: pattern, versions: versions)
    }
}

extension SchemeRegistry where Implementation == any SchemeServer {
    /// Registers a server implementation for its scheme.
    public mutating func register(_ server: any SchemeServer, networks pattern: NetworkPattern, versions: Set<X402Version> = [.v2, .v1]) {
        register(server, scheme: server.scheme, networks: pattern, versions: versions)
    }
}

extension SchemeRegistry where Implementation == any SchemeFacilitator {
    /// Registers a facilitator implementation for its scheme.
    public mutating func register(
        _ facilitator: any SchemeFacilitator, networks pattern: NetworkPattern, versions: Set<X402Version> = [.v2, .v1]
    ) {
        register(facilitator, scheme: facilitator.scheme, networks: pattern, versions: versions)
    }
}
