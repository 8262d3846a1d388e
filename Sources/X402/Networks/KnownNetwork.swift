/// One network the library knows by name: its CAIP-2 identifier, its v1 name, the name shown to
/// people and, for some EVM networks, a public JSON-RPC endpoint.
///
/// ``KnownNetwork/all`` is the one table of known networks: ``LegacyNetworkName``, the CLI's
/// network descriptions and its default RPC endpoints all read it.
public struct KnownNetwork: Sendable, Hashable {
    /// The CAIP-2 network (`eip155:84532`).
    public let network: Network
    /// The protocol-version-1 name (`base-sepolia`), when the network has one.
    public let legacyName: String?
    /// The name shown to people (`Base Sepolia`).
    public let displayName: String
    /// A public JSON-RPC endpoint, used when the user names none (`https://sepolia.base.org`).
    public let publicRPCURL: String?

    /// Creates a table row.
    /// - Parameters:
    ///   - network: The CAIP-2 network.
    ///   - legacyName: The protocol-version-1 name, if any.
    ///   - displayName: The name shown to people.
    ///   - publicRPCURL: A public JSON-RPC endpoint, if any.
    public init(_ network: Network, legacyName: String?, displayName: String, publicRPCURL: String? = nil) {
        self.network = network
        self.legacyName = legacyName
        self.displayName = displayName
        self.publicRPCURL = publicRPCURL
    }
}

extension KnownNetwork {
    /// Every known network. v1 names are those of the reference SDKs and x402-rs.
    public static let all: [KnownNetwork] = [
        KnownNetwork(.ethereum, legacyName: "ethereum", displayName: "Ethereum"),
        KnownNetwork(.sepolia, legacyName: "sepolia", displayName: "Ethereum Sepolia"),
        KnownNetwork(.eip155(2741), legacyName: "abstract", displayName: "Abstract"),
        KnownNetwork(.eip155(11124), legacyName: "abstract-testnet", displayName: "Abstract Testnet"),
        KnownNetwork(.base, legacyName: "base", displayName: "Base", publicRPCURL: "https://mainnet.base.org"),
        KnownNetwork(.baseSepolia, legacyName: "base-sepolia", displayName: "Base Sepolia", publicRPCURL: "https://sepolia.base.org"),
        KnownNetwork(
            .avalanche, legacyName: "avalanche", displayName: "Avalanche", publicRPCURL: "https://api.avax.network/ext/bc/C/rpc"),
        KnownNetwork(
            .avalancheFuji, legacyName: "avalanche-fuji", displayName: "Avalanche Fuji",
            publicRPCURL: "https://api.avax-test.network/ext/bc/C/rpc"),
        KnownNetwork(.eip155(4689), legacyName: "iotex", displayName: "IoTeX"),
        KnownNetwork(.eip155(1329), legacyName: "sei", displayName: "Sei"),
        KnownNetwork(.eip155(1328), legacyName: "sei-testnet", displayName: "Sei Testnet"),
        KnownNetwork(.polygon, legacyName: "polygon", displayName: "Polygon", publicRPCURL: "https://polygon-rpc.com"),
        KnownNetwork(.polygonAmoy, legacyName: "polygon-amoy", displayName: "Polygon Amoy"),
        KnownNetwork(.eip155(3338), legacyName: "peaq", displayName: "peaq"),
        KnownNetwork(.eip155(1514), legacyName: "story", displayName: "Story"),
        KnownNetwork(.eip155(41923), legacyName: "educhain", displayName: "EDU Chain"),
        KnownNetwork(.eip155(324_705_682), legacyName: "skale-base-sepolia", displayName: "SKALE Base Sepolia"),
        KnownNetwork(.eip155(4326), legacyName: "megaeth", displayName: "MegaETH"),
        KnownNetwork(.eip155(143), legacyName: "monad", displayName: "Monad"),
        KnownNetwork(.eip155(988), legacyName: "stable", displayName: "Stable"),
        KnownNetwork(.eip155(2201), legacyName: "stable-testnet", displayName: "Stable Testnet"),
        KnownNetwork(.eip155(50), legacyName: "xdc", displayName: "XDC"),
        KnownNetwork(.eip155(1_440_000), legacyName: "xrpl-evm", displayName: "XRPL EVM"),
        KnownNetwork(.eip155(42220), legacyName: "celo", displayName: "Celo"),
        KnownNetwork(.eip155(11_142_220), legacyName: "celo-sepolia", displayName: "Celo Sepolia"),
        KnownNetwork(.eip155(723487), legacyName: "radius", displayName: "Radius"),
        KnownNetwork(.eip155(72344), legacyName: "radius-testnet", displayName: "Radius Testnet"),
        KnownNetwork(.arbitrum, legacyName: nil, displayName: "Arbitrum One", publicRPCURL: "https://arb1.arbitrum.io/rpc"),
        KnownNetwork(
            .arbitrumSepolia, legacyName: nil, displayName: "Arbitrum Sepolia", publicRPCURL: "https://sepolia-rollup.arbitrum.io/rpc"),
        KnownNetwork(.eip155(10), legacyName: nil, displayName: "Optimism"),
        KnownNetwork(.eip155(11_155_420), legacyName: nil, displayName: "OP Sepolia"),
        KnownNetwork(.solanaMainnet, legacyName: "solana", displayName: "Solana", publicRPCURL: "https://api.mainnet-beta.solana.com"),
        KnownNetwork(.solanaDevnet, legacyName: "solana-devnet", displayName: "Solana Devnet", publicRPCURL: "https://api.devnet.solana.com"),
        KnownNetwork(.solanaTestnet, legacyName: "solana-testnet", displayName: "Solana Testnet", publicRPCURL: "https://api.testnet.solana.com"),
    ]

    private static let byNetwork: [Network: KnownNetwork] = Dictionary(
        all.map { ($0.network, $0) }, uniquingKeysWith: { first, _ in first })

    /// The table row of a network, if the network is known.
    /// - Parameter network: A CAIP-2 network.
    /// - Returns: Its row in ``all``, or `nil`.
    public static func info(for network: Network) -> KnownNetwork? { byNetwork[network] }
}

extension Network {
    /// The name shown to people (`Base Sepolia`), if the network is known.
    public var displayName: String? { KnownNetwork.info(for: self)?.displayName }

    /// A public JSON-RPC endpoint for the network, if the table has one.
    public var publicRPCURL: String? { KnownNetwork.info(for: self)?.publicRPCURL }

    /// The network for people: `Base Sepolia (eip155:84532)`; the v1 name stands in for an
    /// unknown display name, and an unknown network is shown as its identifier alone.
    public var humanDescription: String {
        if let name = displayName ?? legacyName { return "\(name) (\(identifier))" }
        return identifier
    }
}

extension KnownNetwork {
    /// Describes a network identifier for people, as ``Network/humanDescription`` does; text that
    /// is not a CAIP-2 identifier is returned unchanged.
    /// - Parameter identifier: A CAIP-2 identifier (`eip155:84532`), or any text.
    /// - Returns: `Base Sepolia (eip155:84532)`, or `identifier` itself.
    public static func describe(_ identifier: String) -> String {
        Network(identifier)?.humanDescription ?? identifier
    }
}
