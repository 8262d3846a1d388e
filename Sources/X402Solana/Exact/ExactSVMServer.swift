public import X402

/// The seller's side of `exact` on Solana: prices in the network's USDC mint, and the
/// facilitator's fee payer copied into `extra.feePayer`.
public struct ExactSVMServer: SchemeServer {
    public var scheme: String { "exact" }

    /// Default stablecoins and known tokens.
    public var assets: AssetRegistry

    public init(assets: AssetRegistry = .standard) {
        self.assets = assets
    }

    /// Money becomes atomic units of the network's default stablecoin (USDC, 6 decimals); a
    /// token amount passes through. The asset must be a base58 mint address.
    public func assetAmount(for price: Price, on network: Network) throws -> AssetAmount {
        guard network.isSolana else { throw ExactSVMServerError.unsupportedNetwork(network.identifier) }
        let resolved = try assets.resolve(price, on: network)
        guard (try? SolanaPublicKey(base58: resolved.asset)) != nil else { throw ExactSVMServerError.invalidAsset(resolved.asset) }
        return resolved
    }

    /// Adds `extra.feePayer` from the facilitator's `/supported` kind. A fee payer already in the
    /// requirements is kept (the one advertised before stays valid while the facilitator manages it).
    public func enhance(
        _ requirements: PaymentRequirements, supportedKind: SupportedKind?, facilitatorExtensions: [String]
    ) async throws -> PaymentRequirements {
        var requirements = requirements
        var extra = requirements.extra ?? [:]
        if extra["feePayer"]?.stringValue == nil {
            guard let feePayer = supportedKind?.extra?["feePayer"]?.stringValue else {
                throw ExactSVMServerError.missingFeePayer(requirements.network.identifier)
            }
            guard (try? SolanaPublicKey(base58: feePayer)) != nil else { throw ExactSVMServerError.invalidAsset(feePayer) }
            extra["feePayer"] = .string(feePayer)
        }
        requirements.extra = extra
        return requirements
    }
}

/// Why the `exact` Solana server could not price a route.
public enum ExactSVMServerError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedNetwork(String)
    case invalidAsset(String)
    /// The facilitator's `/supported` has no fee payer for this network.
    case missingFeePayer(String)

    public var description: String {
        switch self {
        case .unsupportedNetwork(let n): "network \(n) is not a Solana network"
        case .invalidAsset(let a): "\(a) is not a Solana address"
        case .missingFeePayer(let n): "the facilitator advertises no fee payer for exact on \(n)"
        }
    }
}
