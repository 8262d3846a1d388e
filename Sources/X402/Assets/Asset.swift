/// How a token is moved by the `exact` scheme.
public enum AssetTransferMethod: String, Sendable, Hashable, Codable {
    /// EIP-3009 `transferWithAuthorization` (USDC and similar).
    case eip3009
    /// Permit2 through the x402 proxy (any ERC-20 with a Permit2 allowance).
    case permit2
    /// SPL Token / Token-2022 `TransferChecked` (Solana).
    case splTransfer
}

/// A token on one network, with what a client needs to sign for it.
public struct Asset: Sendable, Hashable {
    public var network: Network
    /// Contract address (EVM) or mint (Solana).
    public var address: String
    public var symbol: String
    public var decimals: Int
    /// EIP-712 domain `name` (EVM; e.g. "USD Coin" on Base, "USDC" on Base Sepolia).
    public var eip712Name: String?
    /// EIP-712 domain `version`.
    public var eip712Version: String?
    public var transferMethod: AssetTransferMethod
    /// Whether the token implements EIP-2612 `permit` (relevant for Permit2 tokens).
    public var supportsEIP2612: Bool

    public init(
        network: Network, address: String, symbol: String, decimals: Int, eip712Name: String? = nil,
        eip712Version: String? = nil, transferMethod: AssetTransferMethod, supportsEIP2612: Bool = false
    ) {
        self.network = network
        self.address = address
        self.symbol = symbol
        self.decimals = decimals
        self.eip712Name = eip712Name
        self.eip712Version = eip712Version
        self.transferMethod = transferMethod
        self.supportsEIP2612 = supportsEIP2612
    }

    /// The `extra` a server emits for this asset: `name`/`version` for EIP-3009 tokens;
    /// `assetTransferMethod: "permit2"` (plus `name`/`version` only with EIP-2612) for Permit2 tokens.
    public var requirementsExtra: JSONObject {
        var extra = JSONObject()
        switch transferMethod {
        case .eip3009:
            if let eip712Name { extra["name"] = .string(eip712Name) }
            if let eip712Version { extra["version"] = .string(eip712Version) }
        case .permit2:
            extra["assetTransferMethod"] = "permit2"
            if supportsEIP2612 {
                if let eip712Name { extra["name"] = .string(eip712Name) }
                if let eip712Version { extra["version"] = .string(eip712Version) }
            }
        case .splTransfer:
            break
        }
        return extra
    }
}

/// The default stablecoin of each network, used when a route is priced in money (`"$0.01"`).
///
/// ``standard`` holds the table shared by the reference SDKs; add or replace entries for other
/// networks (for example a local chain) with ``register(_:)``.
public struct AssetRegistry: Sendable {
    private var defaults: [Network: Asset]

    public init(_ assets: [Asset] = []) {
        defaults = [:]
        for a in assets { defaults[a.network] = a }
    }

    /// Makes `asset` the default for its network.
    public mutating func register(_ asset: Asset) { defaults[asset.network] = asset }

    /// The default asset for `network`, if any.
    public func defaultAsset(for network: Network) -> Asset? { defaults[network] }

    /// The registered asset with `address` on `network` (EVM addresses compare case-insensitively).
    public func asset(address: String, on network: Network) -> Asset? {
        guard let a = defaults[network] else { return nil }
        let same = network.isEVM ? a.address.lowercased() == address.lowercased() : a.address == address
        return same ? a : nil
    }

    /// Every registered default, ordered by network.
    public var all: [Asset] { defaults.values.sorted { $0.network < $1.network } }

    /// The default stablecoins of the reference SDKs (TS `DEFAULT_STABLECOINS`, Go and Python tables).
    public static let standard = AssetRegistry([
        Asset(
            network: .eip155(8453), address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", symbol: "USDC", decimals: 6,
            eip712Name: "USD Coin", eip712Version: "2", transferMethod: .eip3009),
        Asset(
            network: .eip155(84532), address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", symbol: "USDC", decimals: 6,
            eip712Name: "USDC", eip712Version: "2", transferMethod: .eip3009),
        Asset(
            network: .eip155(137), address: "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", symbol: "USDC", decimals: 6,
            eip712Name: "USD Coin", eip712Version: "2", transferMethod: .eip3009),
        Asset(
            network: .eip155(42161), address: "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", symbol: "USDC", decimals: 6,
            eip712Name: "USD Coin", eip712Version: "2", transferMethod: .eip3009),
        Asset(
            network: .eip155(421614), address: "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d", symbol: "USDC", decimals: 6,
            eip712Name: "USD Coin", eip712Version: "2", transferMethod: .eip3009),
        Asset(
            network: .eip155(143), address: "0x754704Bc059F8C67012fEd69BC8A327a5aafb603", symbol: "USDC", decimals: 6,
            eip712Name: "USD Coin", eip712Version: "2", transferMethod: .eip3009),
        Asset(
            network: .eip155(988), address: "0x779Ded0c9e1022225f8E0630b35a9b54bE713736", symbol: "USDT0", decimals: 6,
            eip712Name: "USDT0", eip712Version: "1", transferMethod: .eip3009),
        Asset(
            network: .eip155(2201), address: "0x78Cf24370174180738C5B8E352B6D14c83a6c9A9", symbol: "USDT0", decimals: 6,
            eip712Name: "USDT0", eip712Version: "1", transferMethod: .eip3009),
        Asset(
            network: .eip155(4326), address: "0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7", symbol: "MegaUSD", decimals: 18,
            eip712Name: "MegaUSD", eip712Version: "1", transferMethod: .permit2, supportsEIP2612: true),
        Asset(
            network: .eip155(31611), address: "0x118917a40FAF1CD7a13dB0Ef56C86De7973Ac503", symbol: "mUSD", decimals: 18,
            eip712Name: "Mezo USD", eip712Version: "1", transferMethod: .permit2, supportsEIP2612: true),
        Asset(
            network: .solanaMainnet, address: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", symbol: "USDC", decimals: 6,
            transferMethod: .splTransfer),
        Asset(
            network: .solanaDevnet, address: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", symbol: "USDC", decimals: 6,
            transferMethod: .splTransfer),
        Asset(
            network: .solanaTestnet, address: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", symbol: "USDC", decimals: 6,
            transferMethod: .splTransfer),
    ])
}

/// Why a price could not be resolved to an asset amount on a network.
public enum PriceResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The price is money but the network has no default stablecoin; price it as a token amount.
    case noDefaultAsset(Network)
    case invalidAmount(MoneyError)

    public var description: String {
        switch self {
        case .noDefaultAsset(let n): "network \(n) has no default stablecoin; give the price as a token amount with an asset"
        case .invalidAmount(let e): e.description
        }
    }
}

extension AssetRegistry {
    /// Resolves a price on `network`: money becomes atomic units of the default stablecoin with
    /// its `extra`; a token amount passes through, with `extra` completed from the registry when
    /// the token is known.
    public func resolve(_ price: Price, on network: Network) throws(PriceResolutionError) -> AssetAmount {
        switch price {
        case .money(let money):
            guard let asset = defaultAsset(for: network) else { throw .noDefaultAsset(network) }
            do {
                return AssetAmount(amount: try money.atomicAmount(decimals: asset.decimals), asset: asset.address, extra: asset.requirementsExtra)
            } catch {
                throw .invalidAmount(error)
            }
        case .tokenAmount(let amount, let address, let extra):
            let known = asset(address: address, on: network)?.requirementsExtra ?? [:]
            return AssetAmount(amount: amount, asset: address, extra: known.merging(extra ?? [:]))
        }
    }
}
