public import X402

/// The seller's side of `exact` on EVM: resolves prices to token amounts with the token's
/// EIP-712 `name`/`version` in `extra`.
public struct ExactEVMServer: SchemeServer {
    public var scheme: String { "exact" }

    /// Default stablecoins and known tokens (inject one with a local chain's token).
    public var assets: AssetRegistry

    public init(assets: AssetRegistry = .standard) {
        self.assets = assets
    }

    /// Money becomes atomic units of the network's default stablecoin; a token amount passes
    /// through with `extra` completed from the registry. Addresses are returned checksummed.
    public func assetAmount(for price: Price, on network: Network) throws -> AssetAmount {
        guard network.isEVM, network.chainID != nil else { throw ExactEVMServerError.unsupportedNetwork(network.identifier) }
        var resolved = try assets.resolve(price, on: network)
        guard let asset = try? EthereumAddress(resolved.asset, validatingChecksum: false) else {
            throw ExactEVMServerError.invalidAsset(resolved.asset)
        }
        resolved.asset = asset.checksummed
        return resolved
    }
}

/// Why the `exact` EVM server could not price a route.
public enum ExactEVMServerError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedNetwork(String)
    case invalidAsset(String)

    public var description: String {
        switch self {
        case .unsupportedNetwork(let n): "network \(n) is not an EVM chain with a numeric chain id"
        case .invalidAsset(let a): "asset \(a) is not an Ethereum address"
        }
    }
}
