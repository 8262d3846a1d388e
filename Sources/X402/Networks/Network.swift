/// A blockchain (or payment-rail) network identified by CAIP-2: `namespace:reference`, such as
/// `eip155:8453` or `solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp`.
///
/// Validation follows CAIP-2's character sets (namespace `[-a-z0-9]`, reference `[-_a-zA-Z0-9]`,
/// reference at most 64 characters). The namespace may be 3–32 characters rather than CAIP-2's
/// 3–8 so that non-chain rails already in use, such as `cloudflare:402`, are representable.
public struct Network: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The full identifier, e.g. `eip155:84532`.
    public let identifier: String
    /// The part before the colon, e.g. `eip155`.
    public var namespace: Substring { identifier[..<colon] }
    /// The part after the colon, e.g. `84532`.
    public var reference: Substring { identifier[identifier.index(after: colon)...] }
    private let colon: String.Index

    /// Parses a CAIP-2 identifier; `nil` if it is malformed.
    public init?(_ identifier: String) {
        guard let colon = identifier.firstIndex(of: ":") else { return nil }
        let ns = identifier[..<colon].utf8
        let ref = identifier[identifier.index(after: colon)...].utf8
        guard (3...32).contains(ns.count), (1...64).contains(ref.count) else { return nil }
        for c in ns {
            guard
                (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                    || c == UInt8(ascii: "-")
            else { return nil }
        }
        for c in ref {
            guard
                (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
            else { return nil }
        }
        self.identifier = identifier
        self.colon = colon
    }

    /// The EVM network with the given chain id (`eip155:<id>`).
    public static func eip155(_ chainID: UInt64) -> Network {
        Network("eip155:\(chainID)")!
    }

    /// The EVM chain id, if this is an `eip155` network with a decimal reference.
    public var chainID: UInt64? {
        guard namespace == "eip155" else { return nil }
        let ref = reference
        guard ref.first != "0" || ref.count == 1 else { return nil }
        return UInt64(ref)
    }

    /// `true` for `eip155:*` networks.
    public var isEVM: Bool { namespace == "eip155" }
    /// `true` for `solana:*` networks.
    public var isSolana: Bool { namespace == "solana" }

    /// The CAIP family pattern (`eip155:*`) this network belongs to.
    public var family: NetworkPattern { NetworkPattern(namespace: String(namespace)) }

    public var description: String { identifier }

    public static func == (lhs: Network, rhs: Network) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
    public static func < (lhs: Network, rhs: Network) -> Bool { lhs.identifier < rhs.identifier }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let n = Network(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a CAIP-2 network identifier: \(s)")
        }
        self = n
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(identifier)
    }
}

extension Network {
    public static let base = Network.eip155(8453)
    public static let baseSepolia = Network.eip155(84532)
    public static let ethereum = Network.eip155(1)
    public static let sepolia = Network.eip155(11_155_111)
    public static let polygon = Network.eip155(137)
    public static let polygonAmoy = Network.eip155(80002)
    public static let arbitrum = Network.eip155(42161)
    public static let arbitrumSepolia = Network.eip155(421614)
    public static let avalanche = Network.eip155(43114)
    public static let avalancheFuji = Network.eip155(43113)
    public static let solanaMainnet = Network("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")!
    public static let solanaDevnet = Network("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1")!
    public static let solanaTestnet = Network("solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z")!
}

/// A set of networks: one exact network (`eip155:8453`) or a whole namespace (`eip155:*`).
///
/// Used to register scheme implementations and as the keys of `/supported`'s `signers`.
/// An exact pattern is more specific than a wildcard.
public struct NetworkPattern: Sendable, Hashable, CustomStringConvertible, Codable {
    private enum Storage: Hashable {
        case exact(Network)
        case namespace(String)
    }

    private let storage: Storage

    /// The pattern matching exactly one network.
    public init(_ network: Network) { storage = .exact(network) }

    /// The pattern matching every network of a namespace (`eip155:*`).
    public init(namespace: String) { storage = .namespace(namespace) }

    /// Parses `namespace:*` or an exact CAIP-2 identifier.
    public init?(_ text: String) {
        if text.hasSuffix(":*") {
            let ns = String(text.dropLast(2))
            guard Network("\(ns):x") != nil else { return nil }
            storage = .namespace(ns)
        } else if let n = Network(text) {
            storage = .exact(n)
        } else {
            return nil
        }
    }

    public static let evm = NetworkPattern(namespace: "eip155")
    public static let solana = NetworkPattern(namespace: "solana")

    /// Whether `network` belongs to this pattern.
    public func matches(_ network: Network) -> Bool {
        switch storage {
        case .exact(let n): n == network
        case .namespace(let ns): network.namespace == ns
        }
    }

    /// `true` for an exact-network pattern.
    public var isExact: Bool {
        if case .exact = storage { return true }
        return false
    }

    /// Higher is more specific: exact networks beat namespace wildcards.
    public var specificity: Int { isExact ? 1 : 0 }

    /// The network, for an exact pattern.
    public var network: Network? {
        if case .exact(let n) = storage { return n }
        return nil
    }

    public var description: String {
        switch storage {
        case .exact(let n): n.identifier
        case .namespace(let ns): "\(ns):*"
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let p = NetworkPattern(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a network pattern: \(s)")
        }
        self = p
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
