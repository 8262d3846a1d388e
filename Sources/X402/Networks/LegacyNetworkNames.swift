/// The network names of protocol version 1 (`base-sepolia`) and their CAIP-2 equivalents.
public enum LegacyNetworkName {
    /// Every v1 name known to the reference SDKs and x402-rs, with its CAIP-2 network.
    public static let all: [(name: String, network: Network)] = [
        ("ethereum", .eip155(1)),
        ("sepolia", .eip155(11155111)),
        ("abstract", .eip155(2741)),
        ("abstract-testnet", .eip155(11124)),
        ("base", .eip155(8453)),
        ("base-sepolia", .eip155(84532)),
        ("avalanche", .eip155(43114)),
        ("avalanche-fuji", .eip155(43113)),
        ("iotex", .eip155(4689)),
        ("sei", .eip155(1329)),
        ("sei-testnet", .eip155(1328)),
        ("polygon", .eip155(137)),
        ("polygon-amoy", .eip155(80002)),
        ("peaq", .eip155(3338)),
        ("story", .eip155(1514)),
        ("educhain", .eip155(41923)),
        ("skale-base-sepolia", .eip155(324705682)),
        ("megaeth", .eip155(4326)),
        ("monad", .eip155(143)),
        ("stable", .eip155(988)),
        ("stable-testnet", .eip155(2201)),
        ("xdc", .eip155(50)),
        ("xrpl-evm", .eip155(1440000)),
        ("celo", .eip155(42220)),
        ("celo-sepolia", .eip155(11142220)),
        ("radius", .eip155(723487)),
        ("radius-testnet", .eip155(72344)),
        ("solana", .solanaMainnet),
        ("solana-devnet", .solanaDevnet),
        ("solana-testnet", .solanaTestnet),
    ]

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
