/// A rolling spending budget: at most `limit` dollars within any `window` (24 hours by default).
public struct SpendBudget: Sendable, Hashable {
    public var limit: DollarAmount
    public var window: Duration

    /// Twenty-four hours.
    public static let day: Duration = .seconds(24 * 60 * 60)

    public init(limit: DollarAmount, window: Duration = SpendBudget.day) {
        self.limit = limit
        self.window = window
    }
}

/// The owner's guard rails, checked before anything is signed.
///
/// Dollar limits apply to the dollar value of the payment; only assets the payer's
/// ``AssetRegistry`` knows (dollar-pegged stablecoins) have one. While any dollar limit is set, a
/// payment in an asset without a known value is refused (``PaymentRefusal/unpricedAsset(asset:network:)``).
public struct SpendingPolicy: Sendable {
    /// Payments above this are refused outright.
    public var perPaymentCap: DollarAmount?
    /// Payments above this need the approval handler's consent (no handler: refused).
    public var approvalThreshold: DollarAmount?
    /// A rolling budget per wallet, computed from the spend ledger.
    public var budget: SpendBudget?
    /// If set, only these recipients may be paid (EVM addresses compare case-insensitively).
    public var allowedRecipients: Set<String>?
    /// Recipients never paid.
    public var deniedRecipients: Set<String>
    /// If set, only these assets: token addresses or symbols such as `USDC`.
    public var allowedAssets: Set<String>?
    /// If set, only networks matching one of these patterns.
    public var allowedNetworks: [NetworkPattern]?
    /// The recipient firewall: denied recipients and hosts are never paid; with it enabled,
    /// recipients it does not allow need the owner's approval.
    public var firewall: RecipientFirewall
    /// Spending limits per host, beside ``budget``.
    public var hostLimits: HostSpendLimits

    public init(
        perPaymentCap: DollarAmount? = nil, approvalThreshold: DollarAmount? = nil, budget: SpendBudget? = nil,
        allowedRecipients: Set<String>? = nil, deniedRecipients: Set<String> = [], allowedAssets: Set<String>? = nil,
        allowedNetworks: [NetworkPattern]? = nil, firewall: RecipientFirewall = .off, hostLimits: HostSpendLimits = .none
    ) {
        self.firewall = firewall
        self.hostLimits = hostLimits
        self.perPaymentCap = perPaymentCap
        self.approvalThreshold = approvalThreshold
        self.budget = budget
        self.allowedRecipients = allowedRecipients
        self.deniedRecipients = deniedRecipients
        self.allowedAssets = allowedAssets
        self.allowedNetworks = allowedNetworks
    }

    /// No limits at all.
    public static let unrestricted = SpendingPolicy()

    /// Whether a dollar value is needed to apply this policy.
    var hasDollarLimits: Bool {
        perPaymentCap != nil || approvalThreshold != nil || budget != nil || !hostLimits.limits.isEmpty || hostLimits.defaultLimit != nil
    }

    /// The first static rule `candidate` breaks for a resource on `host`: the rules of
    /// ``violation(by:)`` plus the firewall's deny lists (absolute).
    public func violation(by candidate: PaymentCandidate, host: String?) -> PaymentRefusal? {
        if case .denied(let refusal) = firewall.verdict(payTo: candidate.payTo, host: host) { return refusal }
        return violation(by: candidate)
    }

    /// Why paying `candidate` for a resource on `host` needs the owner's approval (empty: it
    /// does not). Static violations are not reported here (see ``violation(by:host:)``).
    public func approvalReasons(for candidate: PaymentCandidate, host: String?) -> [ApprovalReason] {
        var reasons: [ApprovalReason] = []
        if let threshold = approvalThreshold, let value = candidate.value, value > threshold {
            reasons.append(.aboveThreshold(amount: value, threshold: threshold))
        }
        if firewall.verdict(payTo: candidate.payTo, host: host) == .needsApproval {
            reasons.append(.recipientNotAllowed(payTo: candidate.payTo, host: host))
        }
        return reasons
    }

    /// The first static rule `candidate` breaks (everything except approval and budget, which
    /// depend on the moment of payment), or `nil`.
    public func violation(by candidate: PaymentCandidate) -> PaymentRefusal? {
        let network = candidate.requirements.network
        if let allowed = allowedNetworks, !allowed.contains(where: { $0.matches(network) }) {
            return .networkNotAllowed(network)
        }
        if let allowed = allowedAssets {
            let address = Self.normalized(candidate.requirements.asset)
            let symbol = candidate.asset?.symbol.lowercased()
            let ok = allowed.contains { entry in
                Self.normalized(entry) == address || (symbol != nil && entry.lowercased() == symbol)
            }
            if !ok { return .assetNotAllowed(asset: candidate.requirements.asset, network: network) }
        }
        let payTo = Self.normalized(candidate.requirements.payTo)
        if deniedRecipients.contains(where: { Self.normalized($0) == payTo }) {
            return .recipientDenied(candidate.requirements.payTo)
        }
        if let allowed = allowedRecipients, !allowed.contains(where: { Self.normalized($0) == payTo }) {
            return .recipientNotAllowed(candidate.requirements.payTo)
        }
        guard let value = candidate.value else {
            return hasDollarLimits ? .unpricedAsset(asset: candidate.requirements.asset, network: network) : nil
        }
        if let cap = perPaymentCap, value > cap {
            return .exceedsPerPaymentCap(amount: value, cap: cap)
        }
        return nil
    }

    /// Hex addresses compare case-insensitively; anything else (base58) exactly.
    static func normalized(_ address: String) -> String {
        address.hasPrefix("0x") || address.hasPrefix("0X") ? address.lowercased() : address
    }
}

/// Why the payer refused to pay: the rule, and the numbers.
public enum PaymentRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// No offered option uses a (version, scheme, network) a registered scheme client handles.
    case noSupportedOption(offered: [String])
    case networkNotAllowed(Network)
    case assetNotAllowed(asset: String, network: Network)
    case recipientDenied(String)
    case recipientNotAllowed(String)
    /// A dollar limit is set but the asset's value is unknown.
    case unpricedAsset(asset: String, network: Network)
    case exceedsPerPaymentCap(amount: DollarAmount, cap: DollarAmount)
    /// Above the approval threshold and the approval handler said no (or there is none).
    case approvalDenied(amount: DollarAmount, threshold: DollarAmount)
    /// The payment would take the wallet's spending in the window above the budget.
    case exceedsBudget(amount: DollarAmount, spent: DollarAmount, budget: DollarAmount, window: Duration)
    /// The request already carried a payment header: paying again could pay twice.
    case requestAlreadyCarriesPayment(header: String)
    /// The 402 came from another origin than the one requested (after a redirect), and the
    /// owner did not allow paying it.
    case crossOriginPaymentRequest(requested: String, answeredBy: String)
    /// The host of the paying URL is on the firewall's deny list.
    case hostDenied(String)
    /// The firewall is on, the recipient is not allowed, and the owner did not approve.
    case recipientNotApproved(payTo: String, host: String?)
    /// The payment would take the spending on one host in the window above its limit.
    case exceedsHostBudget(host: String, amount: DollarAmount, spent: DollarAmount, budget: DollarAmount, window: Duration)
    /// At confirmation the 402 no longer offers the approved terms (price, recipient, asset,
    /// network or scheme changed beyond what was approved); the changes are listed.
    case termsChanged([String])

    public var description: String {
        switch self {
        case .noSupportedOption(let offered):
            "no offered payment option is supported by the registered schemes (offered: \(offered.joined(separator: ", ")))"
        case .networkNotAllowed(let n): "network \(n) is not in the allowed networks"
        case .assetNotAllowed(let a, let n): "asset \(a) on \(n) is not in the allowed assets"
        case .recipientDenied(let r): "recipient \(r) is on the deny list"
        case .recipientNotAllowed(let r): "recipient \(r) is not on the allow list"
        case .unpricedAsset(let a, let n): "asset \(a) on \(n) has no known dollar value, so the spending limits cannot be applied"
        case .exceedsPerPaymentCap(let amount, let cap): "payment of \(amount) exceeds the per-payment cap of \(cap)"
        case .approvalDenied(let amount, let threshold):
            "payment of \(amount) is above the approval threshold of \(threshold) and was not approved"
        case .exceedsBudget(let amount, let spent, let budget, let window):
            "payment of \(amount) would exceed the budget of \(budget) per \(Self.describe(window)) (already spent \(spent), \(budget - spent) left)"
        case .requestAlreadyCarriesPayment(let header): "the request already carries a \(header) header; refusing to pay twice"
        case .crossOriginPaymentRequest(let requested, let answeredBy):
            "the payment request came from \(answeredBy) after a redirect from \(requested) (another origin); not paid without the owner's approval"
        case .hostDenied(let host): "host \(host) is on the deny list"
        case .recipientNotApproved(let payTo, let host):
            "recipient \(payTo)\(host.map { " (\($0))" } ?? "") is not on the firewall's allow list and was not approved"
        case .exceedsHostBudget(let host, let amount, let spent, let budget, let window):
            "payment of \(amount) would exceed the limit of \(budget) per \(Self.describe(window)) for \(host) (already spent \(spent), \(budget - spent) left)"
        case .termsChanged(let changes): "the payment request changed since it was approved: \(changes.joined(separator: "; "))"
        }
    }

    static func describe(_ window: Duration) -> String {
        let seconds = window.components.seconds
        if seconds % 3600 == 0 { return seconds == 3600 ? "hour" : "\(seconds / 3600) hours" }
        return "\(seconds) seconds"
    }
}

extension PaymentRefusal {
    /// The refusal for a payment the owner did not approve: ``approvalDenied(amount:threshold:)``
    /// when it is above the threshold, else ``recipientNotApproved(payTo:host:)``.
    static func declined(_ reasons: [ApprovalReason], payTo: String, host: String?) -> PaymentRefusal {
        for reason in reasons {
            if case .aboveThreshold(let amount, let threshold) = reason { return .approvalDenied(amount: amount, threshold: threshold) }
        }
        return .recipientNotApproved(payTo: payTo, host: host)
    }
}

/// Why a payment needs the owner's approval.
public enum ApprovalReason: Sendable, Hashable, CustomStringConvertible {
    /// The price is above the approval threshold.
    case aboveThreshold(amount: DollarAmount, threshold: DollarAmount)
    /// The firewall is on and neither the recipient nor the host is on its allow lists.
    case recipientNotAllowed(payTo: String, host: String?)

    /// A stable name: `approvalThreshold` or `firewall`.
    public var rule: String {
        switch self {
        case .aboveThreshold: "approvalThreshold"
        case .recipientNotAllowed: "firewall"
        }
    }

    public var description: String {
        switch self {
        case .aboveThreshold(let amount, let threshold): "\(amount) is above the approval threshold of \(threshold)"
        case .recipientNotAllowed(let payTo, let host):
            "recipient \(payTo)\(host.map { " (\($0))" } ?? "") is not on the firewall's allow list"
        }
    }
}
