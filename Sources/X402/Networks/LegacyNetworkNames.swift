/// The network names of protocol version 1 (`base-sepolia`) and their CAIP-2 equivalents.
public enum LegacyNetworkName {
    /// Every v1 name known to the reference SDKs and x402-rs, with its CAIP-2 network
    /// (the rows of ``KnownNetwork/all`` that have a v1 name).
    public static let all: [(name: String, network: Network)] = KnownNetwork.all.compactMap { row in
        row.legacyName.map { (name: $0, network: row.network) }
    }

    private static let byName: [String: Network] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.network) })
    private static let byNetwork: [Network: String] = Dictionary(uniqueKeysWithValues: all.map { ($0.network, $0.name) })

    /// The CAIP-2 network for a v1 name (`base-sepolia` → `eip155:84532`).
    public static func network(for name: String) -> Network? { byName[name] }

    /// The v1 name of a network (`eip155:84532` → `base-sepolia`), if it has one.
    public static func name(for network: Network) -> String? { byNetwork[network] }
}

extension Network {
    /// Resolves either a CAIP-2 identifier or a v1 network name.
    public init?(identifierOrLegacyName text: String) {
        if let n = LegacyNetworkName.network(for: text) {
            self = n
        } else if let n = Network(text) {
            self = n
        } else {
            return nil
        }
    }

    /// The v1 name of this network, if it has one.
    public var legacyName: String? { LegacyNetworkName.name(for: self) }
}
