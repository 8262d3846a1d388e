import Foundation

/// Allow and deny lists for who may be paid: by recipient address (`payTo`) and by the host of
/// the URL that asked for payment.
///
/// Deny entries are absolute: a denied recipient or host is never paid, whether or not the
/// firewall is ``enabled``. With the firewall enabled, only payments to an allowed recipient (by
/// address or by host) are made without asking; every other payment needs the owner's approval
/// (the approval handler, or the approval queue of ``PurchaseApprovals``). Disabled, the allow
/// lists are not consulted.
///
/// Addresses compare case-insensitively when hexadecimal (`0x…`), exactly otherwise. A host entry
/// is a host name compared case-insensitively (`api.example.com`), or `*.example.com` for every
/// subdomain of `example.com` (not `example.com` itself).
public struct RecipientFirewall: Sendable, Hashable {
    /// Whether only allowed recipients are paid without the owner's approval.
    public var enabled: Bool
    /// Recipients paid without approval while the firewall is on.
    public var allowedRecipients: Set<String>
    /// Hosts whose payments are made without approval while the firewall is on.
    public var allowedHosts: [String]
    /// Recipients never paid.
    public var deniedRecipients: Set<String>
    /// Hosts never paid.
    public var deniedHosts: [String]

    /// A firewall.
    ///
    /// - Parameters:
    ///   - enabled: whether only allowed recipients are paid without approval.
    ///   - allowedRecipients: recipient addresses paid without approval.
    ///   - allowedHosts: hosts paid without approval.
    ///   - deniedRecipients: recipient addresses never paid.
    ///   - deniedHosts: hosts never paid.
    public init(
        enabled: Bool = false, allowedRecipients: Set<String> = [], allowedHosts: [String] = [], deniedRecipients: Set<String> = [],
        deniedHosts: [String] = []
    ) {
        self.enabled = enabled
        self.allowedRecipients = allowedRecipients
        self.allowedHosts = allowedHosts
        self.deniedRecipients = deniedRecipients
        self.deniedHosts = deniedHosts
    }

    /// No lists, off.
    public static let off = RecipientFirewall()

    /// What the firewall says about one payment.
    public enum Verdict: Sendable, Equatable {
        /// Paid without asking (the firewall is off, or the recipient or host is allowed).
        case allowed
        /// The firewall is on and neither the recipient nor the host is allowed: the owner decides.
        case needsApproval
        /// Denied by address or host: never paid.
        case denied(PaymentRefusal)
    }

    /// The verdict for paying `payTo` for a resource on `host` (`nil` when unknown).
    public func verdict(payTo: String, host: String?) -> Verdict {
        let recipient = SpendingPolicy.normalized(payTo)
        if deniedRecipients.contains(where: { SpendingPolicy.normalized($0) == recipient }) { return .denied(.recipientDenied(payTo)) }
        if let host, deniedHosts.contains(where: { Self.matches(pattern: $0, host: host) }) { return .denied(.hostDenied(host)) }
        guard enabled else { return .allowed }
        if allowedRecipients.contains(where: { SpendingPolicy.normalized($0) == recipient }) { return .allowed }
        if let host, allowedHosts.contains(where: { Self.matches(pattern: $0, host: host) }) { return .allowed }
        return .needsApproval
    }

    /// Whether `host` matches `pattern` (`api.example.com`, or `*.example.com` for subdomains).
    public static func matches(pattern: String, host: String) -> Bool {
        let pattern = normalized(host: pattern)
        let host = normalized(host: host)
        if pattern.hasPrefix("*.") {
            let suffix = pattern.dropFirst(1)  // ".example.com"
            return host.count > suffix.count && host.hasSuffix(suffix)
        }
        return pattern == host
    }

    /// The host of a URL, lower-cased and without a trailing dot (`api.example.com.` names the
    /// same host as `api.example.com`, so it must not escape a deny list or a per-host limit),
    /// or `nil`.
    public static func host(of url: String?) -> String? {
        guard let url, let host = URLComponents(string: url)?.host.map(normalized(host:)), !host.isEmpty else { return nil }
        return host
    }

    /// `host` lower-cased, without trailing dots.
    public static func normalized(host: String) -> String {
        var host = host.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        return host
    }
}

/// Spending limits per host, beside the wallet's global budget: at most so much within the window
/// (24 hours by default) for resources on one host.
///
/// The host of a payment is the host of the URL that asked for it (after redirects). A host
/// without its own entry uses ``defaultLimit`` (no limit when `nil`).
public struct HostSpendLimits: Sendable, Hashable {
    /// Limits by host name (lower-cased on lookup; exact names, no patterns).
    public var limits: [String: DollarAmount]
    /// The limit for hosts without an entry, if any.
    public var defaultLimit: DollarAmount?
    /// The rolling window.
    public var window: Duration

    /// Limits per host.
    ///
    /// - Parameters:
    ///   - limits: limits by host name.
    ///   - defaultLimit: the limit for every other host.
    ///   - window: the rolling window (24 hours by default).
    public init(limits: [String: DollarAmount] = [:], defaultLimit: DollarAmount? = nil, window: Duration = SpendBudget.day) {
        self.limits = Dictionary(
            limits.map { (RecipientFirewall.normalized(host: $0.key), $0.value) }, uniquingKeysWith: { Swift.min($0, $1) })
        self.defaultLimit = defaultLimit
        self.window = window
    }

    /// No per-host limits.
    public static let none = HostSpendLimits()

    /// The budget that applies to `host`, if any.
    public func budget(for host: String?) -> HostBudget? {
        guard let host = host.map(RecipientFirewall.normalized(host:)) else { return nil }
        guard let limit = limits[host] ?? defaultLimit else { return nil }
        return HostBudget(host: host, budget: SpendBudget(limit: limit, window: window))
    }
}

/// The budget of one host: at most ``budget`` for payments whose resource is on ``host``.
public struct HostBudget: Sendable, Hashable {
    /// The lower-cased host name.
    public var host: String
    /// The limit and its window.
    public var budget: SpendBudget

    /// A host's budget.
    ///
    /// - Parameters:
    ///   - host: the host name.
    ///   - budget: the limit and its window.
    public init(host: String, budget: SpendBudget) {
        self.host = RecipientFirewall.normalized(host: host)
        self.budget = budget
    }
}
