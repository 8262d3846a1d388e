/// One offered payment option the payer could use: a registered scheme client handles its
/// (version, scheme, network).
public struct PaymentCandidate: Sendable, Equatable {
    /// Position in the server's `accepts`.
    public var index: Int
    /// The offered entry exactly as received (echoed verbatim in the payment).
    public var offer: AnyPaymentRequirements
    /// The same entry in v2 form (CAIP-2 network, `amount`).
    public var requirements: PaymentRequirements
    /// The amount in the asset's atomic units.
    public var atomicAmount: UInt256
    /// The asset, when the payer's asset registry knows it.
    public var asset: Asset?
    /// The dollar value, for known (dollar-pegged) assets.
    public var value: DollarAmount?

    public var version: X402Version { offer.version }
    public var scheme: String { requirements.scheme }
    public var network: Network { requirements.network }
    public var payTo: String { requirements.payTo }

    /// The amount as a decimal number of tokens (`0.01`), when the asset's decimals are known.
    public var tokenAmount: String? { asset.map { Money.format(atomicAmount, decimals: $0.decimals) } }
}

/// Picks which payment option to use among those the payer can and may use.
public protocol PaymentSelector: Sendable {
    /// The chosen candidate, or `nil` to pay with none. `candidates` are in the server's order.
    func select(from candidates: [PaymentCandidate]) -> PaymentCandidate?
}

/// The default selector: preferred networks first, then preferred assets, then the cheapest.
///
/// Ranking, in order:
/// 1. position of the network in `networks` (unlisted networks after all listed ones);
/// 2. position of the asset in `assets` (addresses or symbols; unlisted after listed);
/// 3. cost: options with a known dollar value (dollar-pegged stablecoins from the asset
///    registry, whatever their decimals) compare by value and come before options without
///    one; options without a value compare by atomic amount only against the same asset;
/// 4. the server's order.
public struct PreferringSelector: PaymentSelector {
    public var networks: [Network]
    public var assets: [String]

    public init(networks: [Network] = [], assets: [String] = []) {
        self.networks = networks
        self.assets = assets
    }

    public func select(from candidates: [PaymentCandidate]) -> PaymentCandidate? {
        ranked(candidates).first
    }

    /// The candidates best first.
    public func ranked(_ candidates: [PaymentCandidate]) -> [PaymentCandidate] {
        candidates.sorted { a, b in
            let (na, nb) = (networkRank(a), networkRank(b))
            if na != nb { return na < nb }
            let (aa, ab) = (assetRank(a), assetRank(b))
            if aa != ab { return aa < ab }
            switch (a.value, b.value) {
            case (let va?, let vb?): if va != vb { return va < vb }
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil):
                let (ka, kb) = (SpendingPolicy.normalized(a.requirements.asset), SpendingPolicy.normalized(b.requirements.asset))
                if ka != kb { return ka < kb }
                if a.atomicAmount != b.atomicAmount { return a.atomicAmount < b.atomicAmount }
            }
            return a.index < b.index
        }
    }

    private func networkRank(_ c: PaymentCandidate) -> Int {
        networks.firstIndex(of: c.network) ?? networks.count
    }

    private func assetRank(_ c: PaymentCandidate) -> Int {
        let address = SpendingPolicy.normalized(c.requirements.asset)
        let symbol = c.asset?.symbol.lowercased()
        return assets.firstIndex { SpendingPolicy.normalized($0) == address || $0.lowercased() == symbol } ?? assets.count
    }
}

/// The candidates a registry of scheme clients can pay, from a 402 answer.
extension SchemeRegistry where Implementation == any SchemeClient {
    /// Every offered option this registry can pay, in the server's order, priced with `assets`.
    public func candidates(for required: AnyPaymentRequired, assets: AssetRegistry = .standard) -> [PaymentCandidate] {
        required.accepts.enumerated().compactMap { index, offer in
            guard let requirements = offer.normalized,
                supports(version: offer.version, scheme: requirements.scheme, network: requirements.network),
                let atomic = requirements.atomicAmount
            else { return nil }
            let asset = assets.asset(address: requirements.asset, on: requirements.network)
            return PaymentCandidate(
                index: index, offer: offer, requirements: requirements, atomicAmount: atomic, asset: asset,
                value: asset.map { DollarAmount(atomic: atomic, decimals: $0.decimals) })
        }
    }
}
